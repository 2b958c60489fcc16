// The dashboard's queries (stats.hpp). Each names the index it is meant to use; the
// test (tests/libs/webapi/stats_routes_test.cpp) checks the plans over 100,000 jobs.
#include "faxbridge/db/stats.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db::stats {
namespace {

std::int64_t micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
TimePoint from_micros(std::int64_t us) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(us)));
}
std::optional<TimePoint> opt_time(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return from_micros(f.as<std::int64_t>());
}
constexpr const char* kUs = " * 1000000)::bigint";

}  // namespace

Result<std::vector<ChannelUse>> channels_in_use(Tx& tx) {
  // attempts_open_idx (0012): only the open attempts are in it.
  std::vector<ChannelUse> out;
  for (const auto& r : W(tx).exec("SELECT gateway_instance, count(*) FROM attempts WHERE state = 'open' "
                                  "GROUP BY gateway_instance ORDER BY gateway_instance")) {
    out.push_back({r[0].as<std::string>(), r[1].as<int>()});
  }
  return out;
}

Result<std::map<std::string, int>> queue_depth(Tx& tx) {
  // fax_jobs_active_state_idx (0012): the jobs not yet final, by state.
  std::map<std::string, int> out;
  for (const auto& r : W(tx).exec("SELECT state, count(*) FROM fax_jobs WHERE completed_at IS NULL GROUP BY state")) {
    out[r[0].as<std::string>()] = r[1].as<int>();
  }
  return out;
}

Result<std::vector<HourCount>> completed_per_hour(Tx& tx, TimePoint since, TimePoint until) {
  // fax_jobs_completed_cause_idx (0012): (completed_at, state, error_code), an index-only range.
  std::vector<HourCount> out;
  auto rows = W(tx).exec_params(
      std::string("SELECT (extract(epoch FROM date_trunc('hour', completed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')") +
          kUs +
          ", count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state = 'partially_sent'), "
          "count(*) FILTER (WHERE state = 'failed') FROM fax_jobs "
          "WHERE completed_at >= to_timestamp($1::float8 / 1000000) AND completed_at < to_timestamp($2::float8 / 1000000) "
          "AND state IN ('sent', 'partially_sent', 'failed') GROUP BY 1 ORDER BY 1",
      micros(since), micros(until));
  for (const auto& r : rows) out.push_back({from_micros(r[0].as<std::int64_t>()), r[1].as<int>(), r[2].as<int>(), r[3].as<int>()});
  return out;
}

Result<std::vector<CauseCount>> failures_by_cause(Tx& tx, TimePoint since, TimePoint until) {
  std::vector<CauseCount> out;
  auto rows = W(tx).exec_params(
      "SELECT coalesce(error_code, ''), count(*) FROM fax_jobs "
      "WHERE completed_at >= to_timestamp($1::float8 / 1000000) AND completed_at < to_timestamp($2::float8 / 1000000) "
      "AND state IN ('partially_sent', 'failed') GROUP BY 1 ORDER BY 2 DESC, 1",
      micros(since), micros(until));
  for (const auto& r : rows) out.push_back({r[0].as<std::string>(), r[1].as<int>()});
  return out;
}

Result<std::vector<AddressHealth>> gateway_health(Tx& tx) {
  std::vector<AddressHealth> out;
  auto rows = W(tx).exec(std::string("SELECT address, state, rtt_ms, last_status, (extract(epoch FROM last_ok_at)") + kUs +
                         ", (extract(epoch FROM last_fail_at)" + kUs + ", detail, (extract(epoch FROM updated_at)" +
                         kUs + " FROM gateway_health ORDER BY address");
  for (const auto& r : rows) {
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), opt<int>(r[2]), opt<int>(r[3]), opt_time(r[4]),
                   opt_time(r[5]), r[6].as<std::string>(), from_micros(r[7].as<std::int64_t>())});
  }
  return out;
}

Result<std::optional<WaitingJob>> oldest_waiting(Tx& tx) {
  // fax_jobs_waiting_created_idx (0012): the first entry is the answer.
  auto r = W(tx).exec(std::string("SELECT id, reference, state, (extract(epoch FROM created_at)") + kUs +
                      " FROM fax_jobs WHERE state IN ('submitted', 'ready', 'queued', 'retry_wait') "
                      "ORDER BY created_at, id LIMIT 1");
  if (r.empty()) return std::optional<WaitingJob>{};
  return std::optional<WaitingJob>(
      WaitingJob{r[0][0].as<std::int64_t>(), opt<std::string>(r[0][1]), r[0][2].as<std::string>(),
                 from_micros(r[0][3].as<std::int64_t>())});
}

}  // namespace faxbridge::db::stats
