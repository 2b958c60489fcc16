// DESIGN: see webhooks.hpp. The event rows are one INSERT ... SELECT over the endpoints,
// so choosing the endpoints and writing their rows is one statement in the caller's
// transaction (the state change's). The payload starts as {"event": ...}; the
// dispatcher adds "message_id" and "body" at the first try (jsonb keeps a string's
// bytes as they are, so what was signed once is what every retry sends).
#include "faxbridge/db/webhooks.hpp"

#include "faxbridge/db/registry.hpp"
#include "pqxx_support.hpp"

namespace faxbridge::db {

namespace webhook_events {
namespace {

std::vector<std::int64_t> ids_of(const pqxx::result& rows) {
  std::vector<std::int64_t> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r[0].as<std::int64_t>());
  return out;
}

Error unknown_event(const std::string& event) {
  return Error(Code::k_internal, "\"" + event + "\" is not a webhook event (db::webhook_event_types()).");
}

bool known(const std::string& event) {
  for (const auto& e : webhook_event_types()) {
    if (e == event) return true;
  }
  return false;
}

constexpr const char* kSubscribed = "w.enabled AND (cardinality(w.events) = 0 OR $1 = ANY(w.events)) ";

}  // namespace

Result<std::vector<std::int64_t>> for_job(Tx& tx, const std::string& event, std::int64_t job_id) {
  if (!known(event)) return unknown_event(event);
  static const std::string sql = std::string(
      "INSERT INTO notifications (kind, channel, recipient, job_id, user_id, webhook_id, payload) "
      "SELECT 'webhook', 'webhook', w.url, j.id, w.user_id, w.id, jsonb_build_object('event', $1::text) "
      "FROM fax_jobs j JOIN webhook_endpoints w ON ") + kSubscribed +
      "AND (w.user_id IS NULL OR w.user_id = j.sender_user_id) WHERE j.id = $2 ORDER BY w.id RETURNING id";
  return ids_of(exec_prepared_text(tx, sql, event, job_id));
}

Result<std::vector<std::int64_t>> for_received_fax(Tx& tx, const std::string& event, std::int64_t received_fax_id) {
  if (!known(event)) return unknown_event(event);
  static const std::string sql = std::string(
      "INSERT INTO notifications (kind, channel, recipient, received_fax_id, user_id, webhook_id, payload) "
      "SELECT 'webhook', 'webhook', w.url, $2, w.user_id, w.id, jsonb_build_object('event', $1::text) "
      "FROM webhook_endpoints w WHERE ") + kSubscribed +
      "AND (w.user_id IS NULL OR w.user_id IN "
      "(SELECT e.user_id FROM inbox_entries e WHERE e.received_fax_id = $2)) ORDER BY w.id RETURNING id";
  return ids_of(exec_prepared_text(tx, sql, event, received_fax_id));
}

std::string event_for_job_state(const std::string& state) {
  if (state == "queued" || state == "sent" || state == "partially_sent" || state == "failed") return "fax." + state;
  return "";
}

}  // namespace webhook_events

namespace webhook_deliveries {

Result<std::optional<WebhookMessage>> load(Tx& tx, std::int64_t notification_id) {
  auto rows = W(tx).exec_params(
      "SELECT id, state, coalesce(payload->>'event', ''), job_id, received_fax_id, webhook_id, attempts, "
      "created_at, payload->>'message_id', payload->>'body' FROM notifications "
      "WHERE id = $1 AND channel = 'webhook'",
      notification_id);
  if (rows.empty()) return std::optional<WebhookMessage>{};
  const auto& r = rows[0];
  WebhookMessage m;
  m.id = r[0].as<std::int64_t>();
  m.state = r[1].as<std::string>();
  m.event = r[2].as<std::string>();
  m.job_id = opt<std::int64_t>(r[3]);
  m.received_fax_id = opt<std::int64_t>(r[4]);
  m.webhook_id = opt<std::int64_t>(r[5]);
  m.attempts = r[6].as<int>();
  m.created_at = from_sql_time(r[7].as<std::string>());
  m.message_id = opt<std::string>(r[8]);
  m.body = opt<std::string>(r[9]);
  return std::optional<WebhookMessage>(std::move(m));
}

Result<void> store_body(Tx& tx, std::int64_t notification_id, const std::string& message_id, const std::string& body) {
  W(tx).exec_params(
      "UPDATE notifications SET payload = payload || jsonb_build_object('message_id', $2::text, 'body', $3::text) "
      "WHERE id = $1",
      notification_id, message_id, body);
  return ok();
}

Result<std::int64_t> record(Tx& tx, const WebhookDelivery& d) {
  auto r = W(tx).exec_params(
      "INSERT INTO webhook_deliveries (notification_id, webhook_id, message_id, attempt, status, duration_ms, "
      "error_code, response_excerpt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
      d.notification_id, d.webhook_id, d.message_id, d.attempt, d.status, d.duration_ms, d.error_code,
      d.response_excerpt);
  return r[0][0].as<std::int64_t>();
}

Result<void> note_try(Tx& tx, std::int64_t notification_id, const std::optional<std::string>& error_code,
                      const std::string& last_error, std::optional<std::chrono::milliseconds> retry_after) {
  std::optional<double> secs;
  if (retry_after) secs = static_cast<double>(retry_after->count()) / 1000.0;
  W(tx).exec_params(
      "UPDATE notifications SET attempts = attempts + 1, error_code = $2, last_error = $3, "
      "sent_at = CASE WHEN $2::text IS NULL THEN now() ELSE sent_at END, "
      "not_before = CASE WHEN $4::float8 IS NULL THEN not_before ELSE now() + make_interval(secs => $4::float8) END "
      "WHERE id = $1",
      notification_id, error_code, error_code ? std::optional<std::string>(last_error) : std::nullopt, secs);
  return ok();
}

Result<bool> private_addresses_allowed(Tx& tx) {
  auto r = W(tx).exec("SELECT value = 'true'::jsonb FROM settings WHERE key = 'webhooks.allow_private_addresses'");
  return !r.empty() && r[0][0].as<bool>();
}

Result<bool> disable_endpoint(Tx& tx, std::int64_t webhook_id) {
  return W(tx)
             .exec_params("UPDATE webhook_endpoints SET enabled = false, updated_at = now() WHERE id = $1 AND enabled",
                          webhook_id)
             .affected_rows() > 0;
}

Result<std::vector<WebhookDelivery>> list(Tx& tx, std::int64_t webhook_id, int limit, std::int64_t before_id) {
  auto rows = W(tx).exec_params(
      "SELECT d.id, d.notification_id, d.webhook_id, d.message_id, coalesce(n.payload->>'event', ''), d.attempt, "
      "d.status, d.duration_ms, d.error_code, d.response_excerpt, d.created_at "
      "FROM webhook_deliveries d JOIN notifications n ON n.id = d.notification_id "
      "WHERE d.webhook_id = $1 AND ($3::bigint = 0 OR d.id < $3::bigint) ORDER BY d.id DESC LIMIT $2",
      webhook_id, limit, before_id);
  std::vector<WebhookDelivery> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    WebhookDelivery d;
    d.id = r[0].as<std::int64_t>();
    d.notification_id = r[1].as<std::int64_t>();
    d.webhook_id = r[2].as<std::int64_t>();
    d.message_id = r[3].as<std::string>();
    d.event = r[4].as<std::string>();
    d.attempt = r[5].as<int>();
    d.status = opt<int>(r[6]);
    d.duration_ms = r[7].as<int>();
    d.error_code = opt<std::string>(r[8]);
    d.response_excerpt = r[9].as<std::string>();
    d.created_at = from_sql_time(r[10].as<std::string>());
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::optional<std::int64_t>> redeliver(Tx& tx, std::int64_t webhook_id, std::int64_t delivery_id) {
  // The copy carries the payload as rendered (message_id and body), so the receiver sees
  // the same webhook-id and bytes; a delivery refused before its body was rendered
  // (none is logged then) cannot be asked for.
  auto r = W(tx).exec_params(
      "INSERT INTO notifications (kind, channel, recipient, job_id, received_fax_id, user_id, webhook_id, payload) "
      "SELECT 'webhook', 'webhook', w.url, n.job_id, n.received_fax_id, n.user_id, w.id, n.payload "
      "FROM webhook_deliveries d JOIN notifications n ON n.id = d.notification_id "
      "JOIN webhook_endpoints w ON w.id = d.webhook_id WHERE d.id = $2 AND d.webhook_id = $1 RETURNING id",
      webhook_id, delivery_id);
  if (r.empty()) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>(r[0][0].as<std::int64_t>());
}

}  // namespace webhook_deliveries

}  // namespace faxbridge::db
