// DESIGN: see authenticator.hpp. One short unit of work per request: the lookup, and at
// most one write a minute per credential (last-used, sliding renewal). A token's is
// one prepared statement run in autocommit (db::Pool::autocommit).
#include "faxbridge/webapi/authenticator.hpp"

namespace faxbridge::webapi {

Result<void> refuse_disabled(const db::User& user) {
  if (!user.disabled) return ok();
  return Error(Code::k_auth_account_disabled,
               "This account is disabled; an administrator can enable it again.")
      .with("user", user.username);
}

Result<std::optional<api::Principal>> DbAuthenticator::authenticate(const api::Credentials& c) {
  const TimePoint now = clock_.now();
  api::Principal p;
  if (c.bearer_token) {
    // One statement (and the last-used write once a minute), each its own commit: no
    // BEGIN and COMMIT round trips on the request path.
    auto found = pool_.autocommit([&](db::Tx& tx) { return db::api_tokens::authenticate(tx, *c.bearer_token, now); });
    if (!found) return found.error();
    if (!*found) {
      return Error(Code::k_api_unauthenticated,
                   "The API token is unknown, expired or revoked; create a new one (faxbridge tokens create).");
    }
    if (auto refused = refuse_disabled((*found)->user); !refused) return refused.error();
    p.user_id = (*found)->user.id;
    p.username = (*found)->user.username;
    p.level = (*found)->user.permission_level;
    p.method = api::AuthMethod::kToken;
    return std::optional<api::Principal>(std::move(p));
  }
  if (c.session_cookie) {
    auto found = pool_.transact(
        [&](db::Tx& tx) { return db::sessions::authenticate(tx, *c.session_cookie, policy_, now); });
    if (!found) return found.error();
    if (!*found) return Error(Code::k_api_unauthenticated, "The session has ended; sign in again.");
    if (auto refused = refuse_disabled((*found)->user); !refused) return refused.error();
    if (auto csrf = api::check_csrf(c, db::csrf_token_for(*c.session_cookie)); !csrf) return csrf.error();
    p.user_id = (*found)->user.id;
    p.username = (*found)->user.username;
    p.level = (*found)->user.permission_level;
    p.method = api::AuthMethod::kSession;
    return std::optional<api::Principal>(std::move(p));
  }
  return std::optional<api::Principal>{};
}

}  // namespace faxbridge::webapi
