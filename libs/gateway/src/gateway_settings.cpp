#include "faxbridge/gateway/gateway_settings.hpp"

#include <algorithm>
#include <thread>

namespace faxbridge::gateway {

using namespace std::chrono_literals;

GatewaySettings read_gateway_settings(config::ConfigReader& cfg, std::string instance) {
  GatewaySettings gs;
  gs.instance = std::move(instance);
  sip::Settings& sip = gs.sip;
  sip.bind_address = cfg.string("FAXBRIDGE_GATEWAY_SIP_BIND", "0.0.0.0", "IP address");
  sip.port = static_cast<int>(cfg.integer("FAXBRIDGE_GATEWAY_SIP_PORT", 5060, 1, 65535));
  sip.tcp = cfg.boolean("FAXBRIDGE_GATEWAY_SIP_TCP", false);
  sip.tls_certificate_dir = cfg.string("FAXBRIDGE_GATEWAY_SIP_TLS_CERT_DIR", "", "folder with agent.pem and cafile.pem");
  sip.tls_port = static_cast<int>(cfg.integer("FAXBRIDGE_GATEWAY_SIP_TLS_PORT", 0, 0, 65535));
  sip.tls_verify_peer = cfg.boolean("FAXBRIDGE_GATEWAY_SIP_TLS_VERIFY", true);
  sip.options_interval = cfg.duration_ms("FAXBRIDGE_GATEWAY_OPTIONS_INTERVAL_MS", 30000ms, 1000ms, 3600000ms);
  sip.transaction_timeout = cfg.duration_ms("FAXBRIDGE_GATEWAY_TRANSACTION_TIMEOUT_MS", 32000ms, 1000ms, 64000ms);
  sip.no_answer_timeout = cfg.duration_ms("FAXBRIDGE_GATEWAY_NO_ANSWER_TIMEOUT_MS", 60000ms, 1000ms, 600000ms);
  gs.media_address = cfg.string("FAXBRIDGE_GATEWAY_MEDIA_ADDRESS", "127.0.0.1", "IP address");
  gs.media_port_min = static_cast<int>(cfg.integer("FAXBRIDGE_GATEWAY_MEDIA_PORT_MIN", 20000, 1024, 65535));
  gs.media_port_max = static_cast<int>(cfg.integer("FAXBRIDGE_GATEWAY_MEDIA_PORT_MAX", 21999, 1024, 65535));
  gs.channels = static_cast<int>(cfg.integer("FAXBRIDGE_GATEWAY_CHANNELS", 8, 1, 10000));
  const auto threads = cfg.integer("FAXBRIDGE_GATEWAY_MEDIA_THREADS", 0, 0, 64);
  gs.media_threads = threads > 0 ? static_cast<int>(threads)
                                 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  gs.media_realtime_priority = static_cast<int>(cfg.integer("FAXBRIDGE_GATEWAY_MEDIA_RT_PRIORITY", 0, 0, 99));
  gs.audio_redundancy = static_cast<int>(cfg.integer("FAXBRIDGE_GATEWAY_AUDIO_REDUNDANCY", 0, 0, 8));
  gs.decode_ahead_pages = static_cast<int>(cfg.integer("FAXBRIDGE_GATEWAY_DECODE_AHEAD_PAGES", 20, 0, 1000));
  gs.spool_dir = cfg.string("FAXBRIDGE_GATEWAY_SPOOL_DIR", "/tmp", "directory");
  gs.place_calls = cfg.boolean("FAXBRIDGE_GATEWAY_PLACE_CALLS", true);
  gs.routes_refresh = cfg.duration_ms("FAXBRIDGE_GATEWAY_ROUTES_REFRESH_MS", 5000ms, 0ms, 3600000ms);
  const std::string registrar = cfg.string("FAXBRIDGE_GATEWAY_REGISTRAR", "", "host[:port]");
  const std::string user = cfg.string("FAXBRIDGE_GATEWAY_REGISTER_USER", "", "user name");
  const std::string auth_user = cfg.string("FAXBRIDGE_GATEWAY_REGISTER_AUTH_USER", "", "user name");
  const std::string password =
      cfg.string("FAXBRIDGE_GATEWAY_REGISTER_PASSWORD", "", "password", config::Visibility::kSecret);
  const auto expires = cfg.integer("FAXBRIDGE_GATEWAY_REGISTER_EXPIRES_S", 3600, 60, 86400);
  if (!registrar.empty()) {
    gs.registration = sip::Registration{registrar, user, auth_user, password, std::chrono::seconds(expires)};
  }
  // The same account answers a trunk's challenge to our INVITEs, registered or not.
  if (!password.empty()) gs.credentials = sip::Credentials{auth_user.empty() ? user : auth_user, password};
  return gs;
}

}  // namespace faxbridge::gateway
