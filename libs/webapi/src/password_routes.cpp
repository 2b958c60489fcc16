// DESIGN: PUT /api/v1/me/password, the caller changing their own password.
// - A session only: an API token is refused (auth.session_required). A token is a
//   bearer credential that lives in scripts and CI variables; whoever holds one must not
//   be able to turn it into the account's web sign-in. A session's PUT also carries the
//   CSRF check every unsafe session request has (libs/api).
// - The current password is required even in a session: an unattended signed-in
//   browser must not be enough to take the account over. A wrong one is
//   auth.current_password_wrong (403), and every try first takes one attempt from the
//   same address and account buckets POST /session uses (api::Throttle), so a stolen
//   session gives no faster password oracle than the sign-in form; success clears the
//   account's bucket, as a sign-in does.
// - The new password meets the policy admin user creation enforces
//   (password::kMinLength, checked as a field: 422 naming /new_password). It may equal
//   the current one: that is harmless and still ends the other sessions.
// - Success ends every other session of the user and keeps the caller's (same cookie,
//   same CSRF token: the page that made the change keeps working; an attacker would
//   have needed the old password to make it). API tokens stay: they are listed in
//   GET /tokens for the user to review. The hash is replaced only while it is still the
//   one verified (compare-and-set), so two concurrent changes cannot both win.
// Argon2id verification and hashing (~0.1 s each) run outside any transaction, so they
// hold no pooled connection.
#include <algorithm>

#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/core/password.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::webapi {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

api::Problem wrong_current_password() {
  return api::Problem(Code::k_auth_current_password_wrong,
                      "The current password is wrong; type the password you signed in with.");
}

api::Reply change_password(Context& cx, api::Request& req) {
  const api::Principal& caller = *req.principal();
  if (caller.method != api::AuthMethod::kSession) {
    return api::Problem(Code::k_auth_session_required,
                        "Changing the password needs a signed-in session (POST /api/v1/session), not an API token.");
  }
  api::Fields f(req.json());
  std::string current_text, new_text;
  f.required("current_password", current_text, api::Text{1, 1024});
  f.required("new_password", new_text, api::Text{password::kMinLength, 1024});
  if (auto problem = f.finish()) return *problem;

  // The sign-in buckets, in sign-in's order (the address first).
  const auto address_key = "address:" + req.remote_address();
  const auto account_key = "account:" + lower(caller.username);
  for (auto* t : {&cx.address_throttle, &cx.account_throttle}) {
    const auto decision = t->attempt(t == &cx.address_throttle ? address_key : account_key);
    if (!decision.allowed) {
      log::warn("webapi.password_change_throttled", {{"request_id", req.request_id()}, {"user_id", caller.user_id}});
      return api::rate_limited(decision.retry_after,
                               "Too many password attempts; wait " + std::to_string(decision.retry_after.count()) +
                                   " seconds before trying again.");
    }
  }

  auto user = cx.pool.transact([&](db::Tx& tx) { return db::users::get(tx, caller.user_id); });
  if (!user) return user.error();
  // A user without a password (an administrator removed it) pays the decoy check too.
  const bool has_password = user->password_hash.has_value();
  const bool verified =
      password::verify(has_password ? *user->password_hash : cx.decoy_hash, current_text) && has_password;
  if (!verified) {
    log::info("webapi.password_change_refused", {{"request_id", req.request_id()}, {"user_id", caller.user_id}});
    return wrong_current_password();
  }
  auto new_hash = password::hash(new_text);
  if (!new_hash) return new_hash.error();

  const auto secret = api::cookie_value(req.header("Cookie").value_or(""), cx.cookie.name).value_or("");
  auto done = cx.pool.transact([&](db::Tx& tx) -> Result<bool> {
    auto replaced = db::users::replace_password_hash(tx, caller.user_id, *user->password_hash, *new_hash);
    if (!replaced || !*replaced) return replaced;
    auto ended = db::sessions::remove_for_user(tx, caller.user_id, secret);
    if (!ended) return ended.error();
    auto a = db::audit::record(tx, audit_event(req, "user.password_change", "user", std::to_string(caller.user_id),
                                               {{"sessions_ended", *ended}}));
    if (!a) return a.error();
    return true;
  });
  if (!done) return done.error();
  // Changed by somebody else since it was verified: the password typed is not the
  // current one any more.
  if (!*done) return wrong_current_password();
  cx.account_throttle.reset(account_key);
  log::info("webapi.password_changed", {{"request_id", req.request_id()}, {"user_id", caller.user_id}});
  return api::Response::no_content();
}

}  // namespace

std::vector<api::Route> password_routes(Context& cx) {
  return {
      {"PUT", "/api/v1/me/password", api::kSignedIn, api::BodyKind::kJson,
       [&cx](api::Request& r) { return change_password(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
