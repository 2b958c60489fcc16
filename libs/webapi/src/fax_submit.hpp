#pragma once
// Internal to libs/webapi: what POST /faxes (fax_submit.cpp) and resend (fax_routes.cpp)
// share: who may send, writing a batch of jobs with their answer, and the announcement.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "context.hpp"
#include "faxbridge/core/clock.hpp"
#include "faxbridge/db/faxes.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::webapi {

// The caller's account when it may send faxes; auth.send_not_enabled when an
// administrator turned sending off for it (the seed's "enable send").
Result<db::User> sending_user(db::Tx& tx, std::int64_t user_id);

// Tells the converter about new jobs (after the commit).
void announce_submitted(Context& cx, const std::vector<std::int64_t>& job_ids);

// "2026-12-01T09:30:00Z", "2026-12-01T10:30:00.250+01:00" (RFC 3339 date-time).
std::optional<TimePoint> parse_date_time(std::string_view text);

}  // namespace faxbridge::webapi
