// DESIGN: one webhook try per handle(), in three steps, no transaction open while the
// network is:
// 1. Read (one transaction): the notification, its endpoint and the settings. At the
//    first try the body {"type", "timestamp", "data"} is rendered (data: the fax object
//    the API returns, libs/apijson) and stored in the row's payload with its message id
//    ("msg_" + the notification id), committed before anything is sent, so every retry
//    and a redelivery (a copy of the payload) send the same bytes under the same
//    webhook-id. The event's timestamp is when the row was written (the state change);
//    webhook-timestamp is the try's, as Standard Webhooks asks.
// 2. Send: the URL's host resolved and checked once (address.hpp: SSRF guard, the
//    connection goes to the checked address), signed (signing.hpp: v1 with the secret,
//    and with the previous secret while a rotation overlaps; v1a for ed25519 endpoints),
//    POSTed within the timeout and the answer cap (http_post.hpp).
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

#include "faxbridge/apijson/fax_json.hpp"
#include "faxbridge/core/clock.hpp"
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

bool is_db_error(const Error& e) { return e.name().substr(0, 3) == "db."; }

Error lease_lost() { return Error(Code::k_queue_lease_lost, "Another notifier took this webhook delivery over."); }

struct Prepared {
  db::WebhookMessage message;
  std::optional<db::WebhookEndpoint> endpoint;
  bool allow_private = false;
  std::string admin_email;
  std::string owner_email;   // the endpoint user's mail, if a user's
  std::optional<Error> refusal;  // the row cannot be delivered (endpoint gone or disabled, body not renderable)
};

std::string render(const db::WebhookMessage& m, const nlohmann::json& data) {
  return nlohmann::json{{"type", m.event}, {"timestamp", iso8601_utc(m.created_at)}, {"data", data}}.dump();
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
    : pool_(pool), queue_(queue), settings_(std::move(settings)) {}

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
    if (p.message.webhook_id) {
      auto w = db::webhooks::get(tx, *p.message.webhook_id);
      if (!w) return w.error();
      p.endpoint = std::move(*w);
    }
    if (p.endpoint && p.endpoint->user_id) {
      auto u = db::users::get(tx, *p.endpoint->user_id);
      if (u) p.owner_email = u->email;
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
      if (p.endpoint->signing == "ed25519") {
        sig = sign_v1a(p.endpoint->signing_key.value_or(""), *p.message.message_id, now, *p.message.body);
        if (sig) signatures.push_back(*sig);
      } else {
        sig = sign_v1(p.endpoint->secret, *p.message.message_id, now, *p.message.body);
        if (sig) signatures.push_back(*sig);
        if (sig && p.endpoint->previous_secret && p.endpoint->previous_secret_until &&
            *p.endpoint->previous_secret_until > SystemClock::instance().now()) {
          auto old = sign_v1(*p.endpoint->previous_secret, *p.message.message_id, now, *p.message.body);
          if (old) signatures.push_back(*old);
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
        outcome = detail::post(*target, headers, *p.message.body, settings_.timeout, settings_.max_response_bytes);
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
