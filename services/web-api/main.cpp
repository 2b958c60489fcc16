// faxbridge-web-api: the REST API (/api/v1): sign-in, the caller, API tokens, faxes and files.
#include <algorithm>
#include <cstdio>

#include "faxbridge/core/secret_box.hpp"
#include "faxbridge/service/runtime.hpp"
#include "faxbridge/webapi/web_api.hpp"

using namespace faxbridge;

constexpr const char* kUsage = R"(usage: faxbridge-web-api [--help]
Serves the REST API (/api/v1) for integrations and the web UI: sign-in with a session
cookie or an API token, the caller's account, API tokens. Environment: the common
FAXBRIDGE_* variables (docs/configuration.md), plus
  FAXBRIDGE_API_BIND               address the API listens on (0.0.0.0)
  FAXBRIDGE_API_PORT               API port (8080)
  FAXBRIDGE_API_TLS_CERT, _KEY     PEM certificate and key: HTTPS only (unset: HTTP)
  FAXBRIDGE_API_THREADS            requests served at once (8)
  FAXBRIDGE_API_JSON_MAX_BYTES     largest JSON body (1048576)
  FAXBRIDGE_API_UPLOAD_MAX_BYTES   largest multipart upload (104857600)
  FAXBRIDGE_API_SESSION_IDLE_S     unused this long, a session ends (28800)
  FAXBRIDGE_API_SESSION_MAX_S      a session ends this long after sign-in (604800)
  FAXBRIDGE_API_REDOC_JS           Redoc's script for /api/docs (the source tree's node_modules)
  FAXBRIDGE_WEB_DIR                the web UI's built files, served outside /api/ (the build tree's web/dist)
  FAXBRIDGE_SECRET_KEY             32-byte key sealing the mail passwords of the settings, as 64
                                   hex digits (openssl rand -hex 32); unset: they cannot be set
)";

int main(int argc, char** argv) {
  if (auto exit_status = service::handle_arguments(argc, argv, kUsage)) return *exit_status;
  config::ConfigReader cfg(config::process_env());
  auto settings = service::read_settings(cfg, "web-api", 9102);
  webapi::WebApiSettings ws;
  ws.server.bind_address = cfg.string("FAXBRIDGE_API_BIND", "0.0.0.0", "an IP address");
  ws.server.port = static_cast<int>(cfg.integer("FAXBRIDGE_API_PORT", 8080, 0, 65535));
  ws.server.tls.certificate_file = cfg.string("FAXBRIDGE_API_TLS_CERT", "", "a PEM certificate file");
  ws.server.tls.private_key_file = cfg.string("FAXBRIDGE_API_TLS_KEY", "", "a PEM private key file");
  ws.server.threads = static_cast<std::size_t>(cfg.integer("FAXBRIDGE_API_THREADS", 8, 1, 256));
  ws.server.limits.json_max_bytes =
      static_cast<std::size_t>(cfg.integer("FAXBRIDGE_API_JSON_MAX_BYTES", 1 << 20, 1024, 64 << 20));
  ws.server.limits.multipart.max_total_bytes =
      static_cast<std::uint64_t>(cfg.integer("FAXBRIDGE_API_UPLOAD_MAX_BYTES", 100 << 20, 1024, 4LL << 30));
  ws.server.limits.multipart.max_file_bytes =
      std::min(ws.server.limits.multipart.max_file_bytes, ws.server.limits.multipart.max_total_bytes);
  ws.sessions.idle = std::chrono::seconds(cfg.integer("FAXBRIDGE_API_SESSION_IDLE_S", 28800, 60, 30 * 86400));
  ws.sessions.max_lifetime = std::chrono::seconds(cfg.integer("FAXBRIDGE_API_SESSION_MAX_S", 604800, 60, 365 * 86400));
  ws.redoc_script_path = cfg.string("FAXBRIDGE_API_REDOC_JS", "", "a file path");
  ws.web_directory = cfg.string("FAXBRIDGE_WEB_DIR", "", "a folder path");
  ws.secret_key = cfg.string("FAXBRIDGE_SECRET_KEY", "", "32 bytes as 64 hex digits or base64", config::Visibility::kSecret);
  if (auto r = cfg.finish(); !r) {
    std::fprintf(stderr, "faxbridge-web-api: %s\n", r.error().to_string().c_str());
    return 2;
  }
  const auto secret_key = secret_box::Key::parse(ws.secret_key);
  if (!secret_key && secret_key.error().code == Code::k_secret_key_invalid) {
    std::fprintf(stderr, "faxbridge-web-api: %s\n", secret_key.error().to_string().c_str());
    return 2;
  }
  if (ws.server.tls.certificate_file.empty() != ws.server.tls.private_key_file.empty()) {
    std::fprintf(stderr, "faxbridge-web-api: [config.invalid] FAXBRIDGE_API_TLS_CERT and FAXBRIDGE_API_TLS_KEY "
                         "are set together or not at all.\n");
    return 2;
  }
  service::Runtime rt(settings);  // before any thread starts: it blocks SIGTERM/SIGINT
  ws.server.metrics = &rt.metrics();  // what the side port's /metrics serves
  return service::run_main([&] {
    service::log_effective_config(cfg);
    if (!secret_key) log::write_error(log::Level::kWarn, "webapi.no_secret_key", secret_key.error());
    if (auto exit_status = rt.start_or_exit_status()) return *exit_status;
    webapi::BusAnnouncer announcer(rt.publisher());  // submitted faxes, cancelled calls
    ws.announcer = &announcer;
    webapi::WebApi api(rt.pool(), ws);
    if (auto started = api.start(); !started) {
      log::write_error(log::Level::kError, "service.start_failed", started.error());
      return 1;
    }
    rt.wait();
    api.stop();
    return 0;
  });
}
