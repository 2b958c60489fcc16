#pragma once
// The reads and writes of the fax endpoints (/api/v1/faxes, /api/v1/files): uploads
// owned by a user, a broadcast of jobs in one transaction, the fax as the API shows it
// (one statement: the job, its sender, documents and the last call's SIP/T.30 codes),
// the paged list, and Idempotency-Key claims. The job rows themselves are made by
// db::jobs::create, like every other submitter's.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

// An uploaded document as POST /files shows it (no bytes).
struct StoredFile {
  std::int64_t id = 0;
  std::string filename;
  std::string media_type;
  std::int64_t size_bytes = 0;
  std::string sha256_hex;
  std::optional<int> page_count;
  std::string created_at;  // ISO 8601, UTC
};

namespace files {
// Stores an upload (kind 'upload') owned by `owner`; sha256 is computed by the server.
Result<StoredFile> create(Tx& tx, std::int64_t owner, const std::string& filename, const std::string& media_type,
                          std::optional<int> page_count, const std::string& bytes);
// The ids among `ids` that are uploads owned by `owner`.
Result<std::vector<std::int64_t>> owned(Tx& tx, std::int64_t owner, const std::vector<std::int64_t>& ids);
}  // namespace files

struct FaxRecord {
  std::int64_t id = 0;
  std::optional<std::string> reference;
  std::string state;
  std::optional<std::int64_t> sender_user_id;
  std::optional<std::string> sender_username;
  std::string recipient_number;
  std::string recipient_name;
  std::string recipient_company;
  std::string subject;
  std::string note;
  std::optional<std::string> cover_page_name;
  std::string resolution;
  int priority = 100;
  std::optional<std::string> scheduled_at;  // ISO 8601
  std::optional<int> max_attempts;
  std::optional<int> retry_interval_s;
  std::vector<std::string> labels;
  std::optional<std::string> client_reference;
  std::vector<std::int64_t> document_ids;
  std::optional<int> page_count;
  int pages_sent = 0;
  int attempts = 0;
  bool cancel_requested = false;
  std::optional<std::string> error_code;
  std::optional<std::string> error_category;
  std::optional<std::string> error_detail;
  std::optional<bool> error_retryable;
  std::optional<int> last_sip_status;  // of the last call that has one
  std::optional<int> last_t30_code;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> completed_at;
  // The list's position of this row (opaque to the API: encoded into its cursor).
  std::int64_t created_at_us = 0;
  std::string recipient_canonical;
};

struct FaxListQuery {
  std::optional<std::int64_t> sender;  // only this sender's faxes (a user's own; an admin's filter)
  std::vector<std::string> states;     // any of these; empty: all
  std::optional<std::string> reference;
  std::optional<std::string> client_reference;
  std::optional<std::string> recipient_canonical;
  std::optional<std::string> label;
  std::optional<TimePoint> created_after;   // exclusive
  std::optional<TimePoint> created_before;  // exclusive
  int limit = 50;
  // Rows strictly after this position (created_at_us, id), newest first.
  std::optional<std::pair<std::int64_t, std::int64_t>> after;
};

struct IdempotencyClaim {
  enum class Kind { kClaimed, kReplay, kInProgress, kReused };
  Kind kind = Kind::kClaimed;
  int status = 0;          // kReplay
  std::string response;    // kReplay: the JSON body first answered
};

namespace faxes {
// A broadcast: one job per entry, in order, with the shared labels and client
// reference; all in the caller's transaction (one fails: none is written).
Result<std::vector<std::int64_t>> create(Tx& tx, const std::vector<NewJob>& jobs, const std::vector<std::string>& labels,
                                         const std::optional<std::string>& client_reference, const std::string& actor);
// The fax, or fax.not_found (also when `viewer` is set and is not its sender).
Result<FaxRecord> get(Tx& tx, std::int64_t id, std::optional<std::int64_t> viewer = std::nullopt);
// Several, in the order of `ids` (missing ones skipped).
Result<std::vector<FaxRecord>> get_many(Tx& tx, const std::vector<std::int64_t>& ids);
// Newest first; at most query.limit + 1 rows (the extra one says there is a next page).
Result<std::vector<FaxRecord>> list(Tx& tx, const FaxListQuery& query);
// Whether a cover page of this name exists, directly, localized ("<language>_<name>"),
// or as the plain page of a localized name ("en_default" when only "default" exists).
Result<bool> cover_page_exists(Tx& tx, const std::string& name, const std::string& language);
}  // namespace faxes

namespace idempotency {
// Claims (user, key) for a request whose canonical hash is `request_hash`, in its own
// transaction (commit it before doing the work, so a concurrent twin sees the claim).
// A key older than `lifetime` is taken over as new, and so is a claim left running
// longer than `abandoned_after` (its request died with its process).
Result<IdempotencyClaim> claim(Tx& tx, std::int64_t user_id, const std::string& key, const std::string& request_hash,
                               std::chrono::seconds lifetime, std::chrono::seconds abandoned_after);
// Stores the answer: in the transaction that wrote what the request made.
Result<void> complete(Tx& tx, std::int64_t user_id, const std::string& key, int status, const std::string& response_json);
// Gives the key up (the request failed: the client may retry it, even with another body).
Result<void> release(Tx& tx, std::int64_t user_id, const std::string& key);
// Deletes keys older than `lifetime`; returns how many.
Result<int> purge(Tx& tx, std::chrono::seconds lifetime, int batch);
}  // namespace idempotency

}  // namespace faxbridge::db
