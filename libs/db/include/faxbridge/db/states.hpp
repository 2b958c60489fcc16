#pragma once
// The life cycles of the rows that have a state, each in one place: its states (the
// CHECK lists of the schema), the moves allowed between them as a table, and one
// function that moves a row.
//
// Outbound jobs (ARCHITECTURE.md section 3) matter most: transition() is the only way a
// job changes state. It is a conditional UPDATE (WHERE id = $1 AND state = $from, and
// the holder's lease when given), the job_events row and, after the commit, one
// `job.state` log line with the job id and its reference number. Statements that move
// many jobs at once (the queue claims, the gateways' call claim, the retry requeue)
// build their SQL from the same table and event writer (src/states_sql.hpp).
// A move that is not in the table is a bug and is refused with `internal`.
// docs/design.md draws these tables; states_test keeps the drawing and the schema
// equal to them.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

enum class JobState {
  kSubmitted, kConverting, kReady, kRouting, kQueued, kDialing, kSending, kRetryWait,
  kSent, kPartiallySent, kFailed, kCancelled,
};
// The router's input queue: a gateway closes an attempt, the router applies it.
enum class AttemptState { kOpen, kClosed, kApplying, kApplied, kFailed };
// The notifier's durable outbox.
enum class NotificationState { kPending, kSending, kSent, kFailed, kSuppressed };

// One allowed move and why it happens (the edge label in the diagram).
struct Edge {
  std::string_view from;
  std::string_view to;
  std::string_view why;
};

// A table's states by name, its final states and its allowed moves.
struct StateMachine {
  std::string_view table;
  std::span<const std::string_view> states;  // in enum order
  std::span<const std::string_view> final_states;
  std::span<const Edge> edges;

  bool has(std::string_view state) const;
  bool allows(std::string_view from, std::string_view to) const;
  bool is_final(std::string_view state) const;
};

const StateMachine& job_machine();
const StateMachine& attempt_machine();
const StateMachine& notification_machine();
// The machine of a table that db::Queue works on; nullptr when the table has none here
// (received_faxes).
const StateMachine* machine_of(std::string_view table);

std::string_view state_name(JobState s);
std::string_view state_name(AttemptState s);
std::string_view state_name(NotificationState s);
std::optional<JobState> parse_job_state(std::string_view name);
bool is_final(JobState s);  // sent, partially_sent, failed, cancelled: completed_at is set

// The mermaid state diagram of a machine, as docs/design.md shows it.
std::string state_diagram(const StateMachine& machine);

// What a job move writes beside the state; unset fields leave their column alone.
struct JobChange {
  std::optional<std::string> holder;  // only while this instance holds the lease
  bool release_lease = false;          // owner and lease_until cleared, claims back to 0
  bool replace_error = false;     // write the error fields even without an error (clears them)
  std::optional<std::string> category;
  std::optional<bool> retryable;
  std::optional<int> pages_sent;
  std::optional<std::chrono::seconds> not_before_in;  // not_before = now() + this
  std::string detail;             // the event's detail when there is no error
  // The route stage's choice, written with its move (one row version, one round trip).
  bool set_route = false;
  std::optional<std::int64_t> route_id;
  std::optional<std::string> dial_number;
  std::vector<std::string> gateway_addresses;  // in dialling order, the default route's last
  std::optional<std::string> t38_policy;       // the route's
};

// Moves job `job` from `from` to `to`, writes its event and logs it after the commit.
// false: the job is not in `from` (or not held by change.holder): somebody moved it first.
Result<bool> transition(Tx& tx, std::int64_t job, JobState from, JobState to, const std::string& actor,
                        const std::optional<Error>& error = std::nullopt, const JobChange& change = {});

// The same for an attempt; closing one (-> closed) makes it the router's work from now.
Result<bool> transition(Tx& tx, std::int64_t attempt, AttemptState from, AttemptState to);
Result<bool> transition(Tx& tx, std::int64_t notification, NotificationState from, NotificationState to);

}  // namespace faxbridge::db
