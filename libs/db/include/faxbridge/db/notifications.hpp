#pragma once
// The delivery side of the notifications outbox (the notifier). Rows are written by the
// services that decide something happened (records.hpp: notifications::enqueue, in the
// same transaction as the decision) and claimed by the notifier through db::Queue
// (notification_queue()). Each outcome below is one move of the notifications state
// machine (states.hpp) made through the holder's Queue::finish, so a notifier that lost
// its lease cannot overwrite the new holder's outcome, plus the row's delivery record:
// tries, the error code and the server's answer, the Message-ID, when it was tried.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/error.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/queue.hpp"

namespace faxbridge::db {

struct NotificationRow {
  std::int64_t id = 0;
  std::string kind;     // fax_to_email, return_receipt, ... (migration 0015's list)
  std::string channel;  // email | webhook
  std::string recipient;
  std::optional<std::int64_t> job_id;
  std::optional<std::int64_t> received_fax_id;
  std::optional<std::int64_t> user_id;
  std::optional<std::int64_t> webhook_id;
  std::string payload_json;
  std::string state;
  int attempts = 0;  // tries that ended (this one not counted yet)
  std::optional<std::string> message_id;
  TimePoint created_at;
};

namespace notifications {

Result<NotificationRow> get(Tx& tx, std::int64_t id);  // notification.not_found
// Several rows in one statement, in the order of `ids`; an id with no row is left out.
Result<std::vector<NotificationRow>> get_all(Tx& tx, const std::vector<std::int64_t>& ids);
// Kept on the row before the first send, so every later try reuses it.
Result<void> set_message_id(Tx& tx, std::int64_t id, const std::string& message_id);
// The same for each row of `ids` that has none yet, in one statement:
// notification-<id>@<domain>. Returns the ids it set.
Result<std::vector<std::int64_t>> set_message_ids(Tx& tx, const std::vector<std::int64_t>& ids, const std::string& domain);
// get_all and set_message_ids in one statement, for a batch about to be mailed: each
// email row of `ids` without a Message-ID gets notification-<id>@<domain> and comes back
// with it (a row another notifier named meanwhile comes back with none: read it again).
// No domain: nothing is named. The transaction's commit then does not wait for the disk
// (set_local_synchronous_commit_off, in the same statement): lost in a database crash,
// the next try derives the same ids.
Result<std::vector<NotificationRow>> get_all_naming(Tx& tx, const std::vector<std::int64_t>& ids,
                                                    const std::optional<std::string>& domain);

// The holder's outcomes; false: the lease was lost (roll back, the new holder decides).
Result<bool> mark_sent(Tx& tx, Queue& queue, std::int64_t id);
// mark_sent for several rows in one statement (the try recorded in the same UPDATE):
// the ids this holder still held and marked.
Result<std::vector<std::int64_t>> mark_all_sent(Tx& tx, Queue& queue, const std::vector<std::int64_t>& ids);
// Back to pending, to be tried again after `delay`; the try and its error are recorded.
Result<bool> retry_later(Tx& tx, Queue& queue, std::int64_t id, std::chrono::milliseconds delay, const Error& error);
Result<bool> mark_failed(Tx& tx, Queue& queue, std::int64_t id, const Error& error);
Result<bool> mark_suppressed(Tx& tx, Queue& queue, std::int64_t id, const std::string& cause);

// Administrator alerts, one per cause per interval: true when this cause may be mailed
// now (and its time is recorded), false when it was mailed within `interval` (the alert
// is counted as suppressed). Serialised per cause by the row lock.
Result<bool> take_alert_slot(Tx& tx, const std::string& cause, std::chrono::seconds interval);

// What a fax-to-email mail says of a received fax, and which documents it attaches.
struct ReceivedFaxFacts {
  std::int64_t id = 0;
  std::string reference;
  std::string caller_number, called_number, remote_station_id;
  int pages = 0;
  std::optional<std::string> media;
  std::string started_at;  // ISO 8601, UTC
  double duration_s = 0;   // from the INVITE to the end of the call
  std::optional<std::int64_t> tiff_document_id;
  std::optional<std::int64_t> pdf_document_id;
  // The converter could not make the PDF (pdf_error_code): it will never come.
  std::optional<std::string> pdf_error_code, pdf_error_detail;
  std::optional<std::string> error_code;
};
Result<ReceivedFaxFacts> received_fax_facts(Tx& tx, std::int64_t received_fax_id);
// The same for several faxes in one statement (a batch of mails), in no given order; a
// fax that is gone is left out.
Result<std::vector<ReceivedFaxFacts>> received_fax_facts_all(Tx& tx, const std::vector<std::int64_t>& ids);

// What the notifier's watchdog looks at (item 5 of the notifier issue): is work moving?
struct HealthFacts {
  std::int64_t queued_due = 0;            // jobs queued whose time to be dialled has come
  double oldest_queued_due_s = 0;         // how long the oldest of them has waited
  double since_last_attempt_s = -1;       // since the last call was placed; -1: never
  std::int64_t conversions_failed_last_hour = 0;
  std::vector<std::string> gateways_down;  // addresses whose OPTIONS pings fail
  double longest_gateway_down_s = 0;
};
Result<HealthFacts> health_facts(Tx& tx);
// Whether an administrator alert of this cause was written within `interval` (so the
// watchdog does not write one a minute while a condition lasts).
Result<bool> alert_written_since(Tx& tx, const std::string& cause, std::chrono::seconds interval);

// Counts by state (tests, the bench, the dashboard).
struct OutboxCounts {
  std::int64_t pending = 0, sending = 0, sent = 0, failed = 0, suppressed = 0;
};
Result<OutboxCounts> counts(Tx& tx);

}  // namespace notifications
}  // namespace faxbridge::db
