// DESIGN: GET /api/v1/stats, the dashboard's figures, for administrators only: channels
// in use per gateway instance (open attempts), queue depth by job state, jobs sent /
// partially sent / failed per hour for the last 24 hours (24 buckets, oldest first,
// empty hours as zeros), failures by cause (error code) over the same 24 hours, the
// health of every gateway address (OPTIONS pings) and the job waiting longest. A fax
// user gets 403: these figures are the whole system's (other users' queues, the
// gateways), and a user's own are in GET /api/v1/faxes?status=... . Each figure is one
// indexed query (db/stats.hpp, migration 0012), all in one read-only transaction so
// they describe one moment; the clock is the server's, so tests can move it.
#include "context.hpp"
#include "faxbridge/db/stats.hpp"

namespace faxbridge::webapi {
namespace {

nlohmann::json time_or_null(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(iso8601_utc(*t)) : nlohmann::json(nullptr);
}

// The non-final job states, in the order of the life cycle.
constexpr const char* kQueueStates[] = {"submitted", "converting", "ready",   "routing",
                                        "queued",    "dialing",    "sending", "retry_wait"};

struct Figures {
  std::vector<db::ChannelUse> channels;
  std::map<std::string, int> queue;
  std::vector<db::HourCount> hours;
  std::vector<db::CauseCount> causes;
  std::vector<db::AddressHealth> gateways;
  std::optional<db::WaitingJob> oldest;
};

api::Reply stats(Context& cx, api::Request&) {
  using namespace std::chrono;
  const TimePoint now = cx.clock.now();
  // The current hour is the last bucket; the window is the 24 whole hours ending with it.
  const TimePoint this_hour = floor<hours>(now);
  const TimePoint since = this_hour - hours(23);
  const TimePoint until = this_hour + hours(1);
  auto figures = cx.pool.transact([&](db::Tx& tx) -> Result<Figures> {
    Figures f;
    auto channels = db::stats::channels_in_use(tx);
    if (!channels) return channels.error();
    auto queue = db::stats::queue_depth(tx);
    if (!queue) return queue.error();
    auto per_hour = db::stats::completed_per_hour(tx, since, until);
    if (!per_hour) return per_hour.error();
    auto causes = db::stats::failures_by_cause(tx, since, until);
    if (!causes) return causes.error();
    auto health = db::stats::gateway_health(tx);
    if (!health) return health.error();
    auto oldest = db::stats::oldest_waiting(tx);
    if (!oldest) return oldest.error();
    return Figures{std::move(*channels), std::move(*queue), std::move(*per_hour), std::move(*causes),
                   std::move(*health), std::move(*oldest)};
  });
  if (!figures) return figures.error();

  nlohmann::json channels = nlohmann::json::array();
  int channels_total = 0;
  for (const auto& c : figures->channels) {
    channels.push_back({{"gateway_instance", c.gateway_instance}, {"in_use", c.in_use}});
    channels_total += c.in_use;
  }
  nlohmann::json queue = nlohmann::json::object();
  for (const char* s : kQueueStates) {
    auto it = figures->queue.find(s);
    queue[s] = it == figures->queue.end() ? 0 : it->second;
  }
  nlohmann::json hourly = nlohmann::json::array();
  std::size_t next = 0;
  for (int i = 0; i < 24; ++i) {
    const TimePoint hour = since + hours(i);
    db::HourCount c{hour};
    while (next < figures->hours.size() && figures->hours[next].hour < hour) ++next;
    if (next < figures->hours.size() && figures->hours[next].hour == hour) c = figures->hours[next];
    hourly.push_back({{"hour", iso8601_utc(hour)},
                      {"sent", c.sent},
                      {"partially_sent", c.partially_sent},
                      {"failed", c.failed}});
  }
  nlohmann::json causes = nlohmann::json::array();
  for (const auto& c : figures->causes) causes.push_back({{"code", c.code}, {"count", c.count}});
  nlohmann::json gateways = nlohmann::json::array();
  for (const auto& g : figures->gateways) {
    gateways.push_back({{"address", g.address},
                        {"state", g.state},
                        {"rtt_ms", g.rtt_ms ? nlohmann::json(*g.rtt_ms) : nlohmann::json(nullptr)},
                        {"last_status", g.last_status ? nlohmann::json(*g.last_status) : nlohmann::json(nullptr)},
                        {"last_ok_at", time_or_null(g.last_ok_at)},
                        {"last_fail_at", time_or_null(g.last_fail_at)},
                        {"detail", g.detail},
                        {"updated_at", iso8601_utc(g.updated_at)}});
  }
  nlohmann::json oldest = nullptr;
  if (figures->oldest) {
    const auto& o = *figures->oldest;
    const auto age = duration_cast<seconds>(now - o.created_at).count();
    oldest = {{"id", o.id},
              {"reference", o.reference ? nlohmann::json(*o.reference) : nlohmann::json(nullptr)},
              {"state", o.state},
              {"created_at", iso8601_utc(o.created_at)},
              {"age_s", age < 0 ? 0 : age}};
  }
  return api::Response::json({{"generated_at", iso8601_utc(now)},
                              {"channels", {{"in_use", channels_total}, {"by_gateway", channels}}},
                              {"queue", queue},
                              {"hourly", hourly},
                              {"failures_by_cause", causes},
                              {"gateways", gateways},
                              {"oldest_waiting", oldest}});
}

}  // namespace

std::vector<api::Route> stats_routes(Context& cx) {
  return {
      {"GET", "/api/v1/stats", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return stats(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
