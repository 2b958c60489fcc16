// faxbridge-bus: the ZeroMQ forwarder every service connects to, plus its side port.
#include <atomic>
#include <cstdio>
#include <string_view>
#include <thread>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/core/config.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/core/stop_signals.hpp"
#include "faxbridge/http/side_port.hpp"
#include "faxbridge/service/runtime.hpp"

using namespace faxbridge;

constexpr const char* kUsage = R"(usage: faxbridge-bus [--help]
The Faxbridge message bus: a ZeroMQ XSUB/XPUB forwarder. Environment:
  FAXBRIDGE_BUS_PUBLISH_ENDPOINT    XSUB endpoint publishers connect to (tcp://127.0.0.1:5570)
  FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT  XPUB endpoint subscribers connect to (tcp://127.0.0.1:5571)
  FAXBRIDGE_HTTP_BIND_ADDRESS       side port address for /healthz and /metrics (0.0.0.0)
  FAXBRIDGE_HTTP_PORT               side port, 0 = any free port (9101)
  FAXBRIDGE_LOG_LEVEL               debug|info|warn|error (info)
  FAXBRIDGE_INSTANCE_ID             name of this process in logs (bus@host:pid)
)";

int main(int argc, char** argv) {
  if (auto exit_status = service::handle_arguments(argc, argv, kUsage)) return *exit_status;
  const StopSignals stop_signals;  // before any thread starts
  config::ConfigReader cfg(config::process_env());
  const auto settings = service::read_settings(cfg, "bus", 9101, /*use_db=*/false);
  if (auto r = cfg.finish(); !r) {
    std::fprintf(stderr, "faxbridge-bus: %s\n", r.error().to_string().c_str());
    return 2;
  }
  log::init("bus", settings.log_level);
  service::log_effective_config(cfg);
  // The bus binds the endpoints that the other services connect to.
  const bus::Endpoints& endpoints = settings.bus;
  const std::string& bind_address = settings.http_bind;
  const int port = settings.http_port;
  bus::Forwarder forwarder(endpoints);
  http::SidePort side_port(bind_address, port, {{"forwarder", [&](std::string& detail) {
                             detail = forwarder.running() ? "forwarding" : "stopped";
                             return forwarder.running();
                           }}});
  auto bound = forwarder.bind();
  auto listening = bound ? side_port.start() : Result<int>(bound.error());
  if (!listening) {
    log::write_error(log::Level::kError, "bus.start_failed", listening.error());
    return 1;
  }
  // A proxy that ends on its own has failed: wake main, and exit 1 so a supervisor restarts us.
  std::atomic<bool> stopping{false}, failed{false};
  std::thread forwarding([&] {
    forwarder.run();
    if (!stopping) {
      failed = true;
      StopSignals::request_stop();
    }
  });
  log::info("bus.stopping", {{"signal", stop_signals.wait()}});
  stopping = true;
  side_port.stop();
  forwarder.stop();
  forwarding.join();
  return failed ? 1 : 0;
}
