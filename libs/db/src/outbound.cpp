#include "faxbridge/db/outbound.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db::outbound {
namespace {

// Any fixed number: the key of the advisory lock that serialises call claims.
constexpr std::int64_t kClaimLockKey = 0x6661786f7574;  // "faxout"

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " milliseconds"; }

}  // namespace

Result<std::vector<Call>> claim_calls(Tx& tx, const std::string& gateway, int channels, int max_concurrent,
                                      std::chrono::milliseconds lease) {
  auto& w = W(tx);
  w.exec_params("SELECT pg_advisory_xact_lock($1)", kClaimLockKey);
  // One candidate per destination (the earliest by priority), none for a destination
  // that has an active call, as many as the global limit leaves.
  auto rows = w.exec_params(
      "WITH active AS (SELECT recipient_canonical FROM fax_jobs "
      "    WHERE state IN ('dialing', 'sending') AND owner IS NOT NULL), "
      "candidates AS (SELECT DISTINCT ON (j.recipient_canonical) j.id, j.priority, j.not_before "
      "    FROM fax_jobs j WHERE j.state = 'queued' AND j.not_before <= now() AND NOT j.cancel_requested "
      "    AND j.recipient_canonical NOT IN (SELECT recipient_canonical FROM active) "
      "    ORDER BY j.recipient_canonical, j.priority, j.not_before, j.id), "
      "picked AS (SELECT id FROM candidates ORDER BY priority, not_before, id "
      "    LIMIT greatest(0, least($2::int, $3::int - (SELECT count(*) FROM active)::int))) "
      "UPDATE fax_jobs j SET state = 'dialing', owner = $1, lease_until = now() + $4::interval, "
      "    claims = j.claims + 1, attempts = j.attempts + 1, updated_at = now() "
      "FROM picked WHERE j.id = picked.id "
      "RETURNING j.id, j.attempts, coalesce(j.dial_number, j.recipient_canonical), j.recipient_canonical, "
      "    j.route_id, j.pages_document_id, j.page_count, j.reference",
      gateway, channels, max_concurrent, ms(lease));
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
    auto a = w.exec_params(
        // clock_timestamp(), not now(): the transaction may have waited for the claim
        // lock, and the CDR must show when the call really started.
        "INSERT INTO attempts (job_id, attempt_no, gateway_instance, route_id, dialled_number, started_at) "
        "VALUES ($1, $2, $3, $4, $5, clock_timestamp()) RETURNING id",
        c.job_id, c.attempt_no, gateway, c.route_id, c.dial_number);
    c.attempt_id = a[0][0].as<std::int64_t>();
    w.exec_params("INSERT INTO job_events (job_id, from_state, to_state, actor) VALUES ($1, 'queued', 'dialing', $2)",
                  c.job_id, gateway);
    calls.push_back(std::move(c));
  }
  return calls;
}

Result<bool> mark_sending(Tx& tx, std::int64_t job_id, const std::string& gateway) {
  auto& w = W(tx);
  auto r = w.exec_params("UPDATE fax_jobs SET state = 'sending', updated_at = now() "
                         "WHERE id = $1 AND owner = $2 AND state = 'dialing'",
                         job_id, gateway);
  if (r.affected_rows() == 0) return false;
  w.exec_params("INSERT INTO job_events (job_id, from_state, to_state, actor) VALUES ($1, 'dialing', 'sending', $2)",
                job_id, gateway);
  return true;
}

Result<bool> record_progress(Tx& tx, std::int64_t attempt_id, int pages_sent, const std::string& phase_reached) {
  return W(tx).exec_params("UPDATE attempts SET pages_sent = $2, phase_reached = $3 WHERE id = $1 AND state = 'open'",
                           attempt_id, pages_sent, phase_reached).affected_rows() > 0;
}

Result<bool> renew(Tx& tx, std::int64_t job_id, const std::string& gateway, std::chrono::milliseconds lease) {
  return W(tx).exec_params("UPDATE fax_jobs SET lease_until = now() + $3::interval "
                           "WHERE id = $1 AND owner = $2 AND state IN ('dialing', 'sending')",
                           job_id, gateway, ms(lease)).affected_rows() > 0;
}

Result<bool> close(Tx& tx, const Call& call, const std::string& gateway, const AttemptEnd& end) {
  auto& w = W(tx);
  auto released = w.exec_params("UPDATE fax_jobs SET owner = NULL, lease_until = NULL, claims = 0, updated_at = now() "
                                "WHERE id = $1 AND owner = $2 AND state IN ('dialing', 'sending')",
                                call.job_id, gateway);
  if (released.affected_rows() == 0) return false;
  auto closed = attempts::close(tx, call.attempt_id, end);
  if (!closed) return closed.error();
  w.exec_params("UPDATE attempts SET state = 'closed', not_before = now() WHERE id = $1 AND state = 'open'",
                call.attempt_id);
  return true;
}

Result<int> active_calls(Tx& tx) {
  return W(tx).exec("SELECT count(*) FROM fax_jobs WHERE state IN ('dialing', 'sending') AND owner IS NOT NULL")[0][0]
      .as<int>();
}

}  // namespace faxbridge::db::outbound
