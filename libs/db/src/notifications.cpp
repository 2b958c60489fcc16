// The notifier's outcomes on the outbox (notifications.hpp). Every move goes through the
// holder's Queue::finish (the state machine's check and the lease check in one
// statement); the delivery record is a second UPDATE in the same transaction.
#include "faxbridge/db/notifications.hpp"

#include <algorithm>

#include "pqxx_support.hpp"

namespace faxbridge::db::notifications {
namespace {

std::string interval_ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " milliseconds"; }

// What every try sets on its row; a try that failed also sets error_code and last_error.
const std::string kTryColumns = "attempts = attempts + 1, last_tried_at = now()";

void record_try(Tx& tx, std::int64_t id, const std::optional<Error>& error) {
  exec_prepared_text(tx,
      "UPDATE notifications SET " + kTryColumns + ", error_code = $2, last_error = $3 WHERE id = $1",
      id, error ? std::optional<std::string>(std::string(error->name())) : std::nullopt,
      error ? std::optional<std::string>(error->message) : std::nullopt);
}

const char* const kRowColumns =
    "SELECT id, kind, channel, recipient, job_id, received_fax_id, user_id, webhook_id, payload::text, state, "
    "attempts, message_id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
    "FROM notifications ";

NotificationRow row_of(const pqxx::row& row) {
  NotificationRow n;
  n.id = row[0].as<std::int64_t>();
  n.kind = row[1].c_str();
  n.channel = row[2].c_str();
  n.recipient = row[3].c_str();
  n.job_id = opt<std::int64_t>(row[4]);
  n.received_fax_id = opt<std::int64_t>(row[5]);
  n.user_id = opt<std::int64_t>(row[6]);
  n.webhook_id = opt<std::int64_t>(row[7]);
  n.payload_json = row[8].c_str();
  n.state = row[9].c_str();
  n.attempts = row[10].as<int>();
  n.message_id = opt<std::string>(row[11]);
  n.created_at = from_sql_time(row[12].c_str());
  return n;
}

}  // namespace

Result<NotificationRow> get(Tx& tx, std::int64_t id) {
  auto r = exec_prepared_text(tx, std::string(kRowColumns) + "WHERE id = $1", id);
  if (r.empty()) return Error(Code::k_notification_not_found, "No notification has the id " + std::to_string(id) + ".");
  return row_of(r[0]);
}

namespace {
// The rows read, in the order of `ids` (a row gone meanwhile is left out).
std::vector<NotificationRow> in_order_of(const std::vector<std::int64_t>& ids, const pqxx::result& r) {
  std::vector<NotificationRow> found, rows;
  for (const auto& row : r) found.push_back(row_of(row));
  for (auto id : ids) {
    auto it = std::find_if(found.begin(), found.end(), [&](const NotificationRow& n) { return n.id == id; });
    if (it != found.end()) rows.push_back(std::move(*it));
  }
  return rows;
}
}  // namespace

Result<std::vector<NotificationRow>> get_all(Tx& tx, const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return std::vector<NotificationRow>();
  auto r = exec_prepared_text(tx, std::string(kRowColumns) + "WHERE id = ANY($1::bigint[])", bigint_array(ids));
  return in_order_of(ids, r);
}

Result<std::vector<std::int64_t>> set_message_ids(Tx& tx, const std::vector<std::int64_t>& ids, const std::string& domain) {
  std::vector<std::int64_t> set;
  if (ids.empty()) return set;
  auto r = exec_prepared_text(tx,
                              "UPDATE notifications SET message_id = 'notification-' || id || '@' || $2 "
                              "WHERE id = ANY($1::bigint[]) AND message_id IS NULL RETURNING id",
                              bigint_array(ids), domain);
  for (const auto& row : r) set.push_back(row[0].as<std::int64_t>());
  return set;
}

Result<std::vector<NotificationRow>> get_all_naming(Tx& tx, const std::vector<std::int64_t>& ids,
                                                    const std::optional<std::string>& domain) {
  if (!domain) return get_all(tx, ids);
  if (ids.empty()) return std::vector<NotificationRow>();
  // One round trip instead of three (the SET LOCAL, the UPDATE, the SELECT). `relaxed` is
  // joined by the UPDATE, so it runs (once: a volatile CTE is materialised) whenever a
  // row is named, and only the naming would make the commit wait for the disk. The
  // SELECT sees the rows as they were before the UPDATE: a new id comes from `named`.
  static const std::string sql =
      "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)), "
      "named AS (UPDATE notifications n SET message_id = 'notification-' || n.id || '@' || $2 FROM relaxed "
      "WHERE n.id = ANY($1::bigint[]) AND n.message_id IS NULL AND n.channel <> 'webhook' RETURNING n.id, n.message_id) "
      "SELECT n.id, kind, channel, recipient, job_id, received_fax_id, user_id, webhook_id, payload::text, state, "
      "attempts, coalesce(n.message_id, named.message_id), "
      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
      "FROM notifications n LEFT JOIN named ON named.id = n.id WHERE n.id = ANY($1::bigint[])";
  auto r = exec_prepared_text(tx, sql, bigint_array(ids), *domain);
  return in_order_of(ids, r);
}

Result<void> set_message_id(Tx& tx, std::int64_t id, const std::string& message_id) {
  exec_prepared_text(tx, "UPDATE notifications SET message_id = $2 WHERE id = $1 AND message_id IS NULL", id, message_id);
  return ok();
}

Result<bool> mark_sent(Tx& tx, Queue& queue, std::int64_t id) {
  auto done = queue.finish(tx, id, "sent");
  if (!done || !*done) return done;
  record_try(tx, id, std::nullopt);
  return true;
}

Result<std::vector<std::int64_t>> mark_all_sent(Tx& tx, Queue& queue, const std::vector<std::int64_t>& ids) {
  // Lost in a database crash, a sent record leaves the row to be held again after its
  // lease and sent again with its same Message-ID, as after a notifier's crash: so the
  // commit does not wait for the disk, which was most of a mail's time (bench/notifier).
  return queue.finish_all(tx, ids, "sent", kTryColumns + ", error_code = NULL, last_error = NULL",
                          Queue::Commit::kNoWait);
}

Result<bool> retry_later(Tx& tx, Queue& queue, std::int64_t id, std::chrono::milliseconds delay, const Error& error) {
  auto done = queue.finish(tx, id, "pending");
  if (!done || !*done) return done;
  record_try(tx, id, error);
  exec_prepared_text(tx, "UPDATE notifications SET not_before = now() + $2::interval WHERE id = $1", id, interval_ms(delay));
  return true;
}

Result<bool> mark_failed(Tx& tx, Queue& queue, std::int64_t id, const Error& error) {
  auto done = queue.finish(tx, id, "failed");
  if (!done || !*done) return done;
  record_try(tx, id, error);
  return true;
}

Result<bool> mark_suppressed(Tx& tx, Queue& queue, std::int64_t id, const std::string& cause) {
  auto done = queue.finish(tx, id, "suppressed");
  if (!done || !*done) return done;
  exec_prepared_text(tx, "UPDATE notifications SET error_code = $2, last_error = $3 WHERE id = $1", id,
                    std::string(code_name(Code::k_notification_suppressed)),
                    "The cause " + cause + " was mailed to the administrator within the alert interval.");
  return true;
}

Result<bool> take_alert_slot(Tx& tx, const std::string& cause, std::chrono::seconds interval) {
  auto& w = W(tx);
  // The first alert of a cause inserts its row; a later one takes the slot only when the
  // interval has passed. Both statements lock the cause's row until the commit.
  auto taken = w.exec_params(
      "INSERT INTO alert_causes AS a (cause, last_sent_at) VALUES ($1, now()) "
      "ON CONFLICT (cause) DO UPDATE SET last_sent_at = now(), suppressed = 0 "
      "WHERE a.last_sent_at <= now() - $2::interval RETURNING cause",
      cause, std::to_string(interval.count()) + " seconds");
  if (!taken.empty()) return true;
  w.exec_params("UPDATE alert_causes SET suppressed = suppressed + 1 WHERE cause = $1", cause);
  return false;
}

namespace {

const std::string kFaxFactsColumns =
    "SELECT id, coalesce(reference, ''), caller_number, called_number, remote_station_id, pages, media, "
    "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "extract(epoch FROM coalesce(ended_at, started_at) - started_at)::float8, tiff_document_id, pdf_document_id, "
    "pdf_error_code, pdf_error_detail, error_code FROM received_faxes ";

ReceivedFaxFacts fax_facts_from(const pqxx::row& row) {
  ReceivedFaxFacts f;
  f.id = row[0].as<std::int64_t>();
  f.reference = row[1].c_str();
  f.caller_number = row[2].c_str();
  f.called_number = row[3].c_str();
  f.remote_station_id = row[4].c_str();
  f.pages = row[5].as<int>();
  f.media = opt<std::string>(row[6]);
  f.started_at = row[7].c_str();
  f.duration_s = row[8].as<double>();
  f.tiff_document_id = opt<std::int64_t>(row[9]);
  f.pdf_document_id = opt<std::int64_t>(row[10]);
  f.pdf_error_code = opt<std::string>(row[11]);
  f.pdf_error_detail = opt<std::string>(row[12]);
  f.error_code = opt<std::string>(row[13]);
  return f;
}

}  // namespace

Result<ReceivedFaxFacts> received_fax_facts(Tx& tx, std::int64_t id) {
  auto r = exec_prepared_text(tx, kFaxFactsColumns + "WHERE id = $1", id);
  if (r.empty()) return Error(Code::k_notification_no_recipient, "The received fax " + std::to_string(id) + " is gone.");
  return fax_facts_from(r[0]);
}

Result<std::vector<ReceivedFaxFacts>> received_fax_facts_all(Tx& tx, const std::vector<std::int64_t>& ids) {
  std::vector<ReceivedFaxFacts> all;
  if (ids.empty()) return all;
  for (const auto& row : exec_prepared_text(tx, kFaxFactsColumns + "WHERE id = ANY($1::bigint[])", bigint_array(ids))) {
    all.push_back(fax_facts_from(row));
  }
  return all;
}

Result<HealthFacts> health_facts(Tx& tx) {
  auto& w = W(tx);
  HealthFacts f;
  auto q = w.exec(
      "SELECT count(*), coalesce(extract(epoch FROM now() - min(not_before)), 0)::float8 FROM fax_jobs "
      "WHERE state = 'queued' AND not_before <= now()");
  f.queued_due = q[0][0].as<std::int64_t>();
  f.oldest_queued_due_s = q[0][1].as<double>();
  auto a = w.exec("SELECT extract(epoch FROM now() - max(started_at))::float8 FROM attempts");
  f.since_last_attempt_s = a[0][0].is_null() ? -1 : a[0][0].as<double>();
  f.conversions_failed_last_hour =
      w.exec("SELECT count(*) FROM fax_jobs WHERE state = 'failed' AND error_code LIKE 'document.%' "
             "AND updated_at > now() - interval '1 hour'")[0][0]
          .as<std::int64_t>();
  for (const auto& row :
       w.exec("SELECT address, extract(epoch FROM now() - coalesce(last_ok_at, updated_at))::float8 FROM "
              "gateway_health WHERE state = 'down' ORDER BY address")) {
    f.gateways_down.push_back(row[0].c_str());
    f.longest_gateway_down_s = std::max(f.longest_gateway_down_s, row[1].as<double>());
  }
  return f;
}

Result<bool> alert_written_since(Tx& tx, const std::string& cause, std::chrono::seconds interval) {
  return !W(tx).exec_params("SELECT 1 FROM notifications WHERE kind = 'admin_alert' AND payload->>'cause' = $1 "
                            "AND created_at > now() - $2::interval LIMIT 1",
                            cause, std::to_string(interval.count()) + " seconds")
              .empty();
}

Result<OutboxCounts> counts(Tx& tx) {
  auto r = W(tx).exec("SELECT state, count(*) FROM notifications GROUP BY state");
  OutboxCounts c;
  for (const auto& row : r) {
    const std::string s = row[0].c_str();
    const auto n = row[1].as<std::int64_t>();
    if (s == "pending") c.pending = n;
    else if (s == "sending") c.sending = n;
    else if (s == "sent") c.sent = n;
    else if (s == "failed") c.failed = n;
    else if (s == "suppressed") c.suppressed = n;
  }
  return c;
}

}  // namespace faxbridge::db::notifications
