#pragma once
// The dashboard's figures, one query each, each answered from an index (migration
// 0012 adds the ones the older indexes do not cover), so a dashboard polling every few
// seconds costs little however many finished jobs the table holds.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

struct ChannelUse {
  std::string gateway_instance;
  int in_use = 0;  // attempts open (a call being placed or in progress)
};

struct HourCount {
  TimePoint hour;  // the start of the hour, UTC
  int sent = 0;
  int partially_sent = 0;
  int failed = 0;
};

struct CauseCount {
  std::string code;  // the error code ('' when a job failed without one)
  int count = 0;
};

struct AddressHealth {
  std::string address;
  std::string state;  // up | down | unknown
  std::optional<int> rtt_ms;
  std::optional<int> last_status;
  std::optional<TimePoint> last_ok_at;
  std::optional<TimePoint> last_fail_at;
  std::string detail;
  TimePoint updated_at;
};

struct WaitingJob {
  std::int64_t id = 0;
  std::optional<std::string> reference;
  std::string state;
  TimePoint created_at;
};

namespace stats {
// Open attempts per gateway instance.
Result<std::vector<ChannelUse>> channels_in_use(Tx& tx);
// Jobs per state, for the states that are not final (zero counts left out).
Result<std::map<std::string, int>> queue_depth(Tx& tx);
// Jobs completed per hour in [since, until), sent / partially sent / failed; only the
// hours that had any.
Result<std::vector<HourCount>> completed_per_hour(Tx& tx, TimePoint since, TimePoint until);
// Failed and partially sent jobs completed in [since, until) by error code, most first.
Result<std::vector<CauseCount>> failures_by_cause(Tx& tx, TimePoint since, TimePoint until);
Result<std::vector<AddressHealth>> gateway_health(Tx& tx);
// The job waiting longest in submitted, ready, queued or retry_wait.
Result<std::optional<WaitingJob>> oldest_waiting(Tx& tx);
}  // namespace stats

}  // namespace faxbridge::db
