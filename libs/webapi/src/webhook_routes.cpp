// DESIGN: webhook endpoints, the URLs the notifier (a later service) POSTs fax events
// to, signed the Standard Webhooks way (HMAC-SHA256 over "id.timestamp.body" with the
// endpoint's secret; webhook-id, webhook-timestamp and webhook-signature headers).
// The events are a fixed set (db::webhook_event_types(), the WebhookEvent enum in
// docs/api/openapi.yaml); an endpoint subscribes to some, or to every one with an empty
// list. The secret is made here: "whsec_" and the base64 of 32 random bytes
// (libsodium), shown in the answer that creates it and never again (GET shows none).
// POST .../rotate-secret makes a new one, shown once too; the old one stays for 24 hours
// (previous_secret_until), during which the notifier signs with both (Standard Webhooks
// allows several signatures in one header), so a receiver switches without losing a
// delivery. The secret is stored sealed under FAXBRIDGE_SECRET_KEY when web-api has it
// (and in clear without one, as before keys existed: an hmac endpoint must still work on
// a suite without the key; the notifier seals such a row at its next delivery when it has
// the key), so a copy of the database cannot sign as Faxbridge. URLs are http or https with a host and no user:password (a listing would
// show it). Administrators only (level 10); every change is audited with the change,
// never the secret.
// Signing: "hmac" (the default, v1 with the secret) or "ed25519" (Standard Webhooks'
// asymmetric v1a), chosen at creation: the key pair is made here (libs/webhook), the
// public key ("whpk_...") shown in every answer, the signing key kept for the notifier
// and never shown, stored sealed under FAXBRIDGE_SECRET_KEY (core/secret_box.hpp), so a
// copy of the database cannot sign deliveries; without the key an ed25519 endpoint
// cannot be made (secret.key_missing, 409).
// Whose: /api/v1/admin/webhooks is the administrator's view of every endpoint
// (system-wide ones, user_id null, and every user's); /api/v1/webhooks is a fax user's
// own (level 2): created with their user_id, and another user's endpoint answers
// webhook.not_found exactly as a missing one. A user's endpoint gets only that user's
// faxes (db::webhook_events).
// Deliveries: GET .../{id}/deliveries lists the endpoint's delivery log (one row per
// try, newest first, cursor-paged like the audit log); POST .../deliveries/{d}/redeliver
// queues one more try now with the same body and webhook-id (db::webhook_deliveries::
// redeliver), announced to the notifier; 202 with the new notification's id.
#include <sodium.h>

#include <algorithm>
#include <regex>

#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/queue.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/webhooks.hpp"
#include "faxbridge/webhook/signing.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;

constexpr std::size_t kSecretBytes = 32;  // Standard Webhooks asks for 24 to 64
constexpr std::chrono::hours kRotationOverlap{24};
constexpr std::size_t kMaxUrlLength = 2000;

api::Problem not_found(std::string_view id) {
  return api::Problem(Code::k_webhook_not_found,
                      "No webhook endpoint of yours has the id " + std::string(id) +
                          "; GET /api/v1/webhooks lists yours (administrators: /api/v1/admin/webhooks, every one).");
}

// Which endpoints a route works on: every one (administration) or the caller's own.
struct Scope {
  std::optional<std::int64_t> owner;  // none: every endpoint
  std::string base;                   // the collection's path, for Location
};

Scope scope_of(const api::Request& req, bool admin) {
  if (admin) return {std::nullopt, "/api/v1/admin/webhooks"};
  return {req.principal() ? std::optional<std::int64_t>(req.principal()->user_id) : std::optional<std::int64_t>(-1),
          "/api/v1/webhooks"};
}

// Whether the endpoint exists and the scope may see it (inside the caller's transaction).
Result<bool> visible(db::Tx& tx, const Scope& s, std::int64_t id) {
  auto w = db::webhooks::get(tx, id);
  if (!w) return w.error();
  return *w && (!s.owner || (*w)->user_id == s.owner);
}

Result<std::string> new_secret() {
  if (sodium_init() < 0) return Error(Code::k_internal, "libsodium could not be initialised.");
  unsigned char key[kSecretBytes];
  randombytes_buf(key, sizeof key);
  char b64[sodium_base64_ENCODED_LEN(kSecretBytes, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(b64, sizeof b64, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
  sodium_memzero(key, sizeof key);
  return "whsec_" + std::string(b64);
}

json webhook_json(const db::WebhookEndpoint& w) {
  return {{"id", w.id},
          {"url", w.url},
          {"description", w.description},
          {"events", w.events},
          {"enabled", w.enabled},
          {"previous_secret_expires_at", time_or_null(w.previous_secret_until)},
          {"user_id", w.user_id ? json(*w.user_id) : json(nullptr)},
          {"signing", w.signing},
          {"public_key", w.public_key ? json(*w.public_key) : json(nullptr)},
          {"created_at", iso8601_utc(w.created_at)},
          {"updated_at", iso8601_utc(w.updated_at)}};
}

void check_url(api::Fields& f, const std::optional<std::string>& url) {
  static const std::regex re(
      R"(^[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?([/?#][^\s]*)?$)");
  if (url && !std::regex_match(*url, re)) {
    f.reject("url", Code::k_api_field_invalid,
             "A webhook URL is http:// or https://, a host, and optionally a port and path "
             "(https://hooks.example.com/fax), without spaces or user:password.");
  }
}

void read_events(api::Fields& f, std::optional<std::vector<std::string>>& out) {
  if (!f.has("events")) return;
  std::vector<std::string> events;
  f.list("events", events, api::Items{0, 50}, api::Text{1, 64});
  const auto& known = db::webhook_event_types();
  std::vector<std::string> unique;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (std::find(known.begin(), known.end(), events[i]) == known.end()) {
      std::string names;
      for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
      f.reject("events", Code::k_api_field_invalid,
               "There is no event \"" + events[i] + "\" (item " + std::to_string(i) + "); the events are " + names + ".");
    } else if (std::find(unique.begin(), unique.end(), events[i]) == unique.end()) {
      unique.push_back(events[i]);
    }
  }
  out = std::move(unique);
}

api::Reply list(Context& cx, const Scope& s, api::Request& req) {
  if (auto problem = refuse_unknown_query(req)) return *problem;
  auto hooks = cx.pool.transact([](db::Tx& tx) { return db::webhooks::list(tx); });
  if (!hooks) return hooks.error();
  json items = json::array();
  for (const auto& w : *hooks) {
    if (!s.owner || w.user_id == s.owner) items.push_back(webhook_json(w));
  }
  return api::Response::json({{"webhooks", items}});
}

api::Reply get_one(Context& cx, const Scope& s, api::Request& req) {
  auto id = path_id(req, not_found);
  if (!id) return std::move(id).problem();
  auto w = cx.pool.transact([&](db::Tx& tx) { return db::webhooks::get(tx, *id); });
  if (!w) return w.error();
  if (!*w || (s.owner && (**w).user_id != s.owner)) return not_found(req.param("id"));
  return api::Response::json(webhook_json(**w));
}

// What is stored for a secret made here: sealed when web-api has the key.
std::string stored_secret(const Context& cx, const std::string& secret) {
  return cx.secret_key ? secret_box::seal(*cx.secret_key, secret) : secret;
}

api::Reply create(Context& cx, const Scope& s, api::Request& req) {
  api::Fields f(req.json());
  db::WebhookEndpoint w;
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  f.required("url", w.url, api::Text{1, kMaxUrlLength});
  if (f.has("url")) url = w.url;
  f.optional("description", w.description, api::Text{0, 200});
  f.optional("enabled", w.enabled);
  f.optional("signing", w.signing, api::OneOf{{"hmac", "ed25519"}});
  read_events(f, events);
  check_url(f, url);
  if (auto problem = f.finish()) return *problem;
  if (events) w.events = *events;
  if (w.signing == "ed25519") {
    if (!cx.secret_key) {
      return api::Problem(Code::k_secret_key_missing,
                          "An ed25519 endpoint's signing key is stored sealed under FAXBRIDGE_SECRET_KEY, which "
                          "web-api does not have: set it (the notifier's key, docs/configuration.md) or make an "
                          "hmac endpoint.");
    }
    auto keys = webhook::new_ed25519_keys();
    if (!keys) return keys.error();
    w.public_key = keys->public_key;
    w.signing_key = secret_box::seal(*cx.secret_key, keys->signing_key);
  }
  w.user_id = s.owner;
  auto secret = new_secret();
  if (!secret) return secret.error();
  w.secret = stored_secret(cx, *secret);
  auto made = cx.pool.transact([&](db::Tx& tx) -> Result<db::WebhookEndpoint> {
    auto m = db::webhooks::create(tx, w);
    if (!m) return m;
    auto a = db::audit::record(tx, audit_event(req, "webhook.create", "webhook", std::to_string(m->id),
                                               {{"url", w.url}, {"events", w.events}, {"enabled", w.enabled},
                                                {"signing", w.signing}}));
    if (!a) return a.error();
    return m;
  });
  if (!made) return made.error();
  auto body = webhook_json(*made);
  body["secret"] = *secret;
  return api::Response::json(body, 201)
      .with_header("Location", s.base + "/" + std::to_string(made->id))
      .with_header("Cache-Control", "no-store");  // the secret must not sit in a cache
}

api::Reply update(Context& cx, const Scope& s, api::Request& req) {
  auto id = path_id(req, not_found);
  if (!id) return std::move(id).problem();
  api::Fields f(req.json());
  db::WebhookChange change;
  f.optional("url", change.url, api::Text{1, kMaxUrlLength});
  f.optional("description", change.description, api::Text{0, 200});
  if (f.has("enabled")) {
    bool e = true;
    f.optional("enabled", e);
    change.enabled = e;
  }
  read_events(f, change.events);
  check_url(f, change.url);
  if (auto problem = f.finish()) return *problem;
  auto updated = cx.pool.transact([&](db::Tx& tx) -> Result<std::optional<db::WebhookEndpoint>> {
    auto v = visible(tx, s, *id);
    if (!v) return v.error();
    if (!*v) return std::optional<db::WebhookEndpoint>{};
    auto u = db::webhooks::update(tx, *id, change);
    if (!u || !*u) return u;
    auto a = db::audit::record(tx, audit_event(req, "webhook.update", "webhook", std::to_string(*id), req.json()));
    if (!a) return a.error();
    return u;
  });
  if (!updated) return updated.error();
  if (!*updated) return not_found(req.param("id"));
  return api::Response::json(webhook_json(**updated));
}

api::Reply remove(Context& cx, const Scope& s, api::Request& req) {
  auto id = path_id(req, not_found);
  if (!id) return std::move(id).problem();
  auto gone = cx.pool.transact([&](db::Tx& tx) -> Result<bool> {
    auto v = visible(tx, s, *id);
    if (!v || !*v) return v;
    auto r = db::webhooks::remove(tx, *id);
    if (!r || !*r) return r;
    auto a = db::audit::record(tx, audit_event(req, "webhook.delete", "webhook", std::to_string(*id)));
    if (!a) return a.error();
    return true;
  });
  if (!gone) return gone.error();
  if (!*gone) return not_found(req.param("id"));
  return api::Response::no_content();
}

api::Reply rotate(Context& cx, const Scope& s, api::Request& req) {
  auto id = path_id(req, not_found);
  if (!id) return std::move(id).problem();
  auto secret = new_secret();
  if (!secret) return secret.error();
  auto rotated = cx.pool.transact([&](db::Tx& tx) -> Result<std::optional<db::WebhookEndpoint>> {
    auto v = visible(tx, s, *id);
    if (!v) return v.error();
    if (!*v) return std::optional<db::WebhookEndpoint>{};
    auto r = db::webhooks::rotate_secret(tx, *id, stored_secret(cx, *secret), kRotationOverlap);
    if (!r || !*r) return r;
    auto a = db::audit::record(tx, audit_event(req, "webhook.rotate_secret", "webhook", std::to_string(*id)));
    if (!a) return a.error();
    return r;
  });
  if (!rotated) return rotated.error();
  if (!*rotated) return not_found(req.param("id"));
  auto body = webhook_json(**rotated);
  body["secret"] = *secret;
  return api::Response::json(body).with_header("Cache-Control", "no-store");
}

api::Problem delivery_not_found(std::string_view id) {
  return api::Problem(Code::k_webhook_delivery_not_found,
                      "This endpoint has no delivery " + std::string(id) + "; GET .../deliveries lists them.");
}

json delivery_json(const db::WebhookDelivery& d) {
  return {{"id", d.id},
          {"notification_id", d.notification_id},
          {"message_id", d.message_id},
          {"event", d.event},
          {"attempt", d.attempt},
          {"status", d.status ? json(*d.status) : json(nullptr)},
          {"duration_ms", d.duration_ms},
          {"error_code", d.error_code ? json(*d.error_code) : json(nullptr)},
          {"response_excerpt", d.response_excerpt},
          {"created_at", iso8601_utc(d.created_at)}};
}

api::Reply deliveries(Context& cx, const Scope& s, api::Request& req) {
  auto id = path_id(req, not_found);
  if (!id) return std::move(id).problem();
  QueryCheck q(req);
  const int page = q.limit();
  const std::int64_t before = q.cursor();
  q.known({"limit", "cursor"});
  if (auto problem = q.finish()) return *problem;
  auto rows = cx.pool.transact([&](db::Tx& tx) -> Result<std::optional<std::vector<db::WebhookDelivery>>> {
    auto v = visible(tx, s, *id);
    if (!v) return v.error();
    if (!*v) return std::optional<std::vector<db::WebhookDelivery>>{};
    auto l = db::webhook_deliveries::list(tx, *id, page + 1, before);
    if (!l) return l.error();
    return std::optional<std::vector<db::WebhookDelivery>>(std::move(*l));
  });
  if (!rows) return rows.error();
  if (!*rows) return not_found(req.param("id"));
  json items = json::array();
  json next = nullptr;
  for (std::size_t i = 0; i < (*rows)->size(); ++i) {
    if (static_cast<int>(i) == page) {
      next = encode_cursor((**rows)[i - 1].id);
      break;
    }
    items.push_back(delivery_json((**rows)[i]));
  }
  return api::Response::json({{"deliveries", items}, {"next_cursor", next}});
}

api::Reply redeliver(Context& cx, const Scope& s, api::Request& req) {
  auto id = path_id(req, not_found);
  if (!id) return std::move(id).problem();
  const auto delivery = parse_id(req.param("delivery_id"));
  if (!delivery) return delivery_not_found(req.param("delivery_id"));
  enum class Outcome { kQueued, kNoEndpoint, kNoDelivery, kDisabled };
  Outcome outcome = Outcome::kQueued;
  std::int64_t notification = 0;
  auto r = cx.pool.transact([&](db::Tx& tx) -> Result<void> {
    auto w = db::webhooks::get(tx, *id);
    if (!w) return w.error();
    if (!*w || (s.owner && (**w).user_id != s.owner)) {
      outcome = Outcome::kNoEndpoint;
      return ok();
    }
    if (!(*w)->enabled) {
      outcome = Outcome::kDisabled;
      return ok();
    }
    auto n = db::webhook_deliveries::redeliver(tx, *id, *delivery);
    if (!n) return n.error();
    if (!*n) {
      outcome = Outcome::kNoDelivery;
      return ok();
    }
    outcome = Outcome::kQueued;
    notification = **n;
    auto a = db::audit::record(tx, audit_event(req, "webhook.redeliver", "webhook", std::to_string(*id),
                                               {{"delivery_id", *delivery}, {"notification_id", notification}}));
    if (!a) return a.error();
    return ok();
  });
  if (!r) return r.error();
  switch (outcome) {
    case Outcome::kNoEndpoint: return not_found(req.param("id"));
    case Outcome::kNoDelivery: return delivery_not_found(req.param("delivery_id"));
    case Outcome::kDisabled:
      return api::Problem(Code::k_webhook_endpoint_disabled,
                          "Webhook endpoint " + std::to_string(*id) +
                              " is disabled; enable it (PATCH " + s.base + "/" + std::to_string(*id) +
                              " with \"enabled\": true) before redelivering.");
    case Outcome::kQueued: break;
  }
  if (cx.announcer) cx.announcer->work(db::notification_queue().stage(), notification);
  return api::Response::json({{"notification_id", notification}, {"delivery_id", *delivery}}, 202);
}

}  // namespace

std::vector<api::Route> webhook_routes(Context& cx) {
  std::vector<api::Route> routes;
  // The same endpoints twice: the administration's (every endpoint) and a user's own.
  for (const bool admin : {true, false}) {
    const std::string base = admin ? "/api/v1/admin/webhooks" : "/api/v1/webhooks";
    const api::Access access = admin ? api::kAdministrator : api::kFaxUser;
    auto on = [&cx, admin](api::Reply (*fn)(Context&, const Scope&, api::Request&)) {
      return [&cx, admin, fn](api::Request& r) { return fn(cx, scope_of(r, admin), r); };
    };
    routes.push_back({"GET", base, access, api::BodyKind::kNone, on(list)});
    routes.push_back({"POST", base, access, api::BodyKind::kJson, on(create)});
    routes.push_back({"GET", base + "/{id}", access, api::BodyKind::kNone, on(get_one)});
    routes.push_back({"PATCH", base + "/{id}", access, api::BodyKind::kJson, on(update)});
    routes.push_back({"DELETE", base + "/{id}", access, api::BodyKind::kNone, on(remove)});
    routes.push_back({"POST", base + "/{id}/rotate-secret", access, api::BodyKind::kNone, on(rotate)});
    routes.push_back({"GET", base + "/{id}/deliveries", access, api::BodyKind::kNone, on(deliveries)});
    routes.push_back({"POST", base + "/{id}/deliveries/{delivery_id}/redeliver", access, api::BodyKind::kNone,
                      on(redeliver)});
  }
  return routes;
}

}  // namespace faxbridge::webapi
