// DESIGN: signing in and out, and the caller's own account.
// POST /api/v1/session takes {username, password}. Before any password is checked, one
// attempt is taken from the remote address's bucket and one from the account's
// (api::Throttle): a guesser gets `burst` quick tries per account, then one a minute,
// and one address cannot spread its guesses over many accounts. A refusal is 429 with
// Retry-After. An unknown user, a user without a web password and a wrong password get
// the same 401, and all three pay one Argon2id verification (the decoy hash for the
// first two), so neither the body nor the time says which usernames exist. A right
// password on a disabled account is auth.account_disabled: only somebody who knows the
// password learns that. The password is verified outside any transaction: it takes
// ~0.1 s of CPU and must not hold a pooled connection meanwhile.
// Success clears the account's bucket, creates the session, purges ended ones (indexed,
// so it costs little and needs no timer), and answers the CSRF token and the user;
// the cookie carries the secret.
#include <algorithm>

#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/core/password.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/webapi/authenticator.hpp"

namespace faxbridge::webapi {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

api::Problem wrong_credentials() {
  return api::unauthenticated("The username or password is wrong.");
}

api::Reply sign_in(Context& cx, api::Request& req) {
  api::Fields f(req.json());
  std::string username, password_text;
  f.required("username", username, api::Text{1, 64});
  f.required("password", password_text, api::Text{1, 1024});
  if (auto problem = f.finish()) return *problem;

  const auto address_key = "address:" + req.remote_address();
  const auto account_key = "account:" + lower(username);
  struct Bucket {
    api::Throttle& throttle;
    const std::string& key;
    const char* by;
  };
  // The address first: a flood of usernames from one address does not drain accounts.
  for (const Bucket& b : {Bucket{cx.address_throttle, address_key, "address"},
                          Bucket{cx.account_throttle, account_key, "account"}}) {
    const auto decision = b.throttle.attempt(b.key);
    if (!decision.allowed) {
      log::warn("webapi.sign_in_throttled", {{"request_id", req.request_id()}, {"by", b.by}});
      return api::rate_limited(decision.retry_after,
                               "Too many sign-in attempts; wait " + std::to_string(decision.retry_after.count()) +
                                   " seconds before trying again.");
    }
  }

  auto found = cx.pool.transact([&](db::Tx& tx) -> Result<std::optional<db::User>> {
    auto u = db::users::by_username(tx, username);
    if (!u) {
      if (u.error().code == Code::k_user_not_found) return std::optional<db::User>{};
      return u.error();
    }
    return std::optional<db::User>(std::move(*u));
  });
  if (!found) return found.error();
  const bool has_password = *found && (*found)->password_hash;
  const bool verified =
      password::verify(has_password ? *(*found)->password_hash : cx.decoy_hash, password_text) && has_password;
  if (!verified) {
    log::info("webapi.sign_in_refused", {{"request_id", req.request_id()}, {"reason", "credentials"}});
    return wrong_credentials();
  }
  const db::User& user = **found;
  if (auto refused = refuse_disabled(user); !refused) return refused.error();

  cx.account_throttle.reset(account_key);
  const TimePoint now = cx.clock.now();
  auto session = cx.pool.transact([&](db::Tx& tx) -> Result<db::NewSession> {
    if (auto purged = db::sessions::purge_expired(tx, now); !purged) return purged.error();
    auto s = db::sessions::create(tx, user.id, cx.sessions, now, req.header("User-Agent").value_or(""),
                                  req.remote_address());
    if (!s) return s;
    // The caller is not a principal yet: the row names the user who signed in.
    const db::AuditEvent event{user.id, user.username, "session.create", "user",
                               std::to_string(user.id), "{}", req.remote_address()};
    auto a = db::audit::record(tx, event);
    if (!a) return a.error();
    return s;
  });
  if (!session) return session.error();
  log::info("webapi.signed_in", {{"request_id", req.request_id()}, {"user_id", user.id}});
  nlohmann::json body = {{"csrf_token", session->csrf_token},
                         {"expires_at", iso8601_utc(session->expires_at)},
                         {"user", user_json(user)}};
  return api::Response::json(body, 201).with_header("Set-Cookie", session_cookie(cx.cookie, session->secret));
}

api::Reply sign_out(Context& cx, api::Request& req) {
  const api::Principal& caller = *req.principal();
  // A token caller has no session to end (tokens are revoked with DELETE /tokens/{id});
  // the answer is the same, so a client that signs out blindly is not punished.
  if (caller.method == api::AuthMethod::kSession) {
    const auto secret = api::cookie_value(req.header("Cookie").value_or(""), cx.cookie.name).value_or("");
    auto removed = cx.pool.transact([&](db::Tx& tx) -> Result<bool> {
      auto r = db::sessions::remove(tx, secret);
      if (!r) return r;
      auto a = db::audit::record(tx, audit_event(req, "session.delete", "user", std::to_string(caller.user_id)));
      if (!a) return a.error();
      return r;
    });
    if (!removed) return removed.error();
  }
  return api::Response::no_content().with_header("Set-Cookie", cleared_session_cookie(cx.cookie));
}

api::Reply me(Context& cx, api::Request& req) {
  const api::Principal& caller = *req.principal();
  auto user = cx.pool.transact([&](db::Tx& tx) { return db::users::get(tx, caller.user_id); });
  if (!user) return user.error();
  nlohmann::json body = user_json(*user);
  body["auth"] = caller.method == api::AuthMethod::kSession ? "session" : "token";
  if (caller.method == api::AuthMethod::kSession) {
    // A reloaded page has lost the token sign-in gave it; it is the same token.
    const auto secret = api::cookie_value(req.header("Cookie").value_or(""), cx.cookie.name).value_or("");
    body["csrf_token"] = db::csrf_token_for(secret);
  }
  return api::Response::json(body);
}

}  // namespace

nlohmann::json user_json(const db::User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"name", u.display_name},
          {"email", u.email},
          {"level", u.permission_level},
          {"level_inherited", !u.own_permission_level.has_value()},
          {"fax_number", u.fax_number ? nlohmann::json(*u.fax_number) : nlohmann::json(nullptr)}};
}

std::vector<api::Route> session_routes(Context& cx) {
  return {
      {"POST", "/api/v1/session", api::kPublic, api::BodyKind::kJson,
       [&cx](api::Request& r) { return sign_in(cx, r); }},
      {"DELETE", "/api/v1/session", api::kSignedIn, api::BodyKind::kNone,
       [&cx](api::Request& r) { return sign_out(cx, r); }},
      {"GET", "/api/v1/me", api::kSignedIn, api::BodyKind::kNone, [&cx](api::Request& r) { return me(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
