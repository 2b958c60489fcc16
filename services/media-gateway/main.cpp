// faxbridge-media-gateway: places the queued fax calls and answers incoming ones, SIP and
// T.38 over UDP (libs/gateway).
#include <cstdio>
#include <string_view>

#include "faxbridge/core/metrics.hpp"
#include "faxbridge/gateway/gateway.hpp"
#include "faxbridge/service/runtime.hpp"

using namespace faxbridge;
using namespace std::chrono_literals;

constexpr const char* kUsage = R"(usage: faxbridge-media-gateway [--help]
Places the fax calls the router queued and answers calls for the numbers users and
groups own, over SIP with T.38 media. Environment: the common FAXBRIDGE_* variables
(docs/configuration.md), plus
  FAXBRIDGE_GATEWAY_SIP_BIND          SIP bind address (0.0.0.0)
  FAXBRIDGE_GATEWAY_SIP_PORT          SIP port, UDP (5060)
  FAXBRIDGE_GATEWAY_MEDIA_ADDRESS     address for T.38 media, written in SDP (127.0.0.1)
  FAXBRIDGE_GATEWAY_MEDIA_PORT_MIN    first UDP media port (20000)
  FAXBRIDGE_GATEWAY_MEDIA_PORT_MAX    last UDP media port (21999)
  FAXBRIDGE_GATEWAY_CHANNELS          calls at once, both directions (8)
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
  gateway::GatewaySettings gs;
  gs.instance = settings.instance;
  gs.sip.bind_address = cfg.string("FAXBRIDGE_GATEWAY_SIP_BIND", "0.0.0.0", "IP address");
  gs.sip.port = static_cast<int>(cfg.integer("FAXBRIDGE_GATEWAY_SIP_PORT", 5060, 1, 65535));
  gs.media_address = cfg.string("FAXBRIDGE_GATEWAY_MEDIA_ADDRESS", "127.0.0.1", "IP address");
  gs.media_port_min = static_cast<int>(cfg.integer("FAXBRIDGE_GATEWAY_MEDIA_PORT_MIN", 20000, 1024, 65535));
  gs.media_port_max = static_cast<int>(cfg.integer("FAXBRIDGE_GATEWAY_MEDIA_PORT_MAX", 21999, 1024, 65535));
  gs.channels = static_cast<int>(cfg.integer("FAXBRIDGE_GATEWAY_CHANNELS", 8, 1, 10000));
  gs.spool_dir = cfg.string("FAXBRIDGE_GATEWAY_SPOOL_DIR", "/tmp", "directory");
  gs.place_calls = cfg.boolean("FAXBRIDGE_GATEWAY_PLACE_CALLS", true);
  gs.sip.options_interval = cfg.duration_ms("FAXBRIDGE_GATEWAY_OPTIONS_INTERVAL_MS", 30000ms, 1000ms, 3600000ms);
  gs.routes_refresh = cfg.duration_ms("FAXBRIDGE_GATEWAY_ROUTES_REFRESH_MS", 5000ms, 0ms, 3600000ms);
  gs.sip.transaction_timeout = cfg.duration_ms("FAXBRIDGE_GATEWAY_TRANSACTION_TIMEOUT_MS", 32000ms, 1000ms, 64000ms);
  gs.sip.no_answer_timeout = cfg.duration_ms("FAXBRIDGE_GATEWAY_NO_ANSWER_TIMEOUT_MS", 60000ms, 1000ms, 600000ms);
  gs.metrics = &metrics::Registry::global();
  const std::string registrar = cfg.string("FAXBRIDGE_GATEWAY_REGISTRAR", "", "host[:port]");
  const std::string register_user = cfg.string("FAXBRIDGE_GATEWAY_REGISTER_USER", "", "user name");
  const std::string auth_user = cfg.string("FAXBRIDGE_GATEWAY_REGISTER_AUTH_USER", "", "user name");
  const std::string password = cfg.string("FAXBRIDGE_GATEWAY_REGISTER_PASSWORD", "", "password", config::Visibility::kSecret);
  const auto expires = cfg.integer("FAXBRIDGE_GATEWAY_REGISTER_EXPIRES_S", 3600, 60, 86400);
  if (!registrar.empty()) gs.registration = sip::Registration{registrar, register_user, auth_user, password,
                                                              std::chrono::seconds(expires)};
  // The same account answers a trunk's challenge to our INVITEs, registered or not.
  if (!password.empty()) gs.credentials = sip::Credentials{auth_user.empty() ? register_user : auth_user, password};
  if (auto r = cfg.finish(); !r) {
    std::fprintf(stderr, "faxbridge-media-gateway: %s\n", r.error().to_string().c_str());
    return 2;
  }
  service::Runtime rt(settings);
  service::log_effective_config(cfg);
  if (auto r = rt.start(); !r) return r.error().code == Code::k_service_stopping ? 0 : 1;
  auto gw = gateway::Gateway::start(rt.pool(), rt.publisher(), settings.bus.subscribe, gs);
  if (!gw) {
    log::write_error(log::Level::kError, "gateway.start_failed", gw.error());
    return 1;
  }
  rt.add_health_check("subscriptions", [&](std::string& detail) {
    const bool up = (*gw)->connected();
    detail = up ? "subscribed" : "not connected";
    return up;
  });
  rt.wait();
  gw->reset();
  return 0;
}
