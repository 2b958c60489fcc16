#pragma once
// The common skeleton every service main uses (ARCHITECTURE.md section 1):
//   ConfigReader r(config::process_env());
//   auto s = service::read_settings(r, "router", 9103);  ... service-specific reads ...
//   if (!r.finish()) -> print, exit 2
//   service::Runtime rt(s);                     // before any thread starts: it blocks SIGTERM/SIGINT
//   if (!rt.start()) -> exit 1                  // side port up, waits for the database
//   ... build and start the service's parts, using rt.pool(), rt.publisher() and
//       &rt.metrics() (the registry each part counts in) ...
//   rt.wait();                                  // until SIGTERM or SIGINT
//   ... stop the parts in reverse order ...
// /healthz is ready only while the database answers and the bus is connected; the
// runtime keeps checking both, so an outage shows there and heals without a restart.
// /metrics shows the process's one registry: the runtime's own, or the one a main hands
// in because it builds a part before the runtime (the converter forks its zygote while
// single-threaded). No library keeps a registry of its own; each counts in the one
// its caller passes.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/core/config.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/core/metrics.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::service {

struct Settings {
  std::string service;
  std::string instance;  // unique per process: owner of leases, cancel topics
  log::Level log_level = log::Level::kInfo;
  bool use_db = true;
  std::string db_dsn;
  int db_pool_size = 4;
  bool db_auto_migrate = true;
  bus::Endpoints bus;
  std::string http_bind = "0.0.0.0";
  int http_port = 0;
};

// Reads the variables every service shares (listed in docs/configuration.md).
Settings read_settings(config::ConfigReader& reader, const std::string& service, int default_http_port,
                       bool use_db = true);
// `--help`/`-h` prints `usage` and gives exit status 0; any other argument prints it to
// stderr and gives 2; no argument gives nullopt (the service starts).
std::optional<int> handle_arguments(int argc, char** argv, const char* usage);

// Logs the effective configuration once, secrets masked.
void log_effective_config(const config::ConfigReader& reader);

// Every service main's body runs inside this: it logs why the process exits
// (service.exit with the status) and is the last resort for an exception nothing else
// caught (logged as service.crashed, exit status 70) so a supervisor restarts the
// process with the reason in its log instead of a bare std::terminate.
int run_main(const std::function<int()>& body);

class Runtime final {
 public:
  explicit Runtime(Settings settings);  // keeps the process's registry itself
  // Counts in, and shows on /metrics, `metrics`, which must outlive the runtime.
  Runtime(Settings settings, metrics::Registry& metrics);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Starts the side port, then waits (with backoff, logging why) until the database
  // answers, checks or applies the schema, and connects the publisher. Returns
  // service.stopping when a stop signal came while waiting.
  Result<void> start();
  // start() for a main: nullopt when started; else logs service.start_failed and gives
  // the exit status (0 when a stop signal came while waiting, 1 otherwise).
  std::optional<int> start_or_exit_status();
  // Blocks until a stop signal or request_stop().
  void wait();
  void request_stop();
  bool stopping() const { return stop_.load(); }

  // One more readiness condition for /healthz.
  void add_health_check(std::string name, std::function<bool(std::string& detail)> probe);
  // The common one: a connection (a bus subscription) that is up or not.
  void add_connection_check(std::string name, std::function<bool()> connected);

  db::Pool& pool() { return *pool_; }
  bus::Publisher& publisher() { return *publisher_; }
  // The process's registry: what /metrics renders. The runtime's publisher counts here.
  metrics::Registry& metrics() { return metrics_; }
  const Settings& settings() const { return settings_; }
  int http_port() const { return http_port_; }

 private:
  struct Impl;
  void init();  // the constructors' common part: logs, the signal thread
  void monitor_loop();
  bool sleep_unless_stopped(std::chrono::milliseconds d);

  Settings settings_;
  // Before everything that counts in it or renders it (the side port in impl_, the
  // publisher), so it is destroyed after them.
  std::unique_ptr<metrics::Registry> own_metrics_;  // none when handed one
  metrics::Registry& metrics_;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<bus::Publisher> publisher_;
  int http_port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> signal_seen_{false};
  std::atomic<bool> db_ok_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread signal_thread_, monitor_thread_;
};

}  // namespace faxbridge::service
