#pragma once
// The records a fax leaves behind: call attempts (CDRs), received faxes and inbox
// entries, the notification outbox and the audit trail. Each is written in the
// transaction of the change it records.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/outcome.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

struct AttemptStart {
  std::int64_t job_id = 0;
  std::string gateway_instance;
  std::optional<std::int64_t> route_id;
  std::string gateway_address;
  std::string dialled_number;
};

struct AttemptEnd {
  Outcome outcome = Outcome::kFailed;
  std::optional<std::string> media;
  std::optional<int> sip_status;
  std::optional<int> t30_code;
  std::optional<std::string> t30_text;
  std::optional<std::string> phase_reached;
  int pages_sent = 0;
  std::optional<int> bit_rate;
  std::optional<bool> ecm;
  std::optional<std::string> remote_station_id;
  std::optional<std::string> error_code;
  std::optional<bool> retryable;
  std::optional<std::string> diagnostics_json;
  std::optional<std::string> gateway_address;  // the address dialled last (unset: keep the stored one)
  // When the call ended; unset: the time of the write. Given by the gateway, because the
  // write may come long after the call (a database outage).
  std::optional<std::chrono::system_clock::time_point> ended_at;
};

// A call detail record as stored.
struct AttemptRecord {
  std::int64_t id = 0;
  int attempt_no = 0;
  std::string gateway_instance;
  std::string dialled_number;
  std::string started_at;  // ISO text, UTC
  std::optional<Outcome> outcome;  // none while the call is in progress
  std::optional<int> sip_status;
  std::optional<int> t30_code;
  std::optional<std::string> t30_text;
  int pages_sent = 0;
  std::optional<int> bit_rate;
  std::optional<std::string> error_code;
  std::optional<std::string> ended_at;  // ISO text, UTC; none while the call is in progress
  std::optional<std::string> media;     // t38 | g711a | g711u
  std::optional<std::string> remote_station_id;
};

namespace attempts {
// Numbers the attempt (1, 2, ...) and counts it on the job. Returns the attempt id.
Result<std::int64_t> open(Tx& tx, const AttemptStart& start);
Result<bool> close(Tx& tx, std::int64_t attempt_id, const AttemptEnd& end);
Result<std::vector<AttemptRecord>> for_job(Tx& tx, std::int64_t job_id);
}  // namespace attempts

struct ReceivedFax {
  std::string call_id;  // unique per call (the gateway's key for an idempotent store)
  std::string gateway_instance;
  std::string caller_number;
  std::string called_number;
  std::string remote_station_id;
  int pages = 0;
  std::optional<std::string> media;
  std::optional<int> bit_rate;
  std::optional<bool> ecm;
  std::optional<std::string> resolution;
  std::optional<int> t30_code;
  std::optional<std::string> t30_text;
  std::optional<std::string> error_code;
  std::optional<std::int64_t> tiff_document_id;
  std::string reference;
  // When the INVITE arrived and the call ended; unset: the time of the insert. Given by
  // the gateway, because the row may be written long after the call (a database outage).
  std::optional<std::chrono::system_clock::time_point> started_at;
  std::optional<std::chrono::system_clock::time_point> ended_at;
};

struct StoredFax : ReceivedFax {
  std::int64_t id = 0;
  std::string state;
  std::optional<std::int64_t> pdf_document_id;
};

namespace received {
Result<std::int64_t> create(Tx& tx, const ReceivedFax& fax);
// The fax stored for this call id, if any (a retried store after an unknown commit).
Result<std::optional<std::int64_t>> id_for_call(Tx& tx, const std::string& call_id);
Result<StoredFax> get(Tx& tx, std::int64_t id);
// Sets the reference (when missing) and the error code of a fax being routed.
Result<void> annotate(Tx& tx, std::int64_t id, const std::optional<std::string>& reference,
                      const std::optional<std::string>& error_code);
}  // namespace received

namespace inbox {
// Idempotent: delivering the same fax to the same user twice keeps one entry.
Result<bool> deliver(Tx& tx, std::int64_t received_fax_id, std::int64_t user_id,
                     std::optional<std::int64_t> via_group_id = std::nullopt);
Result<std::vector<std::int64_t>> for_user(Tx& tx, std::int64_t user_id, int limit = 100);
}  // namespace inbox

struct NewNotification {
  std::string kind;     // fax_to_email | return_receipt | enqueued_receipt | failure_receipt | ...
  std::string channel;  // email | webhook
  std::string recipient;
  std::optional<std::int64_t> job_id;
  std::optional<std::int64_t> received_fax_id;
  std::optional<std::int64_t> user_id;
  std::optional<std::int64_t> webhook_id;
  std::string payload_json = "{}";
};

namespace notifications {
Result<std::int64_t> enqueue(Tx& tx, const NewNotification& n);
}  // namespace notifications

struct AuditEvent {
  std::optional<std::int64_t> actor_user_id;
  std::string actor;
  std::string action;
  std::string object_type;
  std::string object_id;
  std::string details_json = "{}";
  // Where the change came from: the client's address for API requests; empty (stored
  // NULL) for the CLI and the services. Not a valid address: stored NULL as well, so an
  // odd remote address never costs the change it describes.
  std::string ip;
};

struct AuditRow {
  std::int64_t id = 0;
  TimePoint at;
  AuditEvent event;
};

// GET /api/v1/admin/audit's filters; every one optional.
struct AuditQuery {
  std::string actor;           // the actor's name (a username, "cli"), case-insensitive
  std::string action_prefix;   // "user." for every user change
  std::string object_type;
  std::string object_id;
  std::optional<TimePoint> since;  // at >= since
  std::optional<TimePoint> until;  // at < until
  int limit = 50;
  std::int64_t before_id = 0;  // the cursor: newest first, rows with a smaller id; 0 from the top
};

namespace audit {
Result<std::int64_t> record(Tx& tx, const AuditEvent& e);
Result<std::vector<AuditRow>> list(Tx& tx, const AuditQuery& query);
}  // namespace audit

}  // namespace faxbridge::db
