#pragma once
// The router's reads and writes: its queues, the job transitions it decides,
// cancellation, recovery of calls whose gateway died, inbound delivery and retention.
// The decisions themselves live in libs/router (policy.hpp); this file only stores them.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/outcome.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/queue.hpp"

namespace faxbridge::db::routing {

QueueSpec routing_queue();   // fax_jobs: ready -> routing
QueueSpec results_queue();   // attempts: closed -> applying

struct JobForRouting {
  std::int64_t id = 0;
  std::string state;
  std::optional<std::int64_t> sender_user_id;
  std::string recipient_canonical;
  std::optional<std::string> reference;
  std::optional<int> max_attempts;
  std::optional<int> retry_interval_s;
  int attempts = 0;
  std::optional<int> page_count;
  bool cancel_requested = false;
  std::string subject;
};
Result<JobForRouting> load_job(Tx& tx, std::int64_t id);

// The job and the route its number takes (longest enabled prefix, else the default
// route), with the gateway addresses a call could use: the route's, and the default
// route's that a gateway falls back on. One statement: the route stage's read.
struct RouteChoice {
  std::int64_t route_id = 0;
  bool is_default = false;
  int addresses = 0;          // the route's own
  int fallback_addresses = 0;  // the default route's, when the route is another one
  // What a gateway dials, in order: the route's addresses, then the default route's.
  std::vector<std::string> gateway_addresses;
  std::string t38_policy;  // the route's
};
struct RoutingInput {
  JobForRouting job;
  std::optional<RouteChoice> route;  // none: no route matches and there is no default
};
Result<RoutingInput> load_for_routing(Tx& tx, std::int64_t id);

// The final or waiting state a decision gives, with the failure fields; not_before for
// retry_wait. Checks the job is still in `from` (never overwrites a concurrent move).
struct Transition {
  std::string from;
  std::string to;
  std::optional<Error> error;
  std::optional<std::string> category;
  std::optional<bool> retryable;
  std::optional<int> pages_sent;
  std::chrono::seconds retry_after{0};
  std::string actor;
  std::optional<std::string> owner;  // for a leased stage: only while this instance holds it
  // The route stage's choice (route and the number to dial), written with the move.
  bool set_route = false;
  std::optional<std::int64_t> route_id;
  std::optional<std::string> dial_number;
  std::vector<std::string> gateway_addresses;  // the addresses the gateway will dial, in order
  std::optional<std::string> t38_policy;
};
Result<bool> move(Tx& tx, std::int64_t id, const Transition& t);

struct ClosedAttempt {
  std::int64_t id = 0;
  std::int64_t job_id = 0;
  Outcome outcome = Outcome::kFailed;  // an attempt closed with none reads as failed
  std::optional<std::string> error_code;
  int pages_sent = 0;
  std::optional<int> sip_status;
  std::optional<int> t30_code;
  std::optional<std::string> phase_reached;
};
Result<ClosedAttempt> load_attempt(Tx& tx, std::int64_t id);
// A closed attempt with its job, in one statement (the results stage's read).
struct ResultInput {
  ClosedAttempt attempt;
  JobForRouting job;
};
Result<ResultInput> load_result(Tx& tx, std::int64_t attempt_id);

// retry_wait -> queued for jobs whose wait is over; returns their ids.
Result<std::vector<std::int64_t>> requeue_due(Tx& tx, int limit, const std::string& actor);

// Calls whose gateway stopped renewing its lease: the open attempt is closed as
// `interrupted` (with the phase it reached) and the job released, so the results stage
// decides like for any other outcome. Returns the attempt ids. clock: as for
// db::outbound, a controlled time instead of the server's now() (tests).
Result<std::vector<std::int64_t>> interrupt_abandoned_calls(Tx& tx, int limit, const Clock* clock = nullptr);

enum class CancelResult { kCancelled, kRequested, kNotCancellable };
struct CancelOutcome {
  CancelResult result = CancelResult::kNotCancellable;
  std::string state;                     // the state found
  std::optional<std::string> gateway;    // holder to tell, for kRequested during a call
};
Result<CancelOutcome> cancel(Tx& tx, std::int64_t id, const std::string& actor);

// Retention: deletes in one batch; returns how many rows went.
Result<int> delete_faxes_older_than(Tx& tx, int days, int batch);
Result<int> delete_cdrs_older_than(Tx& tx, int days, int batch);

}  // namespace faxbridge::db::routing
