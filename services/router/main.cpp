// faxbridge-router: the outbound job life cycle, inbound routing, retention.
#include <cstdio>
#include <string_view>

#include "faxbridge/router/router.hpp"
#include "faxbridge/service/runtime.hpp"

using namespace faxbridge;
using namespace std::chrono_literals;

constexpr const char* kUsage = R"(usage: faxbridge-router [--help]
Routes outbound fax jobs (rights, routes, retries, limits), applies call results,
delivers received faxes to inboxes, and deletes old data. Environment: the common
FAXBRIDGE_* variables (docs/configuration.md), plus
  FAXBRIDGE_ROUTER_WORKERS        jobs handled at once per stage (4)
  FAXBRIDGE_ROUTER_SWEEP_MS       sweep interval of each stage (2000)
)";

int main(int argc, char** argv) {
  if (auto exit_status = service::handle_arguments(argc, argv, kUsage)) return *exit_status;
  config::ConfigReader cfg(config::process_env());
  auto settings = service::read_settings(cfg, "router", 9103);
  router::RouterSettings rs;
  rs.instance = settings.instance;
  rs.workers = static_cast<int>(cfg.integer("FAXBRIDGE_ROUTER_WORKERS", 4, 1, 64));
  rs.sweep_interval = cfg.duration_ms("FAXBRIDGE_ROUTER_SWEEP_MS", 2000ms, 50ms, 600000ms);
  if (auto r = cfg.finish(); !r) {
    std::fprintf(stderr, "faxbridge-router: %s\n", r.error().to_string().c_str());
    return 2;
  }
  service::Runtime rt(settings);  // before any thread starts: it blocks SIGTERM/SIGINT
  rs.metrics = &rt.metrics();
  return service::run_main([&] {
    service::log_effective_config(cfg);
    if (auto exit_status = rt.start_or_exit_status()) return *exit_status;
    router::Router router(rt.pool(), rt.publisher(), settings.bus.subscribe, rs);
    rt.add_connection_check("subscriptions", [&] { return router.connected(); });
    router.start();
    rt.wait();
    router.stop();
    return 0;
  });
}
