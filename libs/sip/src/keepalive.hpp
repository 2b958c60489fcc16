#pragma once
// The OPTIONS keep-alive of the gateways the agent calls (RFC 3261 section 11): one
// ping in flight per target, one every interval, the health of each. Private to
// libs/sip; runs on the agent's loop thread like everything that touches sofia. See
// keepalive.cpp.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "faxbridge/sip/user_agent.hpp"

struct nua_s;
struct nua_handle_s;

namespace faxbridge::sip::detail {

class OptionsMonitor final {
 public:
  using Clock = std::chrono::steady_clock;
  // Called with each target's health after each answer; the agent guards it (a callback
  // must not throw into sofia).
  using Report = std::function<void(const GatewayHealth&)>;

  OptionsMonitor(std::chrono::milliseconds interval, Report report)
      : interval_(interval), report_(std::move(report)) {}
  OptionsMonitor(const OptionsMonitor&) = delete;
  OptionsMonitor& operator=(const OptionsMonitor&) = delete;

  // Replaces the targets (each valid for monitor_uri) and pings the new ones at once.
  // A target that stays keeps its health and its ping in flight.
  void set_targets(nua_s* nua, const std::vector<std::string>& targets);
  // From the agent's tick: the pings that are due.
  void tick();
  bool owns(const nua_handle_s* nh) const;
  // nua_r_options for one of our handles.
  void on_response(int status, nua_handle_s* nh);
  std::vector<GatewayHealth> health() const;
  // Drops every handle (the agent is stopping).
  void stop();

 private:
  struct Target {
    std::string uri;
    std::string to;
    GatewayHealth health;
    nua_handle_s* nh = nullptr;
    Clock::time_point sent_at{};
    Clock::time_point next_at{};
  };

  std::chrono::milliseconds interval_;
  Report report_;
  nua_s* nua_ = nullptr;
  std::vector<Target> targets_;
};

}  // namespace faxbridge::sip::detail
