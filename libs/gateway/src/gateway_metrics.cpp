#include "faxbridge/gateway/gateway_metrics.hpp"

namespace faxbridge::gateway {

GatewayMetrics::GatewayMetrics(metrics::Registry* registry, int channels) : registry_(registry) {
  if (registry_ == nullptr) return;
  registry_->gauge("faxbridge_gateway_channels", "Fax channels this gateway serves.").set(channels);
  const char* in_use = "faxbridge_gateway_channels_in_use";
  const char* help = "Channels with a call, by direction.";
  outbound_ = &registry_->gauge(in_use, help, {{"direction", "outbound"}});
  inbound_ = &registry_->gauge(in_use, help, {{"direction", "inbound"}});
  // Set-up on a LAN takes milliseconds, through a carrier seconds; ringing can take a minute.
  // Created up front so that "no failover yet" reads 0, not absent.
  failovers_ = &registry_->counter("faxbridge_gateway_route_failovers_total",
                                   "Route failures (5xx, no answer from the address) that moved a call to the next address.");
  setup_ = &registry_->histogram("faxbridge_gateway_call_setup_seconds",
                                 "Outbound calls: INVITE sent to 200 OK received.", metrics::latency_buckets());
}

void GatewayMetrics::channels_in_use(int outbound, int inbound) {
  if (registry_ == nullptr) return;
  outbound_->set(outbound);
  inbound_->set(inbound);
}

void GatewayMetrics::call_finished(const std::string& direction, const std::string& outcome) {
  if (registry_ == nullptr) return;
  registry_->counter("faxbridge_gateway_calls_total", "Calls ended, by direction and outcome.",
                     {{"direction", direction}, {"outcome", outcome}})
      .inc();
}

void GatewayMetrics::call_set_up(std::chrono::steady_clock::duration invite_to_answer) {
  if (registry_ == nullptr) return;
  setup_->observe(std::chrono::duration<double>(invite_to_answer).count());
}

void GatewayMetrics::route_failover() {
  if (registry_ == nullptr) return;
  failovers_->inc();
}

void GatewayMetrics::registration(bool registered) {
  if (registry_ == nullptr) return;
  registry_->gauge("faxbridge_gateway_registered", "1 while the trunk account is registered.").set(registered ? 1 : 0);
}

void GatewayMetrics::address_states(const std::map<std::string, std::string>& states) {
  if (registry_ == nullptr) return;
  for (const auto& [address, state] : states) {
    if (state == "unknown") continue;
    registry_->gauge("faxbridge_gateway_address_up", "Route address health from OPTIONS pings: 1 up, 0 down.",
                     {{"address", address}})
        .set(state == "up" ? 1 : 0);
  }
}

}  // namespace faxbridge::gateway
