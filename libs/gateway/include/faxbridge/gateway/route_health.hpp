#pragma once
// Route health: the gateway pings every address of every route with OPTIONS
// (libs/sip does the pinging) and dials addresses it knows to be down last. Health only
// reorders: an address that is down is still tried when everything before it failed, so
// stale or wrong health data never costs a job.
//
// RouteHealth is the pure part (which addresses to ping, what a ping result means, the
// dialling order); HealthMonitor ties it to the routes table, the SIP agent and the
// gateway_health table. It runs on the gateway's control thread and hands its database
// work to a worker (the gateway's call store), so a slow database never holds it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/sip/user_agent.hpp"

namespace faxbridge::gateway {

class RouteHealth final {
 public:
  // The "host[:port]" an OPTIONS ping for a route address goes to: "sip:" and a user
  // part are dropped, as are URI parameters. Empty for an address that names no host.
  static std::string ping_target(const std::string& address);

  // The route addresses to watch now. Returns true when the set of ping targets changed
  // (the agent's monitor list must be replaced). Addresses no longer configured are
  // forgotten.
  bool set_addresses(const std::vector<std::string>& addresses);
  // Every ping target, sorted and without duplicates.
  std::vector<std::string> ping_targets() const;

  // A ping result: the rows to write to gateway_health, one per route address that
  // uses this target (two routes may spell the same gateway differently).
  std::vector<db::GatewayHealth> record(const sip::GatewayHealth& result);

  // true: the last ping of this address's target got no usable answer.
  bool is_down(const std::string& address) const;
  // The addresses in their configured order, those known to be down moved to the end
  // (in their configured order too).
  std::vector<std::string> order(const std::vector<std::string>& addresses) const;

 private:
  std::map<std::string, std::set<std::string>> addresses_by_target_;
  std::map<std::string, bool> down_by_target_;
};

// The sofia-side health of one ping, in the words the table keeps.
db::GatewayHealth health_row(const std::string& address, const sip::GatewayHealth& result);

class HealthMonitor final {
 public:
  // Runs database work on a worker; false when it was refused (the worker is saturated).
  using Submit = std::function<bool(std::function<void(db::Pool&)>)>;
  // Runs a function on the control thread.
  using Post = std::function<void(std::function<void()>)>;

  // `monitor` replaces the agent's ping list (UserAgent::monitor).
  HealthMonitor(Submit submit, Post post, std::function<Result<void>(const std::vector<std::string>&)> monitor,
                std::chrono::milliseconds refresh_interval);

  // Control thread: reloads the routes every refresh interval (so an edited route is
  // watched without a restart) and hands a changed target list to the agent.
  void tick();
  // Control thread: a ping result; written to gateway_health by the worker.
  void record(const sip::GatewayHealth& result);
  std::vector<std::string> order(const std::vector<std::string>& addresses) const { return health_.order(addresses); }
  // Every route address with its last state ("up", "down", "unknown"), for metrics.
  const std::map<std::string, std::string>& states() const { return states_; }

 private:
  void apply_routes(const std::vector<std::string>& addresses);

  Submit submit_;
  Post post_;
  bool loading_ = false;
  std::function<Result<void>(const std::vector<std::string>&)> monitor_;
  std::chrono::milliseconds refresh_interval_;
  std::chrono::steady_clock::time_point next_refresh_{};
  RouteHealth health_;
  std::map<std::string, std::string> states_;
};

}  // namespace faxbridge::gateway
