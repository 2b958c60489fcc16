#include "faxbridge/db/routing.hpp"

#include "faxbridge/db/states.hpp"
#include "lease_sql.hpp"
#include "pqxx_support.hpp"
#include "states_sql.hpp"

namespace faxbridge::db::routing {

QueueSpec routing_queue() { return {"fax_jobs", "ready", "routing", "failed", 10, std::chrono::seconds(30), false}; }
QueueSpec results_queue() { return {"attempts", "closed", "applying", "failed", 10, std::chrono::seconds(30)}; }

Result<JobForRouting> load_job(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params(
      "SELECT id, state, sender_user_id, recipient_canonical, reference, max_attempts, retry_interval_s, attempts, "
      "page_count, cancel_requested, subject FROM fax_jobs WHERE id = $1",
      id);
  if (r.empty()) return Error(Code::k_job_not_found, "No fax job has the id " + std::to_string(id) + ".");
  JobForRouting j;
  j.id = r[0][0].as<std::int64_t>();
  j.state = r[0][1].as<std::string>();
  j.sender_user_id = opt<std::int64_t>(r[0][2]);
  j.recipient_canonical = r[0][3].as<std::string>();
  j.reference = opt<std::string>(r[0][4]);
  j.max_attempts = opt<int>(r[0][5]);
  j.retry_interval_s = opt<int>(r[0][6]);
  j.attempts = r[0][7].as<int>();
  j.page_count = opt<int>(r[0][8]);
  j.cancel_requested = r[0][9].as<bool>();
  j.subject = r[0][10].as<std::string>();
  return j;
}

Result<bool> move(Tx& tx, std::int64_t id, const Transition& t) {
  const auto from = parse_job_state(t.from), to = parse_job_state(t.to);
  if (!from || !to) return Error(Code::k_internal, "A fax job has no state \"" + (from ? t.to : t.from) + "\".");
  JobChange c;
  c.holder = t.owner;
  c.release_lease = true;
  c.replace_error = true;  // a decision states the whole failure, or that there is none
  c.category = t.category;
  c.retryable = t.retryable;
  c.pages_sent = t.pages_sent;
  if (*to == JobState::kRetryWait) c.not_before_in = t.retry_after;
  c.set_route = t.set_route;
  c.route_id = t.route_id;
  c.dial_number = t.dial_number;
  return transition(tx, id, *from, *to, t.actor, t.error, c);
}

Result<ClosedAttempt> load_attempt(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params(
      "SELECT id, job_id, coalesce(outcome, 'failed'), error_code, pages_sent, sip_status, t30_code, phase_reached "
      "FROM attempts WHERE id = $1",
      id);
  if (r.empty()) return Error(Code::k_job_not_found, "No call attempt has the id " + std::to_string(id) + ".");
  ClosedAttempt a;
  a.id = r[0][0].as<std::int64_t>();
  a.job_id = r[0][1].as<std::int64_t>();
  a.outcome = r[0][2].as<std::string>();
  a.error_code = opt<std::string>(r[0][3]);
  a.pages_sent = r[0][4].as<int>();
  a.sip_status = opt<int>(r[0][5]);
  a.t30_code = opt<int>(r[0][6]);
  a.phase_reached = opt<std::string>(r[0][7]);
  return a;
}

Result<std::vector<std::int64_t>> requeue_due(Tx& tx, int limit, const std::string& actor) {
  using states_sql::quoted;
  const auto from = state_name(JobState::kRetryWait), to = state_name(JobState::kQueued);
  static const std::string sql = [&] {
    states_sql::require_edge(job_machine(), from, to);
    return "WITH moved AS (UPDATE fax_jobs SET state = " + quoted(to) +
           ", updated_at = now() WHERE id IN (SELECT id FROM fax_jobs WHERE state = " + quoted(from) +
           " AND not_before <= now() ORDER BY not_before LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id, reference), "
           "ev AS (" + states_sql::job_events_insert("moved", "id", quoted(from), quoted(to), "$2") +
           ") SELECT id, reference FROM moved";
  }();
  auto r = W(tx).exec_params(sql, limit, actor);
  std::vector<std::int64_t> ids;
  for (const auto& row : r) {
    ids.push_back(row[0].as<std::int64_t>());
    states_sql::log_job_state_after_commit(tx, ids.back(), opt<std::string>(row[1]), from, to, actor);
  }
  return ids;
}

Result<std::vector<std::int64_t>> interrupt_abandoned_calls(Tx& tx, int limit, const Clock* clock) {
  auto& w = W(tx);
  const auto now = lease_sql::now_param(clock);
  static const std::string release_sql =
      "UPDATE fax_jobs SET " + lease_sql::set_released(lease_sql::now(2)) + " WHERE id IN (SELECT id FROM fax_jobs "
      "WHERE state IN ('dialing', 'sending') AND owner IS NOT NULL AND lease_until < " + lease_sql::now(2) +
      " ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id, state";
  auto jobs = w.exec_params(release_sql, limit, now);
  std::vector<std::int64_t> attempt_ids;
  static const std::string close_sql = [] {
    using states_sql::quoted;
    const auto open = state_name(AttemptState::kOpen), closed = state_name(AttemptState::kClosed);
    states_sql::require_edge(attempt_machine(), open, closed);
    const std::string at = lease_sql::now(4);
    // The job's state tells how far the call got: sending means phase C was reached.
    return "UPDATE attempts SET state = " + quoted(closed) + ", ended_at = " + at + ", outcome = 'interrupted', "
           "error_code = $3, not_before = " + at + ", updated_at = " + at + ", "
           "phase_reached = coalesce(phase_reached, CASE WHEN $2 = " + quoted(state_name(JobState::kSending)) +
           " THEN 'C' ELSE 'A' END) WHERE job_id = $1 AND state = " + quoted(open) + " RETURNING id";
  }();
  for (const auto& j : jobs) {
    auto a = w.exec_params(close_sql, j[0].as<std::int64_t>(), j[1].as<std::string>(),
                           std::string(code_name(Code::k_call_interrupted)), now);
    for (const auto& row : a) attempt_ids.push_back(row[0].as<std::int64_t>());
  }
  return attempt_ids;
}

Result<CancelOutcome> cancel(Tx& tx, std::int64_t id, const std::string& actor) {
  auto& w = W(tx);
  auto r = w.exec_params("SELECT state, owner FROM fax_jobs WHERE id = $1 FOR UPDATE", id);
  if (r.empty()) return Error(Code::k_job_not_found, "No fax job has the id " + std::to_string(id) + ".");
  CancelOutcome out;
  out.state = r[0][0].as<std::string>();
  const auto owner = opt<std::string>(r[0][1]);
  const std::string& s = out.state;
  const auto state = parse_job_state(s);
  if (!state || is_final(*state)) {
    out.result = CancelResult::kNotCancellable;
    return out;
  }
  w.exec_params("UPDATE fax_jobs SET cancel_requested = true WHERE id = $1", id);
  const bool held = owner.has_value();
  if (held) {
    // Somebody works on it (converting, routing, a call): the holder sees the request
    // and finishes as cancelled; a gateway is told over the bus to hang up.
    out.result = CancelResult::kRequested;
    if (*state == JobState::kDialing || *state == JobState::kSending) out.gateway = owner;
    return out;
  }
  if (*state == JobState::kDialing || *state == JobState::kSending) {
    // The call ended; its result is waiting for the router, which will see the request.
    out.result = CancelResult::kRequested;
    return out;
  }
  Transition t{s, "cancelled", Error(Code::k_call_cancelled, "The fax was cancelled."), "policy", false, std::nullopt,
               std::chrono::seconds(0), actor, std::nullopt};
  auto moved = move(tx, id, t);
  if (!moved) return moved.error();
  out.result = *moved ? CancelResult::kCancelled : CancelResult::kNotCancellable;
  return out;
}

Result<int> delete_faxes_older_than(Tx& tx, int days, int batch) {
  if (days <= 0) return 0;
  auto& w = W(tx);
  const std::string age = std::to_string(days) + " days";
  // Finished outbound jobs with their uploads and pages; received faxes with their
  // TIFF/PDF. Inbox entries, attempts and events go with them (ON DELETE CASCADE).
  auto jobs = w.exec_params(
      "WITH old AS (SELECT id, pages_document_id FROM fax_jobs WHERE completed_at < now() - $1::interval "
      "  ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
      "docs AS (SELECT document_id AS id FROM fax_job_documents WHERE job_id IN (SELECT id FROM old) "
      "  UNION SELECT pages_document_id FROM old WHERE pages_document_id IS NOT NULL), "
      "gone AS (DELETE FROM fax_jobs WHERE id IN (SELECT id FROM old) RETURNING id) "
      "SELECT (SELECT count(*) FROM gone), coalesce(array_agg(id), '{}') FROM docs",
      age, batch);
  int deleted = jobs[0][0].as<int>();
  w.exec_params("DELETE FROM documents WHERE id = ANY($1::bigint[])", jobs[0][1].as<std::string>());
  auto received = w.exec_params(
      "WITH old AS (SELECT id, tiff_document_id, pdf_document_id FROM received_faxes "
      "  WHERE started_at < now() - $1::interval AND state IN ('routed', 'failed') "
      "  ORDER BY started_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
      "gone AS (DELETE FROM received_faxes WHERE id IN (SELECT id FROM old) RETURNING id) "
      "SELECT (SELECT count(*) FROM gone), coalesce(array_agg(d), '{}') FROM old, "
      "  unnest(ARRAY[tiff_document_id, pdf_document_id]) d WHERE d IS NOT NULL",
      age, batch);
  deleted += received[0][0].as<int>();
  w.exec_params("DELETE FROM documents WHERE id = ANY($1::bigint[])", received[0][1].as<std::string>());
  return deleted;
}

Result<int> delete_cdrs_older_than(Tx& tx, int days, int batch) {
  if (days <= 0) return 0;
  // Only attempts the router has applied: an unapplied result is still work.
  auto r = W(tx).exec_params(
      "DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE started_at < now() - $1::interval "
      "AND state IN ('applied', 'failed') ORDER BY started_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
      std::to_string(days) + " days", batch);
  return static_cast<int>(r.affected_rows());
}

}  // namespace faxbridge::db::routing
