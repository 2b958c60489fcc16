#pragma once
// Webhook events in the notification outbox and the delivery log (migration 0016).
//
// Events: a fax job's or a received fax's state change writes, in the transaction of the
// change, one `notifications` row (kind and channel "webhook", recipient the URL,
// payload {"event": "fax.sent"}) per enabled endpoint subscribed to the event (an empty
// list is every event): system-wide endpoints (user_id NULL) get every fax, a user's
// endpoint only that user's: the job's sender, or the received fax's recipients (its
// inbox entries, so call it after inbox::deliver). The ids come back for the caller to
// announce on the notifications stage. The event names are db::webhook_event_types().
//
// Delivery (libs/webhook's Dispatcher): the body is rendered at the first try and kept
// in the payload ({"event", "message_id", "body"}), so every retry and a redelivery send
// the same bytes with the same webhook-id; each try is a webhook_deliveries row.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

namespace webhook_events {
Result<std::vector<std::int64_t>> for_job(Tx& tx, const std::string& event, std::int64_t job_id);
Result<std::vector<std::int64_t>> for_received_fax(Tx& tx, const std::string& event, std::int64_t received_fax_id);
// The event a job's new state announces ("fax.queued", ...), empty when none does.
std::string event_for_job_state(const std::string& state);
}  // namespace webhook_events

// A notification on the webhook channel as the dispatcher reads it.
struct WebhookMessage {
  std::int64_t id = 0;
  std::string state;
  std::string event;
  std::optional<std::int64_t> job_id;
  std::optional<std::int64_t> received_fax_id;
  std::optional<std::int64_t> webhook_id;
  int attempts = 0;  // tries made before this one
  TimePoint created_at{};  // when the event happened: the body's timestamp
  // Set once the body was rendered (the first try).
  std::optional<std::string> message_id;
  std::optional<std::string> body;
};

struct WebhookDelivery {
  std::int64_t id = 0;
  std::int64_t notification_id = 0;
  std::int64_t webhook_id = 0;
  std::string message_id;
  std::string event;  // read by list()
  int attempt = 0;
  std::optional<int> status;
  int duration_ms = 0;
  std::optional<std::string> error_code;
  std::string response_excerpt;
  TimePoint created_at{};
};

namespace webhook_deliveries {
Result<std::optional<WebhookMessage>> load(Tx& tx, std::int64_t notification_id);
// Keeps the rendered body and its message id in the notification's payload.
Result<void> store_body(Tx& tx, std::int64_t notification_id, const std::string& message_id, const std::string& body);
Result<std::int64_t> record(Tx& tx, const WebhookDelivery& d);
// The outcome of a try on the notification row (the caller then moves its state with
// db::Queue::finish): counts the try, keeps the error (none: delivered, sent_at set)
// and, for a retry, the earliest next try.
Result<void> note_try(Tx& tx, std::int64_t notification_id, const std::optional<std::string>& error_code,
                      const std::string& last_error, std::optional<std::chrono::milliseconds> retry_after);
// The setting webhooks.allow_private_addresses, read from its row (false when unset):
// read here rather than from the settings snapshot, which keeps only catalog keys.
Result<bool> private_addresses_allowed(Tx& tx);
// Disables an endpoint whose deliveries failed for good; false when it was not enabled.
Result<bool> disable_endpoint(Tx& tx, std::int64_t webhook_id);
// Newest first; before_id is the cursor (0: from the newest).
Result<std::vector<WebhookDelivery>> list(Tx& tx, std::int64_t webhook_id, int limit, std::int64_t before_id);
// A new pending notification that sends the delivery's message again (same body, same
// webhook-id) to the endpoint's current URL. nullopt: the endpoint has no such delivery.
Result<std::optional<std::int64_t>> redeliver(Tx& tx, std::int64_t webhook_id, std::int64_t delivery_id);
}  // namespace webhook_deliveries

}  // namespace faxbridge::db
