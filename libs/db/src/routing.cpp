#include "faxbridge/db/routing.hpp"

#include "faxbridge/db/states.hpp"
#include "lease_sql.hpp"
#include "pqxx_support.hpp"
#include "states_sql.hpp"

namespace faxbridge::db::routing {

QueueSpec routing_queue() { return {"fax_jobs", "ready", "routing", "failed", 10, std::chrono::seconds(30), false}; }
QueueSpec results_queue() { return {"attempts", "closed", "applying", "failed", 10, std::chrono::seconds(30)}; }

namespace {

constexpr const char* kJobColumns =
    "j.id, j.state, j.sender_user_id, j.recipient_canonical, j.reference, j.max_attempts, j.retry_interval_s, "
    "j.attempts, j.page_count, j.cancel_requested, j.subject";
constexpr int kJobColumnCount = 11;

JobForRouting job_from(const pqxx::row& r, int at = 0) {
  JobForRouting j;
  j.id = r[at + 0].as<std::int64_t>();
  j.state = r[at + 1].as<std::string>();
  j.sender_user_id = opt<std::int64_t>(r[at + 2]);
  j.recipient_canonical = r[at + 3].as<std::string>();
  j.reference = opt<std::string>(r[at + 4]);
  j.max_attempts = opt<int>(r[at + 5]);
  j.retry_interval_s = opt<int>(r[at + 6]);
  j.attempts = r[at + 7].as<int>();
  j.page_count = opt<int>(r[at + 8]);
  j.cancel_requested = r[at + 9].as<bool>();
  j.subject = r[at + 10].as<std::string>();
  return j;
}

ClosedAttempt attempt_from(const pqxx::row& r, int at = 0) {
  ClosedAttempt a;
  a.id = r[at + 0].as<std::int64_t>();
  a.job_id = r[at + 1].as<std::int64_t>();
  a.outcome = parse_outcome(r[at + 2].c_str()).value_or(Outcome::kFailed);
  a.error_code = opt<std::string>(r[at + 3]);
  a.pages_sent = r[at + 4].as<int>();
  a.sip_status = opt<int>(r[at + 5]);
  a.t30_code = opt<int>(r[at + 6]);
  a.phase_reached = opt<std::string>(r[at + 7]);
  return a;
}

constexpr const char* kAttemptColumns =
    "a.id, a.job_id, coalesce(a.outcome, 'failed'), a.error_code, a.pages_sent, a.sip_status, a.t30_code, "
    "a.phase_reached";
constexpr int kAttemptColumnCount = 8;

Error no_job(std::int64_t id) { return Error(Code::k_job_not_found, "No fax job has the id " + std::to_string(id) + "."); }

}  // namespace

Result<JobForRouting> load_job(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params(std::string("SELECT ") + kJobColumns + " FROM fax_jobs j WHERE j.id = $1", id);
  if (r.empty()) return no_job(id);
  return job_from(r[0]);
}

Result<RoutingInput> load_for_routing(Tx& tx, std::int64_t id) {
  // Longest enabled prefix first, the default route last (routes::match's order).
  static const std::string sql =
      std::string("SELECT ") + kJobColumns +
      ", r.id, r.is_default, "
      "(SELECT count(*) FROM route_gateways g WHERE g.route_id = r.id)::int, "
      "CASE WHEN r.is_default THEN 0 ELSE (SELECT count(*) FROM route_gateways g JOIN routes d ON d.id = g.route_id "
      "  WHERE d.is_default AND d.enabled)::int END, "
      // The dialling order the gateway follows: the route's addresses, then the default's.
      "ARRAY(SELECT g.address FROM route_gateways g WHERE g.route_id = r.id ORDER BY g.position) || "
      "  CASE WHEN r.is_default THEN ARRAY[]::text[] ELSE ARRAY(SELECT g.address FROM route_gateways g "
      "  JOIN routes d ON d.id = g.route_id WHERE d.is_default AND d.enabled ORDER BY d.id, g.position) END, "
      "r.t38_policy "
      "FROM fax_jobs j LEFT JOIN LATERAL (SELECT r.id, r.is_default, r.t38_policy FROM routes r WHERE r.enabled AND "
      "  (r.is_default OR (j.recipient_canonical LIKE r.prefix || '%' AND r.prefix <> '')) "
      "  ORDER BY r.is_default, length(r.prefix) DESC LIMIT 1) r ON true "
      "WHERE j.id = $1";
  auto r = exec_prepared_text(tx, sql, id);
  if (r.empty()) return no_job(id);
  RoutingInput in;
  in.job = job_from(r[0]);
  const int at = kJobColumnCount;
  if (!r[0][at].is_null()) {
    RouteChoice c;
    c.route_id = r[0][at].as<std::int64_t>();
    c.is_default = r[0][at + 1].as<bool>();
    c.addresses = r[0][at + 2].as<int>();
    c.fallback_addresses = r[0][at + 3].as<int>();
    c.gateway_addresses = text_array(r[0][at + 4]);
    c.t38_policy = r[0][at + 5].as<std::string>("auto");
    in.route = c;
  }
  return in;
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
  c.gateway_addresses = t.gateway_addresses;
  c.t38_policy = t.t38_policy;
  return transition(tx, id, *from, *to, t.actor, t.error, c);
}

Result<ClosedAttempt> load_attempt(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params(std::string("SELECT ") + kAttemptColumns + " FROM attempts a WHERE a.id = $1", id);
  if (r.empty()) return Error(Code::k_job_not_found, "No call attempt has the id " + std::to_string(id) + ".");
  return attempt_from(r[0]);
}

Result<ResultInput> load_result(Tx& tx, std::int64_t attempt_id) {
  static const std::string sql = std::string("SELECT ") + kAttemptColumns + ", " + kJobColumns +
                                 " FROM attempts a JOIN fax_jobs j ON j.id = a.job_id WHERE a.id = $1";
  auto r = exec_prepared_text(tx, sql, attempt_id);
  if (r.empty()) return Error(Code::k_job_not_found, "No call attempt has the id " + std::to_string(attempt_id) + ".");
  return ResultInput{attempt_from(r[0]), job_from(r[0], kAttemptColumnCount)};
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
    return "UPDATE attempts SET state = " + quoted(closed) + ", ended_at = " + at +
           ", outcome = " + quoted(outcome_name(Outcome::kInterrupted)) + ", error_code = $3, not_before = " + at + ", updated_at = " + at + ", "
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
