#include "faxbridge/db/queue.hpp"

#include "faxbridge/core/log.hpp"
#include "lease_sql.hpp"
#include "pqxx_support.hpp"
#include "states_sql.hpp"

namespace faxbridge::db {

QueueSpec conversion_queue() { return {"fax_jobs", "submitted", "converting", "failed", 5, std::chrono::minutes(2)}; }
QueueSpec inbound_routing_queue() { return {"received_faxes", "received", "routing", "failed", 10, std::chrono::seconds(30)}; }
QueueSpec notification_queue() {
  QueueSpec s{"notifications", "pending", "sending", "failed", 20, std::chrono::minutes(1)};
  s.claims_wait_for_disk = false;
  return s;
}

namespace {

std::string lease_text(std::chrono::milliseconds lease) { return lease_sql::interval(lease); }

std::vector<Claim> claims_of(const pqxx::result& rows) {
  std::vector<Claim> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back({row[0].as<std::int64_t>(), row[1].as<int>()});
  return out;
}

// claimed rows: id, claims, was, reference.
void log_claims(Tx& tx, const pqxx::result& rows, const std::string& to, const std::string& owner) {
  for (const auto& row : rows) {
    states_sql::log_job_state_after_commit(tx, row[0].as<std::int64_t>(), opt<std::string>(row[3]),
                                           row[2].as<std::string>(), to, owner);
  }
}

}  // namespace

// $1 owner, $2 now (NULL: the database's clock), $3 lease interval, then per statement.
// Every claim picks its rows first (with the state and holder they had), so that on
// fax_jobs the same statement writes each row's job_events row: a claim is a move like
// any other (ready -> working, or working -> working when a dead holder's lease is
// taken over) and the table in states.cpp must allow it.
Queue::Queue(Pool& pool, QueueSpec spec, std::string owner, const Clock* clock)
    : pool_(pool), spec_(std::move(spec)), owner_(std::move(owner)), clock_(clock) {
  using states_sql::quoted;
  const std::string& t = spec_.table;
  const std::string ready = quoted(spec_.ready_state), working = quoted(spec_.working_state),
                    failed = quoted(spec_.failed_state);
  machine_ = machine_of(t);
  if (machine_) {
    states_sql::require_edge(*machine_, spec_.ready_state, spec_.working_state);
    states_sql::require_edge(*machine_, spec_.working_state, spec_.working_state);
    states_sql::require_edge(*machine_, spec_.working_state, spec_.ready_state);
    states_sql::require_edge(*machine_, spec_.ready_state, spec_.failed_state);
    states_sql::require_edge(*machine_, spec_.working_state, spec_.failed_state);
  }
  job_events_ = machine_ == &job_machine();
  const std::string now = lease_sql::now(2);
  const std::string due = spec_.wait_for_not_before ? " AND not_before <= " + now : std::string();
  const std::string set_claimed = " SET " + lease_sql::set_claimed(working, "$1", now, "$3", "q");
  // picked (id, was, was_owner) -> claimed (id, claims, was, reference) [-> events]
  // Without the wait for the disk, `relaxed` (joined, so it runs once) sets
  // synchronous_commit for the claim's transaction in the claim's own statement.
  const bool relaxed = !spec_.claims_wait_for_disk;
  auto claim_sql = [&](const std::string& picked) {
    std::string sql = std::string(relaxed ? "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)), " : "WITH ") +
                      "picked AS (" + picked + "), claimed AS (UPDATE " + t + " q" + set_claimed +
                      " FROM picked" + (relaxed ? ", relaxed" : "") + " WHERE q.id = picked.id RETURNING q.id, q.claims, picked.was, " +
                      (job_events_ ? "q.reference" : "NULL::text AS reference") + ")";
    if (job_events_) {
      sql += ", ev AS (" +
             states_sql::job_events_insert("claimed", "id", "was", working, "$1", "NULL",
                                           "CASE WHEN was = " + working +
                                               " THEN 'lease expired; taken over' ELSE '' END") +
             ")";
    }
    return sql + " SELECT id, claims, was, reference FROM claimed";
  };
  const std::string cols = "SELECT id, state AS was FROM " + t;
  sql_claim_id_ = claim_sql(cols + " WHERE id = $4 AND claims < $5 AND ((state = " + ready +
                            (spec_.wait_for_not_before ? " AND not_before <= " + now : std::string()) +
                            ") OR (state = " + working + " AND lease_until < " + now + ")) FOR UPDATE");
  sql_claim_ready_ = claim_sql(cols + " WHERE state = " + ready + due +
                               " ORDER BY priority, not_before, id LIMIT $4 FOR UPDATE SKIP LOCKED");
  sql_claim_expired_ = claim_sql(cols + " WHERE state = " + working + " AND lease_until < " + now +
                                 " AND claims < $5 ORDER BY lease_until LIMIT $4 FOR UPDATE SKIP LOCKED");
  // Rows that used up their claims: whoever sees them first fails them, once.
  // ($1 now, $2 max_claims, $3 the code)
  const std::string now1 = lease_sql::now(1);
  sql_exhaust_ = "WITH picked AS (SELECT id, state AS was FROM " + t + " WHERE state IN (" + ready + ", " + working +
                 ") AND claims >= $2 AND (state = " + ready + " OR lease_until < " + now1 +
                 ") LIMIT 100 FOR UPDATE SKIP LOCKED), failed AS (UPDATE " + t + " q SET state = " + failed +
                 ", owner = NULL, lease_until = NULL, error_code = $3, updated_at = " + now1 +
                 (job_events_ ? ", completed_at = " + now1 : std::string()) +
                 " FROM picked WHERE q.id = picked.id RETURNING q.id, picked.was, " +
                 (job_events_ ? "q.reference" : "NULL::text AS reference") + ")";
  if (job_events_) {
    sql_exhaust_ += ", ev AS (" + states_sql::job_events_insert("failed", "id", "was", failed, "'queue'", "$3") + ")";
  }
  sql_exhaust_ += " SELECT id, was, reference FROM failed";
  sql_renew_ = "UPDATE " + t + " SET lease_until = " + now + " + $3::interval WHERE id = $4 AND owner = $1 AND state = " +
               working + " RETURNING id";
  // ($1 owner, $2 now, $3 id, $4 delay or target state, $5 the error code on fax_jobs)
  // A stage that ignores not_before must not overwrite it either (it is the job's
  // schedule); its released rows come back at the next sweep. (It still names $4, so
  // both forms take the same parameters.)
  sql_release_ = "WITH released AS (UPDATE " + t + " SET state = " + ready + ", owner = NULL, lease_until = NULL, " +
                 (spec_.wait_for_not_before ? "not_before = " + now + " + $4::interval, " : std::string()) +
                 "updated_at = " + now + " WHERE id = $3 AND owner = $1 AND state = " + working +
                 (spec_.wait_for_not_before ? "" : " AND $4::interval IS NOT NULL") + " RETURNING id, " +
                 (job_events_ ? "reference" : "NULL::text AS reference") + ")";
  if (job_events_) {
    sql_release_ += ", ev AS (" + states_sql::job_events_insert("released", "id", working, ready, "$1", "$5::text") + ")";
  }
  sql_release_ += " SELECT id, reference FROM released";
  sql_finish_ = "UPDATE " + t + " SET state = $4, owner = NULL, lease_until = NULL, claims = 0, updated_at = " +
                now + " WHERE id = $3 AND owner = $1 AND state = " + working + " RETURNING id";
}

std::optional<std::string> Queue::now_param() const { return lease_sql::now_param(clock_); }

Result<std::optional<Claim>> Queue::claim(std::int64_t id) {
  return pool_.transact([&](Tx& tx) -> Result<std::optional<Claim>> {
    auto rows = exec_prepared_text(tx, sql_claim_id_, owner_, now_param(), lease_text(spec_.lease), id,
                                   spec_.max_claims);
    if (rows.empty()) return std::optional<Claim>{};
    if (job_events_) log_claims(tx, rows, spec_.working_state, owner_);
    return std::optional<Claim>(claims_of(rows).front());
  });
}

Result<std::vector<Claim>> Queue::claim_next(int limit) {
  if (limit <= 0) return std::vector<Claim>{};
  std::vector<Claim> out;
  // Rows whose holder died come first: they have waited longest. Looking for them
  // costs a round trip, so a busy loop that sweeps back to back looks once a second:
  // a dead holder's rows wait at most that much longer than their lease.
  const TimePoint now = clock_ ? clock_->now() : SystemClock::instance().now();
  if (now - last_expired_check_.load() >= kExpiredCheckInterval) {
    last_expired_check_ = now;
    auto expired = pool_.transact([&](Tx& tx) -> Result<std::vector<Claim>> {
      auto failed = exec_prepared_text(tx, sql_exhaust_, now_param(), spec_.max_claims,
                                       std::string(code_name(Code::k_queue_claims_exhausted)));
      for (const auto& row : failed) {
        if (job_events_) {
          states_sql::log_job_state_after_commit(tx, row[0].as<std::int64_t>(), opt<std::string>(row[2]),
                                                 row[1].as<std::string>(), spec_.failed_state, "queue",
                                                 std::string(code_name(Code::k_queue_claims_exhausted)));
        }
        log::error("queue.claims_exhausted", {{"table", spec_.table},
                                              {"id", row[0].as<std::int64_t>()},
                                              {"max_claims", spec_.max_claims}});
      }
      auto rows = exec_prepared_text(tx, sql_claim_expired_, owner_, now_param(), lease_text(spec_.lease),
                                     limit, spec_.max_claims);
      if (job_events_) log_claims(tx, rows, spec_.working_state, owner_);
      return claims_of(rows);
    });
    if (!expired) return expired.error();
    out = std::move(*expired);
    for (const auto& c : out) {
      log::warn("queue.lease_taken_over", {{"table", spec_.table}, {"id", c.id}, {"claims", c.claims}});
    }
  }
  const int rest = limit - static_cast<int>(out.size());
  if (rest <= 0) return out;
  auto ready = pool_.transact([&](Tx& tx) -> Result<std::vector<Claim>> {
    auto rows = exec_prepared_text(tx, sql_claim_ready_, owner_, now_param(), lease_text(spec_.lease), rest);
    if (job_events_) log_claims(tx, rows, spec_.working_state, owner_);
    return claims_of(rows);
  });
  if (!ready) {
    if (!out.empty()) return out;  // keep what we hold; the sweep comes back
    return ready.error();
  }
  out.insert(out.end(), ready->begin(), ready->end());
  return out;
}

Result<bool> Queue::renew(std::int64_t id) {
  return pool_.transact([&](Tx& tx) -> Result<bool> {
    return !exec_prepared_text(tx, sql_renew_, owner_, now_param(), lease_text(spec_.lease), id).empty();
  });
}

Result<bool> Queue::release(std::int64_t id, std::chrono::milliseconds delay,
                            const std::optional<Error>& error) {
  if (error) {
    log::write_error(log::Level::kWarn, "queue.released", *error,
                     {{"table", spec_.table}, {"id", id}, {"delay_ms", static_cast<std::int64_t>(delay.count())}});
  }
  return pool_.transact([&](Tx& tx) -> Result<bool> {
    if (!job_events_) return !exec_prepared_text(tx, sql_release_, owner_, now_param(), id, lease_text(delay)).empty();
    std::optional<std::string> code;
    if (error) code = std::string(error->name());
    auto rows = exec_prepared_text(tx, sql_release_, owner_, now_param(), id, lease_text(delay), code);
    if (rows.empty()) return false;
    states_sql::log_job_state_after_commit(tx, id, opt<std::string>(rows[0][1]), spec_.working_state,
                                           spec_.ready_state, owner_, code);
    return true;
  });
}

Result<bool> Queue::finish(Tx& tx, std::int64_t id, const std::string& to_state) {
  if (job_events_) {
    const auto from = parse_job_state(spec_.working_state), to = parse_job_state(to_state);
    if (!from || !to) return Error(Code::k_internal, "fax_jobs has no state \"" + to_state + "\".");
    JobChange change;
    change.holder = owner_;
    change.release_lease = true;
    return transition(tx, id, *from, *to, owner_, std::nullopt, change);
  }
  if (machine_ && !machine_->allows(spec_.working_state, to_state)) {
    return Error(Code::k_internal, spec_.table + ": " + spec_.working_state + " -> " + to_state +
                                       " is not an allowed move.");
  }
  return !exec_prepared_text(tx, sql_finish_, owner_, now_param(), id, to_state).empty();
}

Result<std::vector<std::int64_t>> Queue::finish_all(Tx& tx, const std::vector<std::int64_t>& ids,
                                                    const std::string& to_state, const std::string& also_set,
                                                    Commit commit) {
  if (job_events_) return Error(Code::k_internal, "finish_all is not for fax_jobs: each move writes its event.");
  if (machine_ && !machine_->allows(spec_.working_state, to_state)) {
    return Error(Code::k_internal, spec_.table + ": " + spec_.working_state + " -> " + to_state +
                                       " is not an allowed move.");
  }
  std::vector<std::int64_t> moved;
  if (ids.empty()) return moved;
  // The same text per also_set: prepared once per connection. kNoWait sets
  // synchronous_commit for this transaction in the same statement (`relaxed`, joined so
  // it runs once), so an autocommit caller spends no round trip on a SET LOCAL.
  const bool no_wait = commit == Commit::kNoWait;
  const std::string sql = std::string(no_wait ? "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) " : "") +
                          "UPDATE " + spec_.table + " SET state = $4, owner = NULL, lease_until = NULL, claims = 0, "
                          "updated_at = " + lease_sql::now(2) + (also_set.empty() ? "" : ", " + also_set) +
                          (no_wait ? " FROM relaxed" : "") +
                          " WHERE id = ANY($3::bigint[]) AND owner = $1 AND state = " + states_sql::quoted(spec_.working_state) +
                          " RETURNING id";
  for (const auto& row : exec_prepared_text(tx, sql, owner_, now_param(), bigint_array(ids), to_state)) {
    moved.push_back(row[0].as<std::int64_t>());
  }
  return moved;
}

}  // namespace faxbridge::db
