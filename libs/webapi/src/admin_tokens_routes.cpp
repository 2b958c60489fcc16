// DESIGN: everybody's API tokens, for the administrator (level 10). GET lists them
// newest first with their owner (filter by user_id, hide revoked ones with
// revoked=false; cursor pages); DELETE revokes any live token (404 when unknown or
// revoked already, as for the owner's own DELETE /tokens/{id}); POST
// /admin/users/{id}/tokens makes a token for a user, e.g. an integration account that
// has no password: its text is in that answer only, like POST /tokens. A token made for
// a disabled user exists but is refused until the account is enabled. Each change is
// audited with the owner's id, so the owner's trail shows who made or revoked it.
#include <limits>

#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/records.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;

json owned_json(const db::ApiToken& t, const std::string& username) {
  json j = token_json(t);
  j["user"] = {{"id", t.user_id}, {"username", username}};
  return j;
}

api::Reply list(Context& cx, api::Request& req) {
  QueryCheck q(req);
  db::api_tokens::TokenQuery query;
  if (auto id = q.integer("user_id", 1, std::numeric_limits<std::int64_t>::max())) query.user_id = *id;
  query.include_revoked = q.boolean("revoked").value_or(true);
  query.limit = q.limit();
  query.before_id = q.cursor();
  q.known({"user_id", "revoked", "limit", "cursor"});
  if (auto problem = q.finish()) return *problem;
  const int page = query.limit;
  query.limit = page + 1;
  auto tokens = cx.pool.transact([&](db::Tx& tx) { return db::api_tokens::list_all(tx, query); });
  if (!tokens) return tokens.error();
  json items = json::array();
  json next = nullptr;
  for (std::size_t i = 0; i < tokens->size(); ++i) {
    if (static_cast<int>(i) == page) {
      next = encode_cursor((*tokens)[i - 1].token.id);
      break;
    }
    items.push_back(owned_json((*tokens)[i].token, (*tokens)[i].username));
  }
  return api::Response::json({{"tokens", items}, {"next_cursor", next}});
}

api::Problem token_not_found(std::string_view id) {
  return api::Problem(Code::k_auth_token_not_found,
                      "No API token with the id " + std::string(id) + " is live (unknown, or revoked already).");
}

api::Problem user_not_found(std::string_view id) {
  return api::Problem(Code::k_user_not_found, "No user has the id " + std::string(id) + ".");
}

api::Reply revoke(Context& cx, api::Request& req) {
  auto id = path_id(req, token_not_found);
  if (!id) return std::move(id).problem();
  auto revoked = cx.pool.transact([&](db::Tx& tx) -> Result<bool> {
    auto r = db::api_tokens::revoke_any(tx, *id, cx.clock.now());
    if (!r) return r.error();
    if (!*r) return false;
    auto a = db::audit::record(tx, audit_event(req, "token.revoke", "api_token", std::to_string(*id),
                                               {{"user_id", (*r)->user_id}, {"name", (*r)->name}}));
    if (!a) return a.error();
    return true;
  });
  if (!revoked) return revoked.error();
  if (!*revoked) return token_not_found(req.param("id"));
  return api::Response::no_content();
}

api::Reply create(Context& cx, api::Request& req) {
  auto user_id = path_id(req, user_not_found);
  if (!user_id) return std::move(user_id).problem();
  api::Fields f(req.json());
  std::string name;
  std::optional<int> expires_in_days;
  f.required("name", name, api::Text{1, 100});
  f.optional("expires_in_days", expires_in_days, api::Range{1, 3650});
  if (auto problem = f.finish()) return *problem;
  const TimePoint now = cx.clock.now();
  std::optional<TimePoint> expires_at;
  if (expires_in_days) expires_at = now + std::chrono::hours(24) * *expires_in_days;
  std::string username;
  auto made = cx.pool.transact([&](db::Tx& tx) -> Result<db::NewApiToken> {
    auto u = db::users::get(tx, *user_id);
    if (!u) return u.error();
    username = u->username;
    auto t = db::api_tokens::create(tx, *user_id, name, expires_at, now);
    if (!t) return t;
    auto a = db::audit::record(tx, audit_event(req, "token.create", "api_token", std::to_string(t->token.id),
                                               {{"user_id", *user_id}, {"name", name}}));
    if (!a) return a.error();
    return t;
  });
  if (!made) return made.error();
  json body = owned_json(made->token, username);
  body["token"] = made->plaintext;
  return api::Response::json(body, 201)
      .with_header("Location", "/api/v1/admin/tokens/" + std::to_string(made->token.id))
      .with_header("Cache-Control", "no-store");  // the plaintext must not sit in a cache
}

}  // namespace

std::vector<api::Route> admin_tokens_routes(Context& cx) {
  return {
      {"GET", "/api/v1/admin/tokens", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return list(cx, r); }},
      {"DELETE", "/api/v1/admin/tokens/{id}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return revoke(cx, r); }},
      {"POST", "/api/v1/admin/users/{id}/tokens", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return create(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
