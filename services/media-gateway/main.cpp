// faxbridge-media-gateway: places the queued fax calls and answers incoming ones, SIP and
// T.38 over UDP (libs/gateway).
#include <cstdio>
#include <string_view>

#include "faxbridge/gateway/gateway.hpp"
#include "faxbridge/gateway/gateway_settings.hpp"
#include "faxbridge/service/runtime.hpp"

using namespace faxbridge;
using namespace std::chrono_literals;

constexpr const char* kUsage = R"(usage: faxbridge-media-gateway [--help]
Places the fax calls the router queued and answers calls for the numbers users and
groups own, over SIP with T.38 or G.711 media. Environment: the common FAXBRIDGE_* variables
(docs/configuration.md), plus
  FAXBRIDGE_GATEWAY_SIP_BIND          SIP bind address (0.0.0.0)
  FAXBRIDGE_GATEWAY_SIP_PORT          SIP port, UDP (5060)
  FAXBRIDGE_GATEWAY_SIP_TCP           also listen on TCP, same port (false)
  FAXBRIDGE_GATEWAY_SIP_TLS_CERT_DIR  folder with agent.pem and cafile.pem; set: SIP over TLS
  FAXBRIDGE_GATEWAY_SIP_TLS_PORT      TLS port; 0: SIP port + 1 (0)
  FAXBRIDGE_GATEWAY_SIP_TLS_VERIFY    check the far end's certificate on calls we place (true)
  FAXBRIDGE_GATEWAY_MEDIA_ADDRESS     address for T.38 media, written in SDP (127.0.0.1)
  FAXBRIDGE_GATEWAY_MEDIA_PORT_MIN    first UDP media port (20000)
  FAXBRIDGE_GATEWAY_MEDIA_PORT_MAX    last UDP media port (21999)
  FAXBRIDGE_GATEWAY_CHANNELS          calls at once, both directions (8)
  FAXBRIDGE_GATEWAY_MEDIA_THREADS     media worker threads; 0: one per core (0)
  FAXBRIDGE_GATEWAY_MEDIA_RT_PRIORITY SCHED_FIFO priority of the media workers; 0: off (0)
  FAXBRIDGE_GATEWAY_SPOOL_DIR         where documents wait while on the wire (/tmp)
  FAXBRIDGE_GATEWAY_PLACE_CALLS       false: answer only, never claim outbound calls (true)
  FAXBRIDGE_GATEWAY_OPTIONS_INTERVAL_MS   OPTIONS ping period per route address (30000)
  FAXBRIDGE_GATEWAY_ROUTES_REFRESH_MS     how often routes are reloaded for pings; 0 off (5000)
  FAXBRIDGE_GATEWAY_TRANSACTION_TIMEOUT_MS  unanswered INVITE/OPTIONS: address failed (32000)
  FAXBRIDGE_GATEWAY_NO_ANSWER_TIMEOUT_MS    ringing this long is cancelled: no answer (60000)
  FAXBRIDGE_GATEWAY_REGISTRAR         host[:port] to REGISTER with; empty: no registration
  FAXBRIDGE_GATEWAY_REGISTER_USER, _AUTH_USER, _PASSWORD, _EXPIRES_S   the trunk account
)";

int main(int argc, char** argv) {
  if (auto exit_status = service::handle_arguments(argc, argv, kUsage)) return *exit_status;
  config::ConfigReader cfg(config::process_env());
  auto settings = service::read_settings(cfg, "media-gateway", 9105);
  auto gs = gateway::read_gateway_settings(cfg, settings.instance);
  if (auto r = cfg.finish(); !r) {
    std::fprintf(stderr, "faxbridge-media-gateway: %s\n", r.error().to_string().c_str());
    return 2;
  }
  service::Runtime rt(settings);  // before any thread starts: it blocks SIGTERM/SIGINT
  gs.metrics = &rt.metrics();
  return service::run_main([&] {
    service::log_effective_config(cfg);
    if (auto exit_status = rt.start_or_exit_status()) return *exit_status;
    auto gw = gateway::Gateway::start(rt.pool(), rt.publisher(), settings.bus.subscribe, gs);
    if (!gw) {
      log::write_error(log::Level::kError, "gateway.start_failed", gw.error());
      return 1;
    }
    rt.add_connection_check("subscriptions", [&] { return (*gw)->connected(); });
    // A gateway that should be registered with its trunk and is not fails every call
    // through it: not ready until it is (it keeps retrying).
    rt.add_health_check("registration", [&](std::string& detail) {
      const auto why = (*gw)->unregistered();
      detail = why.value_or("registered, or no registration configured");
      return !why.has_value();
    });
    rt.wait();
    gw->reset();
    return 0;
  });
}
