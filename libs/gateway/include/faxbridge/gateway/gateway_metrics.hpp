#pragma once
// The gateway's series on the service's /metrics (Prometheus text, libs/core metrics):
//   faxbridge_gateway_channels                          gauge, channels configured
//   faxbridge_gateway_channels_in_use{direction}        gauge, outbound | inbound
//   faxbridge_gateway_calls_total{direction,outcome}    counter; outbound outcomes are the
//       attempt's (sent, busy, no_answer, rejected, failed, cancelled, ...), inbound ones
//       received, failed (no or partial pages) and refused (never answered)
//   faxbridge_gateway_call_setup_seconds                histogram, INVITE to 200 OK, outbound
//   faxbridge_gateway_route_failovers_total             counter, route failures that moved a
//       call on to the next address
//   faxbridge_gateway_registered                        gauge, 1 while the trunk account is
//       registered (only with a registration)
//   faxbridge_gateway_address_up{address}               gauge, 1 up / 0 down, per route address
//       once pinged (an address removed from every route keeps its last value)
// With no registry every call is a no-op (tests that do not look at metrics).
#include <chrono>
#include <map>
#include <string>

#include "faxbridge/core/metrics.hpp"

namespace faxbridge::gateway {

class GatewayMetrics final {
 public:
  GatewayMetrics(metrics::Registry* registry, int channels);
  void channels_in_use(int outbound, int inbound);
  void call_finished(const std::string& direction, const std::string& outcome);
  void call_set_up(std::chrono::steady_clock::duration invite_to_answer);
  void route_failover();
  void registration(bool registered);  // any thread
  void address_states(const std::map<std::string, std::string>& states);

 private:
  metrics::Registry* registry_;
  metrics::Gauge* outbound_ = nullptr;
  metrics::Gauge* inbound_ = nullptr;
  metrics::Histogram* setup_ = nullptr;
  metrics::Counter* failovers_ = nullptr;
};

}  // namespace faxbridge::gateway
