// DESIGN: a fax user's own API tokens. POST shows the token's plaintext in its answer
// and never again (only its hash is stored); GET lists them with when each was last
// used (to the minute, db/auth.hpp) and whether it is revoked; DELETE revokes one. Only
// the caller's own tokens are visible: another user's token id is 404, the same as one
// that does not exist, so ids say nothing about other accounts. Level 2 and up: a
// level-0 account cannot use the fax API, so it has nothing to make tokens for.
#include <charconv>

#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/db/records.hpp"

namespace faxbridge::webapi {
namespace {

api::Reply create(Context& cx, api::Request& req) {
  api::Fields f(req.json());
  std::string name;
  std::optional<int> expires_in_days;
  f.required("name", name, api::Text{1, 100});
  f.optional("expires_in_days", expires_in_days, api::Range{1, 3650});
  if (auto problem = f.finish()) return *problem;
  const api::Principal& caller = *req.principal();
  const TimePoint now = cx.clock.now();
  std::optional<TimePoint> expires_at;
  if (expires_in_days) expires_at = now + std::chrono::hours(24) * *expires_in_days;
  auto made = cx.pool.transact([&](db::Tx& tx) -> Result<db::NewApiToken> {
    auto t = db::api_tokens::create(tx, caller.user_id, name, expires_at, now);
    if (!t) return t;
    auto a = db::audit::record(
        tx, audit_event(req, "token.create", "api_token", std::to_string(t->token.id), {{"name", name}}));
    if (!a) return a.error();
    return t;
  });
  if (!made) return made.error();
  auto body = token_json(made->token);
  body["token"] = made->plaintext;
  return api::Response::json(body, 201)
      .with_header("Location", "/api/v1/tokens/" + std::to_string(made->token.id))
      .with_header("Cache-Control", "no-store");  // the plaintext must not sit in a cache
}

api::Reply list(Context& cx, api::Request& req) {
  if (auto problem = refuse_unknown_query(req)) return *problem;
  auto tokens = cx.pool.transact([&](db::Tx& tx) { return db::api_tokens::list(tx, req.principal()->user_id); });
  if (!tokens) return tokens.error();
  nlohmann::json items = nlohmann::json::array();
  for (const auto& t : *tokens) items.push_back(token_json(t));
  return api::Response::json({{"tokens", items}});
}

api::Reply revoke(Context& cx, api::Request& req) {
  const auto text = req.param("id");
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  const api::Problem not_found(Code::k_auth_token_not_found, "You have no API token with the id " +
                                                                 std::string(text) + " that is not revoked.");
  if (ec != std::errc() || end != text.data() + text.size()) return not_found;
  const api::Principal& caller = *req.principal();
  auto revoked = cx.pool.transact([&](db::Tx& tx) -> Result<bool> {
    auto r = db::api_tokens::revoke(tx, caller.user_id, id, cx.clock.now());
    if (!r || !*r) return r;
    auto a = db::audit::record(tx, audit_event(req, "token.revoke", "api_token", std::to_string(id)));
    if (!a) return a.error();
    return r;
  });
  if (!revoked) return revoked.error();
  if (!*revoked) return not_found;
  return api::Response::no_content();
}

}  // namespace

nlohmann::json token_json(const db::ApiToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"created_at", iso8601_utc(t.created_at)},
          {"last_used_at", time_or_null(t.last_used_at)},
          {"expires_at", time_or_null(t.expires_at)},
          {"revoked_at", time_or_null(t.revoked_at)}};
}

std::vector<api::Route> token_routes(Context& cx) {
  return {
      {"POST", "/api/v1/tokens", api::kFaxUser, api::BodyKind::kJson, [&cx](api::Request& r) { return create(cx, r); }},
      {"GET", "/api/v1/tokens", api::kFaxUser, api::BodyKind::kNone, [&cx](api::Request& r) { return list(cx, r); }},
      {"DELETE", "/api/v1/tokens/{id}", api::kFaxUser, api::BodyKind::kNone,
       [&cx](api::Request& r) { return revoke(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
