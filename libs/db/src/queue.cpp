#include "faxbridge/db/queue.hpp"

#include "faxbridge/core/log.hpp"
#include "pqxx_support.hpp"

namespace faxbridge::db {

QueueSpec conversion_queue() { return {"fax_jobs", "submitted", "converting", "failed", 5, std::chrono::minutes(2)}; }
QueueSpec inbound_routing_queue() { return {"received_faxes", "received", "routing", "failed", 10, std::chrono::seconds(30)}; }
QueueSpec notification_queue() { return {"notifications", "pending", "sending", "failed", 20, std::chrono::minutes(1)}; }

namespace {

std::string lease_text(std::chrono::milliseconds lease) {
  return std::to_string(lease.count()) + " milliseconds";
}

std::vector<Claim> claims_of(const pqxx::result& rows) {
  std::vector<Claim> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back({row[0].as<std::int64_t>(), row[1].as<int>()});
  return out;
}

}  // namespace

// $1 owner, $2 now (NULL: the database's clock), $3 lease interval, then per statement.
Queue::Queue(Pool& pool, QueueSpec spec, std::string owner, const Clock* clock)
    : pool_(pool), spec_(std::move(spec)), owner_(std::move(owner)), clock_(clock) {
  const std::string& t = spec_.table;
  const std::string now = "coalesce($2::timestamptz, now())";
  const std::string due = spec_.wait_for_not_before ? " AND not_before <= " + now : std::string();
  const std::string set_claimed = " SET state = '" + spec_.working_state + "', owner = $1, lease_until = " +
                                  now + " + $3::interval, claims = q.claims + 1, updated_at = " + now;
  sql_claim_id_ = "UPDATE " + t + " q" + set_claimed + " WHERE q.id = $4 AND q.claims < $5 AND ((q.state = '" +
                  spec_.ready_state + "'" + (spec_.wait_for_not_before ? " AND q.not_before <= " + now : std::string()) + ") OR (q.state = '" +
                  spec_.working_state + "' AND q.lease_until < " + now + ")) RETURNING q.id, q.claims";
  sql_claim_ready_ = "WITH picked AS (SELECT id FROM " + t + " WHERE state = '" + spec_.ready_state + "'" + due +
                     " ORDER BY priority, not_before, id LIMIT $4 FOR UPDATE SKIP LOCKED) UPDATE " + t +
                     " q" + set_claimed + " FROM picked WHERE q.id = picked.id RETURNING q.id, q.claims";
  sql_claim_expired_ = "WITH picked AS (SELECT id FROM " + t + " WHERE state = '" + spec_.working_state +
                       "' AND lease_until < " + now + " AND claims < $5" +
                       " ORDER BY lease_until LIMIT $4 FOR UPDATE SKIP LOCKED) UPDATE " + t + " q" +
                       set_claimed + " FROM picked WHERE q.id = picked.id RETURNING q.id, q.claims";
  // Rows that used up their claims: whoever sees them first fails them, once.
  // ($1 now, $2 max_claims)
  const std::string now1 = "coalesce($1::timestamptz, now())";
  sql_exhaust_ = "UPDATE " + t + " SET state = '" + spec_.failed_state +
                 "', owner = NULL, lease_until = NULL, error_code = 'queue.claims_exhausted', updated_at = " +
                 now1 + " WHERE id IN (SELECT id FROM " + t + " WHERE state IN ('" + spec_.ready_state +
                 "', '" + spec_.working_state + "') AND claims >= $2 AND (state = '" + spec_.ready_state +
                 "' OR lease_until < " + now1 + ") LIMIT 100 FOR UPDATE SKIP LOCKED) RETURNING id";
  sql_renew_ = "UPDATE " + t + " SET lease_until = " + now + " + $3::interval WHERE id = $4 AND owner = $1 AND state = '" +
               spec_.working_state + "' RETURNING id";
  // ($1 owner, $2 now, $3 id, $4 delay or target state)
  // A stage that ignores not_before must not overwrite it either (it is the job's
  // schedule); its released rows come back at the next sweep. (It still names $4, so
  // both forms take the same parameters.)
  sql_release_ = "UPDATE " + t + " SET state = '" + spec_.ready_state + "', owner = NULL, lease_until = NULL, " +
                 (spec_.wait_for_not_before ? "not_before = " + now + " + $4::interval, " : std::string()) +
                 "updated_at = " + now + " WHERE id = $3 AND owner = $1 AND state = '" + spec_.working_state +
                 "'" + (spec_.wait_for_not_before ? "" : " AND $4::interval IS NOT NULL") + " RETURNING id";
  sql_finish_ = "UPDATE " + t + " SET state = $4, owner = NULL, lease_until = NULL, claims = 0, updated_at = " +
                now + " WHERE id = $3 AND owner = $1 AND state = '" + spec_.working_state + "' RETURNING id";
}

std::optional<std::string> Queue::now_param() const {
  if (!clock_) return std::nullopt;
  return to_sql_time(clock_->now());
}

Result<std::optional<Claim>> Queue::claim(std::int64_t id) {
  return pool_.transact([&](Tx& tx) -> Result<std::optional<Claim>> {
    auto rows = W(tx).exec_params(sql_claim_id_, owner_, now_param(), lease_text(spec_.lease), id,
                                  spec_.max_claims);
    if (rows.empty()) return std::optional<Claim>{};
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
      auto& w = W(tx);
      auto failed = w.exec_params(sql_exhaust_, now_param(), spec_.max_claims);
      for (const auto& row : failed) {
        log::error("queue.claims_exhausted", {{"table", spec_.table},
                                              {"id", row[0].as<std::int64_t>()},
                                              {"max_claims", spec_.max_claims}});
      }
      return claims_of(w.exec_params(sql_claim_expired_, owner_, now_param(), lease_text(spec_.lease), limit,
                                     spec_.max_claims));
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
    return claims_of(W(tx).exec_params(sql_claim_ready_, owner_, now_param(),
                                       lease_text(spec_.lease), rest));
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
    return !W(tx).exec_params(sql_renew_, owner_, now_param(), lease_text(spec_.lease), id).empty();
  });
}

Result<bool> Queue::release(std::int64_t id, std::chrono::milliseconds delay,
                            const std::optional<Error>& error) {
  if (error) {
    log::write_error(log::Level::kWarn, "queue.released", *error,
                     {{"table", spec_.table}, {"id", id}, {"delay_ms", static_cast<std::int64_t>(delay.count())}});
  }
  return pool_.transact([&](Tx& tx) -> Result<bool> {
    return !W(tx).exec_params(sql_release_, owner_, now_param(), id, lease_text(delay)).empty();
  });
}

Result<bool> Queue::finish(Tx& tx, std::int64_t id, const std::string& to_state) {
  return !W(tx).exec_params(sql_finish_, owner_, now_param(), id, to_state).empty();
}

}  // namespace faxbridge::db
