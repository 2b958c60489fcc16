// `faxbridge tokens create USERNAME [--name N]`: the first API token, through the
// database, before anybody can sign in to the API to make one. The token goes alone
// on stdout (`TOKEN=$(faxbridge tokens create admin)`), the note that it is shown once
// on stderr; only its hash is stored, so a lost token is replaced, never recovered.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::cli {

int tokens_create(const std::string& dsn, const std::string& username, const std::string& name, std::ostream& out,
                  std::ostream& err) {
  db::Pool pool(db::PoolSettings{dsn, 1});
  auto made = pool.transact([&](db::Tx& tx) -> Result<std::pair<db::User, db::NewApiToken>> {
    auto user = db::users::by_username(tx, username);
    if (!user) return user.error();
    auto token = db::api_tokens::create(tx, user->id, name, std::nullopt, std::chrono::system_clock::now());
    if (!token) return token.error();
    auto a = db::audit::record(tx, {std::nullopt, "cli", "token.create", "api_token", std::to_string(token->token.id),
                                    nlohmann::json({{"name", name}, {"user", user->username}}).dump()});
    if (!a) return a.error();
    return std::make_pair(std::move(*user), std::move(*token));
  });
  if (!made) return fail(err, made.error());
  const auto& [user, token] = *made;
  out << token.plaintext << "\n";
  err << "Created API token " << token.token.id << " (\"" << token.token.name << "\") for " << user.username
      << " (permission level " << user.permission_level << "). It is shown only now: store it; "
      << "send it as \"Authorization: Bearer <token>\".\n";
  return 0;
}

}  // namespace faxbridge::cli
