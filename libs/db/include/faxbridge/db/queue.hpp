#pragma once
// db::Queue: a table's rows as work items for the claim-and-sweep consumer.
//
// A stage of work is a pair of states on one table: rows in `ready_state` whose
// not_before has passed are claimable; claiming moves them to `working_state` with
// owner = this instance, lease_until = now + lease, claims + 1, in one statement
// (by id: a conditional UPDATE; next: FOR UPDATE SKIP LOCKED, the River/graphile way).
// A row in the working state whose lease expired is claimable again by anyone: its
// holder died. After `max_claims` claims a row goes to `failed_state` with
// queue.claims_exhausted instead, so a job that kills every worker stops looping.
// The holder finishes a row inside its own transaction with finish(), which checks that
// it still owns the lease, so a worker that lost its lease cannot overwrite the new owner.
// A queue table has the columns: id, state, not_before, priority, owner, lease_until,
// claims, error_code, updated_at (queue_test checks every spec below against the schema).
// Claims, releases and finishes are moves of the table's state machine (states.hpp); on
// fax_jobs each writes its job_events row in the same statement.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/work_queue.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/states.hpp"

namespace faxbridge::db {

struct QueueSpec {
  std::string table;          // fax_jobs, received_faxes, notifications (constants, never input)
  std::string ready_state;
  std::string working_state;
  std::string failed_state;   // where rows go after max_claims
  int max_claims = 10;
  std::chrono::milliseconds lease{30000};
  // false: ready rows are claimable at once, whatever their not_before (the router
  // queues a scheduled job right away; not_before then holds it in `queued`).
  bool wait_for_not_before = true;
  // false: a claim's commit returns before its record reaches the disk. Only for a
  // stage whose work a database crash may repeat safely: a lost claim is a row ready
  // again, done again (the notifier's mails keep their Message-ID).
  bool claims_wait_for_disk = true;

  // The bus work topic suffix of this stage (bus::WorkFeed, bus::announce_work),
  // e.g. "fax_jobs.submitted".
  std::string stage() const { return table + "." + ready_state; }
};

// The stages of the schema (ARCHITECTURE.md sections 3 and 4).
QueueSpec conversion_queue();     // fax_jobs: submitted -> converting (document-converter)
QueueSpec inbound_routing_queue();  // received_faxes: received -> routing (router)
QueueSpec notification_queue();   // notifications: pending -> sending (notifier)

class Queue final : public WorkSource {
 public:
  // clock: when given, its time is used instead of the database's now() (tests).
  Queue(Pool& pool, QueueSpec spec, std::string owner, const Clock* clock = nullptr);

  Result<std::optional<Claim>> claim(std::int64_t id) override;
  Result<std::vector<Claim>> claim_next(int limit) override;
  Result<bool> renew(std::int64_t id) override;
  Result<bool> release(std::int64_t id, std::chrono::milliseconds delay,
                       const std::optional<Error>& error) override;
  const std::string& owner() const override { return owner_; }

  // Inside the holder's own transaction: moves the row to `to_state` and clears the
  // lease if this instance still holds it. false: the lease was lost, roll back.
  // On fax_jobs this is db::transition (the event, the log line); on every table the
  // move must be in the table's state machine (states.hpp).
  Result<bool> finish(Tx& tx, std::int64_t id, const std::string& to_state);
  // finish() for several rows in one statement, with `also_set` (assignments of the
  // caller's own columns, a constant text, never input) in the same UPDATE. The ids this
  // instance still held and moved. Not on fax_jobs, whose moves each write an event.
  // kNoWait: the commit returns before its record reaches the disk, for moves a
  // database crash may lose safely (the row is then held again after its lease).
  enum class Commit { kWaitForDisk, kNoWait };
  Result<std::vector<std::int64_t>> finish_all(Tx& tx, const std::vector<std::int64_t>& ids,
                                               const std::string& to_state, const std::string& also_set = {},
                                               Commit commit = Commit::kWaitForDisk);

  const QueueSpec& spec() const { return spec_; }

 private:
  std::optional<std::string> now_param() const;
  static constexpr std::chrono::seconds kExpiredCheckInterval{1};
  Pool& pool_;
  QueueSpec spec_;
  std::string owner_;
  const Clock* clock_;
  const StateMachine* machine_ = nullptr;
  bool job_events_ = false;  // fax_jobs: claims and releases write job_events rows
  std::string sql_claim_id_, sql_claim_expired_, sql_claim_ready_, sql_renew_, sql_release_,
      sql_finish_, sql_exhaust_;
  std::atomic<TimePoint> last_expired_check_{};
};

}  // namespace faxbridge::db
