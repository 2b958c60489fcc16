#pragma once
// Outbound fax jobs, their ordered documents and their event history. Every state
// change goes through transition(), which checks the expected current state (so two
// writers can't both move a job) and writes the job_events row in the same transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

struct NewJob {
  std::string source = "api";  // email | web | api | cli
  std::optional<std::int64_t> sender_user_id;
  std::string recipient_number;
  std::string recipient_canonical;
  std::string recipient_name;
  std::string recipient_company;
  std::string subject;
  std::string note;
  std::optional<std::string> cover_page_name;
  std::string resolution = "fine";
  int priority = 100;
  std::optional<TimePoint> scheduled_at;
  std::optional<int> max_attempts;
  std::optional<int> retry_interval_s;
  std::optional<std::string> idempotency_key;
  std::vector<std::int64_t> document_ids;  // in sending order
};

struct Job {
  std::int64_t id = 0;
  std::optional<std::string> reference;
  std::string state;
  std::string source;
  std::optional<std::int64_t> sender_user_id;
  std::string recipient_number;
  std::string recipient_canonical;
  std::string subject;
  int priority = 100;
  int attempts = 0;
  std::optional<int> page_count;
  int pages_sent = 0;
  std::optional<std::int64_t> pages_document_id;
  std::optional<std::int64_t> route_id;
  std::optional<std::string> error_code;
  std::optional<std::string> error_detail;
  std::optional<std::string> owner;
  int claims = 0;
};

struct JobEvent {
  std::optional<std::string> from_state;
  std::string to_state;
  std::string actor;
  std::optional<std::string> error_code;
  std::string detail;
};

namespace jobs {
Result<Job> create(Tx& tx, const NewJob& job, const std::string& actor);
Result<Job> get(Tx& tx, std::int64_t id);
Result<std::vector<std::int64_t>> document_ids(Tx& tx, std::int64_t id);
// Moves the job from `from` to `to` (job.not_found / db.conflict when it is not in
// `from`), records the event; error fields are set when `error_code` is given.
Result<Job> transition(Tx& tx, std::int64_t id, const std::string& from, const std::string& to,
                       const std::string& actor, const std::optional<Error>& error = std::nullopt);
Result<std::vector<JobEvent>> events(Tx& tx, std::int64_t id);
}  // namespace jobs

}  // namespace faxbridge::db
