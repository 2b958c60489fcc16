// DESIGN: the gateways' claim is the one claim that cannot be a plain db::Queue stage:
// it must count the active calls and the destinations in use, so claims from every
// gateway are serialised by a transaction-scoped advisory lock and the counts stay true
// until commit. Everything else is the queue's: the lease columns and time
// (lease_sql.hpp: a controlled clock when a test passes one, else the server's now()),
// and the job moves with their events (states.hpp: queued -> dialing in the claim's own
// statement, dialing -> sending through db::transition).
#include "faxbridge/db/outbound.hpp"

#include "faxbridge/db/states.hpp"
#include "lease_sql.hpp"
#include "pqxx_support.hpp"
#include "states_sql.hpp"

namespace faxbridge::db::outbound {
namespace {

// Any fixed number: the key of the advisory lock that serialises call claims.
constexpr std::int64_t kClaimLockKey = 0x6661786f7574;  // "faxout"

// $1 gateway, $2 channels, $3 max concurrent, $4 lease, $5 now (NULL: the server's).
std::string claim_sql() {
  using states_sql::quoted;
  const auto queued = state_name(JobState::kQueued), dialing = state_name(JobState::kDialing),
             sending = state_name(JobState::kSending);
  states_sql::require_edge(job_machine(), queued, dialing);
  const std::string now = lease_sql::now(5);
  const std::string active_states = "(" + quoted(dialing) + ", " + quoted(sending) + ")";
  // One candidate per destination (the earliest by priority), none for a destination
  // that has an active call, as many as the global limit leaves.
  return "WITH active AS (SELECT recipient_canonical FROM fax_jobs "
         "    WHERE state IN " + active_states + " AND owner IS NOT NULL), "
         "candidates AS (SELECT DISTINCT ON (j.recipient_canonical) j.id, j.priority, j.not_before "
         "    FROM fax_jobs j WHERE j.state = " + quoted(queued) + " AND j.not_before <= " + now +
         "    AND NOT j.cancel_requested "
         "    AND j.recipient_canonical NOT IN (SELECT recipient_canonical FROM active) "
         "    ORDER BY j.recipient_canonical, j.priority, j.not_before, j.id), "
         "picked AS (SELECT id FROM candidates ORDER BY priority, not_before, id "
         "    LIMIT greatest(0, least($2::int, $3::int - (SELECT count(*) FROM active)::int))), "
         "claimed AS (UPDATE fax_jobs j SET " + lease_sql::set_claimed(quoted(dialing), "$1", now, "$4", "j") +
         ", attempts = j.attempts + 1 "
         "    FROM picked WHERE j.id = picked.id AND j.state = " + quoted(queued) +
         "    RETURNING j.id, j.attempts, coalesce(j.dial_number, j.recipient_canonical) AS dial, "
         "    j.recipient_canonical, j.route_id, j.pages_document_id, j.page_count, j.reference, "
         "    j.gateway_addresses, j.t38_policy), "
         "ev AS (" + states_sql::job_events_insert("claimed", "id", quoted(queued), quoted(dialing), "$1") + ") "
         "SELECT * FROM claimed ORDER BY id";
}

}  // namespace

Result<std::vector<Call>> claim_calls(Tx& tx, const std::string& gateway, int channels, int max_concurrent,
                                      std::chrono::milliseconds lease, const Clock* clock) {
  static const std::string sql = claim_sql();
  auto& w = W(tx);
  w.exec_params("SELECT pg_advisory_xact_lock($1)", kClaimLockKey);
  const auto now = lease_sql::now_param(clock);
  auto rows = w.exec_params(sql, gateway, channels, max_concurrent, lease_sql::interval(lease), now);
  std::vector<Call> calls;
  for (const auto& r : rows) {
    Call c;
    c.job_id = r[0].as<std::int64_t>();
    c.attempt_no = r[1].as<int>();
    c.dial_number = r[2].as<std::string>();
    c.recipient = r[3].as<std::string>();
    c.route_id = opt<std::int64_t>(r[4]);
    c.pages_document_id = opt<std::int64_t>(r[5]);
    c.page_count = opt<int>(r[6]);
    c.reference = opt<std::string>(r[7]);
    c.gateway_addresses = text_array(r[8]);
    c.t38_policy = r[9].as<std::string>("auto");
    auto a = w.exec_params(
        // clock_timestamp(), not now(): the transaction may have waited for the claim
        // lock, and the CDR must show when the call really started.
        "INSERT INTO attempts (job_id, attempt_no, gateway_instance, route_id, dialled_number, started_at) "
        "VALUES ($1, $2, $3, $4, $5, coalesce($6::timestamptz, clock_timestamp())) RETURNING id",
        c.job_id, c.attempt_no, gateway, c.route_id, c.dial_number, now);
    c.attempt_id = a[0][0].as<std::int64_t>();
    states_sql::log_job_state_after_commit(tx, c.job_id, c.reference, state_name(JobState::kQueued),
                                           state_name(JobState::kDialing), gateway);
    calls.push_back(std::move(c));
  }
  return calls;
}

Result<bool> mark_sending(Tx& tx, std::int64_t job_id, const std::string& gateway) {
  JobChange c;
  c.holder = gateway;
  return transition(tx, job_id, JobState::kDialing, JobState::kSending, gateway, std::nullopt, c);
}

Result<bool> record_progress(Tx& tx, std::int64_t attempt_id, int pages_sent, const std::string& phase_reached) {
  return W(tx).exec_params("UPDATE attempts SET pages_sent = $2, phase_reached = $3 WHERE id = $1 AND state = $4",
                           attempt_id, pages_sent, phase_reached, std::string(state_name(AttemptState::kOpen)))
             .affected_rows() > 0;
}

Result<bool> renew(Tx& tx, std::int64_t job_id, const std::string& gateway, std::chrono::milliseconds lease,
                   const Clock* clock) {
  static const std::string sql = "UPDATE fax_jobs SET lease_until = " + lease_sql::now(4) +
                                 " + $3::interval WHERE id = $1 AND owner = $2 AND state IN ('dialing', 'sending')";
  return W(tx).exec_params(sql, job_id, gateway, lease_sql::interval(lease), lease_sql::now_param(clock))
             .affected_rows() > 0;
}

Result<bool> close(Tx& tx, const Call& call, const std::string& gateway, const AttemptEnd& end) {
  auto& w = W(tx);
  // The call ends; the job keeps its state until the router applies the result.
  auto released = w.exec_params("UPDATE fax_jobs SET " + lease_sql::set_released("now()") +
                                    " WHERE id = $1 AND owner = $2 AND state IN ('dialing', 'sending')",
                                call.job_id, gateway);
  if (released.affected_rows() == 0) return false;
  auto closed = attempts::close(tx, call.attempt_id, end);
  if (!closed) return closed.error();
  auto moved = transition(tx, call.attempt_id, AttemptState::kOpen, AttemptState::kClosed);
  if (!moved) return moved.error();
  return true;
}

Result<int> active_calls(Tx& tx) {
  return W(tx).exec("SELECT count(*) FROM fax_jobs WHERE state IN ('dialing', 'sending') AND owner IS NOT NULL")[0][0]
      .as<int>();
}

}  // namespace faxbridge::db::outbound
