// faxbridge-bus: the ZeroMQ forwarder every service connects to, plus its side port.
#include <atomic>
#include <cstdio>
#include <string_view>
#include <thread>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/core/config.hpp"
#include "faxbridge/core/log.hpp"
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
  config::ConfigReader cfg(config::process_env());
  const auto settings = service::read_settings(cfg, "bus", 9101, /*use_db=*/false);
  if (auto r = cfg.finish(); !r) {
    std::fprintf(stderr, "faxbridge-bus: %s\n", r.error().to_string().c_str());
    return 2;
  }
  service::Runtime rt(settings);  // before any thread starts: it blocks SIGTERM/SIGINT
  return service::run_main([&] {
    service::log_effective_config(cfg);
    // The bus binds the endpoints that the other services connect to, before the
    // runtime's own publisher connects to it (its "bus" check then shows the
    // forwarder really carries messages).
    bus::Forwarder forwarder(settings.bus);
    if (auto bound = forwarder.bind(); !bound) {
      log::write_error(log::Level::kError, "bus.start_failed", bound.error());
      return 1;
    }
    if (auto exit_status = rt.start_or_exit_status()) return *exit_status;
    rt.add_health_check("forwarder", [&](std::string& detail) {
      detail = forwarder.running() ? "forwarding" : "stopped";
      return forwarder.running();
    });
    // A proxy that ends on its own has failed: stop, and exit 1 so a supervisor restarts us.
    std::atomic<bool> stopping{false}, failed{false};
    std::thread forwarding([&] {
      forwarder.run();
      if (!stopping) {
        failed = true;
        log::error("bus.forwarder_stopped");
        rt.request_stop();
      }
    });
    rt.wait();
    stopping = true;
    forwarder.stop();
    forwarding.join();
    return failed ? 1 : 0;
  });
}
