#pragma once
// Internal to libs/db: the lease primitives every claim in this library shares
// (db::Queue's stages and the gateways' call claim in outbound.cpp): the time a
// statement uses (a controlled clock's when given, else the server's now()), the lease
// interval, and the columns a claim, a renewal and a release write.
#include <chrono>
#include <optional>
#include <string>

#include "faxbridge/core/clock.hpp"
#include "pqxx_support.hpp"

namespace faxbridge::db::lease_sql {

// "coalesce($n::timestamptz, now())": parameter n carries the clock's time or NULL.
inline std::string now(int param) { return "coalesce($" + std::to_string(param) + "::timestamptz, now())"; }
// The value of that parameter.
inline std::optional<std::string> now_param(const Clock* clock) {
  if (!clock) return std::nullopt;
  return to_sql_time(clock->now());
}
inline std::string interval(std::chrono::milliseconds d) { return std::to_string(d.count()) + " milliseconds"; }

// The SET list of a claim: working state, holder, lease from `now`, one more claim.
inline std::string set_claimed(const std::string& working_literal, const std::string& owner, const std::string& now,
                               const std::string& lease, const std::string& alias) {
  return "state = " + working_literal + ", owner = " + owner + ", lease_until = " + now + " + " + lease +
         "::interval, claims = " + alias + ".claims + 1, updated_at = " + now;
}
// The SET list that hands a lease back (the row stays where it is).
inline std::string set_released(const std::string& now) {
  return "owner = NULL, lease_until = NULL, claims = 0, updated_at = " + now;
}

}  // namespace faxbridge::db::lease_sql
