// DESIGN: one webhook try per handle(), in three steps, no transaction open while the
// network is:
// 1. Read (one transaction): the notification, its endpoint and the settings. At the
//    first try the body {"type", "timestamp", "data"} is rendered (data: the fax object
//    the API returns, libs/apijson) and stored in the row's payload with its message id
//    ("msg_" + the notification id), committed before anything is sent, so every retry
//    and a redelivery (a copy of the payload) send the same bytes under the same
//    webhook-id. The event's timestamp is when the row was written (the state change);
//    webhook-timestamp is the try's, as Standard Webhooks asks.
//    The one part minted afresh at every try is data.links: the fax's file as signed
//    download links (core/signed_link.hpp; pdf and tiff, valid webhooks.link_lifetime_s
//    from this try, under web.public_base_url), never the bytes themselves. A link
//    minted once and stored would reach a receiver that was down for a few hours (the
//    backoff's later tries) or a redelivery already expired; so the stored body is the
//    event, and each try sends it with its own links ("links": null when the fax has no
//    pages or the notifier has no FAXBRIDGE_SECRET_KEY). The rest of the bytes are the
//    stored ones (nlohmann dumps the parsed body back identically: sorted keys, no floats).
//    An ed25519 endpoint's signing key and an hmac endpoint's secrets are opened at the
//    send from their sealed form; one still stored in clear (made before they were
//    sealed, or by a web-api without FAXBRIDGE_SECRET_KEY) is sealed in this transaction
//    when the notifier has the key.
// 2. Send: the URL's host resolved and checked once (address.hpp: SSRF guard, the
//    connection goes to the checked address), signed (signing.hpp: v1 with the secret,
//    and with the previous secret while a rotation overlaps; v1a for ed25519 endpoints),
//    POSTed within the timeout and the answer cap (http_post.hpp); an https receiver's
//    certificate checked against the system's bundle and webhooks.ca_file, a failed check
//    (webhook.tls_failed) retried with the backoff like an unreachable receiver.
// 3. Write (one transaction): the webhook_deliveries row, then the notification: sent;
//    back to pending after the backoff's next delay; or failed. A row fails for good when
//    its tries are used up (webhook.retries_exhausted: the endpoint is disabled and its
//    owner, the user's mail or company.admin_email, gets an admin_alert), at once when
//    its address is refused (the setting may be turned on; nothing to disable), when the
//    endpoint is disabled or gone, and on 410 Gone (the spec: the receiver wants no more;
//    disabled, owner told). A lost lease rolls back (queue.lease_lost): the new holder
//    owns the row and the try's log is dropped with it.
#include "faxbridge/webhook/dispatcher.hpp"

#include <nlohmann/json.hpp>

#include <random>

#include <sodium.h>

#include "faxbridge/apijson/fax_json.hpp"
#include "faxbridge/core/clock.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/faxes.hpp"
#include "faxbridge/db/inbox.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/db/webhooks.hpp"
#include "faxbridge/webhook/address.hpp"
#include "faxbridge/webhook/signing.hpp"
#include "http_post.hpp"

namespace faxbridge::webhook {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAllowPrivate = "webhooks.allow_private_addresses";
constexpr const char* kCaFile = "webhooks.ca_file";

bool is_db_error(const Error& e) { return e.name().substr(0, 3) == "db."; }

Error lease_lost() { return Error(Code::k_queue_lease_lost, "Another notifier took this webhook delivery over."); }

struct Prepared {
  db::WebhookMessage message;
  std::string signing_key;  // an ed25519 endpoint's, as stored (sealed, or in clear before it was)
  std::optional<signed_link::Link> file;  // the fax whose file the links give; none: no pages
  std::string public_base_url;
  std::int64_t link_lifetime_s = 3600;
  std::optional<db::WebhookEndpoint> endpoint;
  bool allow_private = false;
  std::string ca_file;  // webhooks.ca_file: private CAs trusted besides the system's bundle
  std::string admin_email;
  std::string owner_email;   // the endpoint user's mail, if a user's
  std::optional<Error> refusal;  // the row cannot be delivered (endpoint gone or disabled, body not renderable)
};

std::string render(const db::WebhookMessage& m, const nlohmann::json& data) {
  return nlohmann::json{{"type", m.event}, {"timestamp", iso8601_utc(m.created_at)}, {"data", data}}.dump();
}

constexpr const char* kBaseUrl = "web.public_base_url";
constexpr const char* kLinkLifetime = "webhooks.link_lifetime_s";

std::string default_base_url() {
  const db::SettingSpec* spec = db::find_setting(kBaseUrl);
  return spec ? nlohmann::json::parse(spec->default_json).get<std::string>() : "http://127.0.0.1:8080";
}

// The stored body with this try's data.links; the body as it is when it has no fax object.
std::string with_links(const std::string& body, const nlohmann::json& links) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("data") || !j["data"].is_object() || !j["data"].contains("id")) {
    return body;
  }
  j["data"]["links"] = links;
  return j.dump();
}

// A signing secret as stored: opened when sealed (the notifier needs the key for that),
// as it is when in clear. `what` names it in the error.
Result<std::string> open_secret(const std::optional<secret_box::Key>& key, const std::string& stored, const char* what) {
  if (!secret_box::is_sealed(stored)) return stored;
  if (!key) {
    return Error(Code::k_secret_key_missing, std::string("The endpoint's ") + what +
                                                 " is sealed under FAXBRIDGE_SECRET_KEY, which the notifier does not "
                                                 "have: set it (web-api's key) and redeliver.");
  }
  return secret_box::open(*key, stored);
}

std::chrono::milliseconds jittered(std::chrono::milliseconds d, double jitter) {
  if (jitter <= 0 || d.count() <= 0) return d;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> u(0.0, jitter);
  return d + std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(d.count()) * u(rng)));
}

}  // namespace

std::vector<std::chrono::milliseconds> standard_backoff() {
  return {5s, 5min, 30min, 2h, 5h, 10h, 10h};
}

Dispatcher::Dispatcher(db::Pool& pool, db::Queue& queue, DispatcherSettings settings)
    : pool_(pool), queue_(queue), settings_(std::move(settings)) {
  if (settings_.secret_key) {
    link_key_ = signed_link::LinkKey::derive(*settings_.secret_key);
  } else {
    log::warn("webhook.no_secret_key",
              {{"detail", "FAXBRIDGE_SECRET_KEY is not set: webhook bodies carry no download links (\"links\": null) "
                          "and ed25519 endpoints cannot sign (docs/configuration.md)."}});
  }
}

Result<void> Dispatcher::handle(const Claim& claim, const bus::LeaseToken& lease) {
  // 1. Read, and render the body once.
  auto prepared = pool_.transact([&](db::Tx& tx) -> Result<Prepared> {
    Prepared p;
    auto m = db::webhook_deliveries::load(tx, claim.id);
    if (!m) return m.error();
    if (!*m) return Error(Code::k_notification_not_found, "Notification " + std::to_string(claim.id) + " is gone.");
    p.message = std::move(**m);
    auto snap = db::settings::load(tx);
    if (!snap) return snap.error();
    // The catalog's value once the setting is in it; its stored row until then.
    auto allow = db::webhook_deliveries::private_addresses_allowed(tx);
    if (!allow) return allow.error();
    p.allow_private = snap->get_bool(kAllowPrivate) || *allow;
    p.admin_email = snap->get_string("company.admin_email");
    p.ca_file = snap->get_string(kCaFile);
    p.public_base_url = snap->get_string(kBaseUrl);
    if (p.public_base_url.empty()) p.public_base_url = default_base_url();
    p.link_lifetime_s = snap->get_int(kLinkLifetime);
    if (p.message.webhook_id) {
      auto w = db::webhooks::get(tx, *p.message.webhook_id);
      if (!w) return w.error();
      p.endpoint = std::move(*w);
    }
    if (p.endpoint && p.endpoint->user_id) {
      auto u = db::users::get(tx, *p.endpoint->user_id);
      if (u) p.owner_email = u->email;
    }
    if (p.endpoint && p.endpoint->signing == "ed25519" && p.endpoint->signing_key) {
      p.signing_key = *p.endpoint->signing_key;
      if (!secret_box::is_sealed(p.signing_key) && settings_.secret_key) {
        const std::string sealed = secret_box::seal(*settings_.secret_key, p.signing_key);
        auto sealed_now = db::webhooks::seal_signing_key(tx, p.endpoint->id, p.signing_key, sealed);
        if (!sealed_now) return sealed_now.error();
        if (*sealed_now) log::info("webhook.signing_key_sealed", {{"webhook", p.endpoint->id}});
      }
    }
    if (p.endpoint && p.endpoint->signing != "ed25519" && settings_.secret_key) {
      const auto& e = *p.endpoint;
      const bool previous_clear = e.previous_secret && !secret_box::is_sealed(*e.previous_secret);
      if (!secret_box::is_sealed(e.secret) || previous_clear) {
        const std::string sealed =
            secret_box::is_sealed(e.secret) ? e.secret : secret_box::seal(*settings_.secret_key, e.secret);
        std::optional<std::string> previous_sealed;
        if (previous_clear) previous_sealed = secret_box::seal(*settings_.secret_key, *e.previous_secret);
        auto sealed_now = db::webhooks::seal_secrets(tx, e.id, e.secret, sealed,
                                                     previous_clear ? e.previous_secret : std::nullopt, previous_sealed);
        if (!sealed_now) return sealed_now.error();
        if (*sealed_now) log::info("webhook.secret_sealed", {{"webhook", e.id}});
      }
    }
    if (!p.endpoint || !p.endpoint->enabled) {
      p.refusal = Error(Code::k_webhook_endpoint_disabled,
                        "The webhook endpoint is disabled or was deleted; enable it and redeliver.");
      return p;
    }
    if (!p.message.body) {
      nlohmann::json data;
      if (p.message.job_id) {
        auto f = db::faxes::get(tx, *p.message.job_id);
        if (!f) {
          if (is_db_error(f.error())) return f.error();
          p.refusal = f.error();
          return p;
        }
        data = apijson::fax_json(*f);
      } else if (p.message.received_fax_id) {
        auto f = db::inbox::find(tx, *p.message.received_fax_id, std::nullopt);
        if (!f) return f.error();
        if (!*f) {
          p.refusal = Error(Code::k_inbox_not_found, "The received fax of this event is gone.");
          return p;
        }
        data = apijson::inbox_fax_json(**f);
      } else {
        data = nlohmann::json::object();
      }
      const std::string id = "msg_" + std::to_string(p.message.id);
      const std::string body = render(p.message, data);
      if (auto s = db::webhook_deliveries::store_body(tx, p.message.id, id, body); !s) return s.error();
      p.message.message_id = id;
      p.message.body = body;
    }
    // Whether the fax has a file now (retention may have taken it since the first try).
    if (p.message.job_id) {
      auto j = db::jobs::get(tx, *p.message.job_id);
      if (!j && j.error().code != Code::k_job_not_found) return j.error();
      if (j && j->pages_document_id) p.file = signed_link::Link{std::string(signed_link::kFaxes), j->id, "", 0};
    } else if (p.message.received_fax_id) {
      auto f = db::inbox::find(tx, *p.message.received_fax_id, std::nullopt);
      if (!f) return f.error();
      if (*f && (*f)->tiff_document_id) {
        p.file = signed_link::Link{std::string(signed_link::kInbox), (*f)->id, "", 0};
      }
    }
    return p;
  });
  if (!prepared) {
    if (prepared.error().code == Code::k_notification_not_found) return ok();  // deleted with its endpoint or fax
    return prepared.error();
  }
  Prepared& p = *prepared;
  const int attempt = p.message.attempts + 1;

  // 2. Send.
  detail::PostOutcome outcome;
  std::optional<Error> final_error = p.refusal;
  bool disable = false;
  if (!final_error) {
    auto target = parse_url(p.endpoint->url);
    if (target) target = resolve(std::move(*target), p.allow_private);
    if (!target) {
      outcome.error = target.error();
      if (target.error().code == Code::k_webhook_address_refused) final_error = target.error();
    } else {
      const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                   SystemClock::instance().now().time_since_epoch()).count();
      std::vector<std::string> signatures;
      Result<std::string> sig = Error(Code::k_internal, "unsigned");
      // This try's body: the stored event with links valid from now.
      nlohmann::json links = nullptr;
      if (p.file && link_key_) {
        signed_link::Link l = *p.file;
        l.expires = now + p.link_lifetime_s;
        links = nlohmann::json::object();
        for (const char* format : {"pdf", "tiff"}) {
          l.format = format;
          links[format] = signed_link::url(p.public_base_url, l, *link_key_);
        }
        links["expires_at"] = iso8601_utc(TimePoint(std::chrono::seconds(l.expires)));
      }
      const std::string body = with_links(*p.message.body, links);
      if (p.endpoint->signing == "ed25519") {
        auto key = open_secret(settings_.secret_key, p.signing_key, "Ed25519 signing key");
        sig = key ? sign_v1a(*key, *p.message.message_id, now, body) : Result<std::string>(key.error());
        if (key) sodium_memzero(key->data(), key->size());  // the clear key lives no longer than the signature
        if (sig) signatures.push_back(*sig);
      } else {
        auto secret = open_secret(settings_.secret_key, p.endpoint->secret, "secret");
        sig = secret ? sign_v1(*secret, *p.message.message_id, now, body) : Result<std::string>(secret.error());
        if (secret) sodium_memzero(secret->data(), secret->size());
        if (sig) signatures.push_back(*sig);
        if (sig && p.endpoint->previous_secret && p.endpoint->previous_secret_until &&
            *p.endpoint->previous_secret_until > SystemClock::instance().now()) {
          auto previous = open_secret(settings_.secret_key, *p.endpoint->previous_secret, "previous secret");
          auto old = previous ? sign_v1(*previous, *p.message.message_id, now, body) : Result<std::string>(previous.error());
          if (previous) sodium_memzero(previous->data(), previous->size());
          if (old) signatures.push_back(*old);
          else log::warn("webhook.previous_secret_unusable", {{"webhook", p.endpoint->id}, {"error", old.error().message}});
        }
      }
      if (!sig) {
        final_error = sig.error();
      } else {
        const std::map<std::string, std::string> headers{
            {"Content-Type", "application/json"},
            {"User-Agent", "Faxbridge-Webhooks/1"},
            {"webhook-id", *p.message.message_id},
            {"webhook-timestamp", std::to_string(now)},
            {"webhook-signature", signature_header(signatures)}};
        outcome = detail::post(*target, headers, body, settings_.timeout, settings_.max_response_bytes, p.ca_file);
        if (outcome.status == 410) {
          final_error = *outcome.error;
          disable = true;
        }
      }
    }
  }
  if (final_error && !outcome.error) outcome.error = final_error;
  const bool delivered = !outcome.error;
  const bool exhausted = !delivered && !final_error && attempt > static_cast<int>(settings_.backoff.size());
  if (exhausted) {
    final_error = Error(Code::k_webhook_retries_exhausted,
                        "Every one of " + std::to_string(attempt) + " tries failed (the last: " +
                            outcome.error->message + "); the endpoint was disabled.");
    disable = true;
  }
  if (lease.lost()) return ok();  // the new holder delivers; nothing of ours may be written

  // 3. Write the outcome.
  std::int64_t alert = 0;
  auto written = pool_.transact([&](db::Tx& tx) -> Result<void> {
    alert = 0;
    if (p.endpoint && p.message.message_id) {
      db::WebhookDelivery d;
      d.notification_id = p.message.id;
      d.webhook_id = p.endpoint->id;
      d.message_id = *p.message.message_id;
      d.attempt = attempt;
      d.status = outcome.status;
      d.duration_ms = static_cast<int>(outcome.duration.count());
      if (outcome.error) d.error_code = std::string(outcome.error->name());
      d.response_excerpt = outcome.excerpt;
      if (auto r = db::webhook_deliveries::record(tx, d); !r) return r.error();
    }
    std::string to = "sent";
    std::optional<std::string> code;
    std::string message;
    std::optional<std::chrono::milliseconds> retry_after;
    if (!delivered) {
      const Error& e = final_error ? *final_error : *outcome.error;
      code = std::string(e.name());
      message = e.message;
      if (final_error) {
        to = "failed";
      } else {
        to = "pending";
        retry_after = jittered(settings_.backoff[static_cast<std::size_t>(attempt - 1)], settings_.jitter);
      }
    }
    if (auto n = db::webhook_deliveries::note_try(tx, p.message.id, code, message, retry_after); !n) return n.error();
    auto done = queue_.finish(tx, p.message.id, to);
    if (!done) return done.error();
    if (!*done) return lease_lost();
    if (disable && p.endpoint) {
      auto off = db::webhook_deliveries::disable_endpoint(tx, p.endpoint->id);
      if (!off) return off.error();
      const std::string to_whom = p.endpoint->user_id ? p.owner_email : p.admin_email;
      if (*off && !to_whom.empty()) {
        db::NewNotification n;
        n.kind = "admin_alert";
        n.channel = "email";
        n.recipient = to_whom;
        n.user_id = p.endpoint->user_id;
        // cause: the notifier mails one alert per cause and interval; one per endpoint here.
        n.payload_json = nlohmann::json{{"cause", "webhook.endpoint_disabled." + std::to_string(p.endpoint->id)},
                                        {"notification_id", p.message.id},
                                        {"error", {{"code", *code}, {"message", message}}},
                                        {"webhook", {{"id", p.endpoint->id}, {"url", p.endpoint->url}}}}
                             .dump();
        auto id = db::notifications::enqueue(tx, n);
        if (!id) return id.error();
        alert = *id;
      }
    }
    return ok();
  });
  if (!written) {
    if (written.error().code == Code::k_queue_lease_lost) return ok();
    return written.error();
  }
  const std::string result = delivered ? "delivered" : final_error ? "failed" : "retry";
  if (settings_.metrics) {
    settings_.metrics
        ->counter("faxbridge_webhook_deliveries_total", "Webhook POSTs by outcome (delivered, retry, failed).",
                  {{"outcome", result}})
        .inc();
  }
  const std::int64_t webhook_id = p.endpoint ? p.endpoint->id : 0;
  const std::int64_t status = outcome.status.value_or(0);
  const std::int64_t duration_ms = outcome.duration.count();
  if (delivered) {
    log::info("webhook.delivered", {{"notification", p.message.id}, {"webhook", webhook_id}, {"attempt", attempt},
                                    {"status", status}, {"duration_ms", duration_ms}});
  } else {
    log::warn(final_error ? "webhook.failed" : "webhook.retry",
              {{"notification", p.message.id}, {"webhook", webhook_id}, {"attempt", attempt}, {"status", status},
               {"duration_ms", duration_ms}, {"code", outcome.error->name()}, {"message", outcome.error->message}});
  }
  if (alert) log::info("webhook.endpoint_disabled", {{"webhook", p.endpoint->id}, {"alert", alert}});
  return ok();
}

}  // namespace faxbridge::webhook
