// DESIGN: start() brings the side port up first, so an orchestrator sees "not ready"
// rather than nothing while the database is missing. The database wait uses capped
// exponential backoff (0.5 s .. 15 s) and logs every failure with its reason. After
// start, a monitor thread pings the database every few seconds for /healthz; the pool
// itself recovers (broken connections are replaced), so nothing needs a restart.
// Stop signals are blocked in every thread and taken by one sigwait thread, which
// does no work in a signal handler. The process's metrics registry lives here (or is
// handed in by the main): the side port renders it, the publisher counts in it, and
// the main passes it to every library it builds.
#include "faxbridge/service/runtime.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string_view>

#include "faxbridge/core/stop_signals.hpp"
#include "faxbridge/db/migrate.hpp"
#include "faxbridge/http/side_port.hpp"

namespace faxbridge::service {

namespace {

std::string default_instance(const std::string& service) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return service + "@" + host + ":" + std::to_string(::getpid());
}

}  // namespace

Settings read_settings(config::ConfigReader& r, const std::string& service, int default_http_port, bool use_db) {
  Settings s;
  s.service = service;
  s.use_db = use_db;
  s.instance = r.string("FAXBRIDGE_INSTANCE_ID", default_instance(service), "a name unique to this process");
  const auto level = r.one_of("FAXBRIDGE_LOG_LEVEL", "info", {"debug", "info", "warn", "error"});
  log::parse_level(level, s.log_level);
  if (use_db) {
    s.db_dsn = r.string("FAXBRIDGE_DB_DSN", std::nullopt,
                        "a libpq connection string, e.g. host=db user=faxbridge dbname=faxbridge",
                        config::Visibility::kPlain);
    s.db_pool_size = static_cast<int>(r.integer("FAXBRIDGE_DB_POOL_SIZE", 4, 1, 200));
    s.db_auto_migrate = r.boolean("FAXBRIDGE_DB_AUTO_MIGRATE", true);
  }
  s.bus.publish = r.string("FAXBRIDGE_BUS_PUBLISH_ENDPOINT", s.bus.publish, "a ZeroMQ endpoint like tcp://bus:5570");
  s.bus.subscribe = r.string("FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", s.bus.subscribe, "a ZeroMQ endpoint like tcp://bus:5571");
  s.http_bind = r.string("FAXBRIDGE_HTTP_BIND_ADDRESS", "0.0.0.0", "an IP address to bind the health and metrics port");
  s.http_port = static_cast<int>(r.integer("FAXBRIDGE_HTTP_PORT", default_http_port, 0, 65535));
  return s;
}

std::optional<int> handle_arguments(int argc, char** argv, const char* usage) {
  if (argc <= 1) return std::nullopt;
  const std::string_view arg(argv[1]);
  const bool help = arg == "--help" || arg == "-h";
  std::fputs(usage, help ? stdout : stderr);
  return help ? 0 : 2;
}

void log_effective_config(const config::ConfigReader& reader) {
  for (const auto& e : reader.effective()) {
    const std::string value = e.name == "FAXBRIDGE_DB_DSN" ? config::mask_dsn(e.value) : e.value;
    log::info("config.effective", {{"name", e.name}, {"value", value}, {"default", e.from_default}});
  }
}

struct Runtime::Impl {
  StopSignals signals;  // blocks SIGTERM/SIGINT in this thread and all later ones
  std::unique_ptr<http::SidePort> side_port;
};

Runtime::Runtime(Settings settings)
    : settings_(std::move(settings)),
      own_metrics_(std::make_unique<metrics::Registry>()),
      metrics_(*own_metrics_),
      impl_(std::make_unique<Impl>()) {
  init();
}

Runtime::Runtime(Settings settings, metrics::Registry& metrics)
    : settings_(std::move(settings)), metrics_(metrics), impl_(std::make_unique<Impl>()) {
  init();
}

void Runtime::init() {
  log::init(settings_.service, settings_.log_level);
  signal_thread_ = std::thread([this] {
    const int sig = impl_->signals.wait();
    signal_seen_ = true;
    if (!stop_) log::info("service.signal", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    request_stop();
  });
}

Runtime::~Runtime() {
  request_stop();
  // Wake the signal thread's sigwait; a SIGTERM that stays pending is harmless, it is blocked.
  if (!signal_seen_) StopSignals::request_stop();
  signal_thread_.join();
  if (monitor_thread_.joinable()) monitor_thread_.join();
  if (impl_->side_port) impl_->side_port->stop();
  log::info("service.stopped", {{"instance", settings_.instance}});
}

void Runtime::request_stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
}

bool Runtime::sleep_unless_stopped(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !cv_.wait_for(lock, d, [&] { return stop_.load(); });
}

void Runtime::wait() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return stop_.load(); });
}

Result<void> Runtime::start() {
  std::vector<http::HealthCheck> checks;
  if (settings_.use_db) {
    checks.push_back({"db", [this](std::string& detail) {
                        detail = db_ok_ ? "answering" : "not reachable";
                        return db_ok_.load();
                      }});
  }
  checks.push_back({"bus", [this](std::string& detail) {
                      const bool ok = publisher_ && publisher_->connected();
                      detail = ok ? "connected" : "not connected";
                      return ok;
                    }});
  impl_->side_port = std::make_unique<http::SidePort>(settings_.http_bind, settings_.http_port, checks, &metrics_);
  auto port = impl_->side_port->start();
  if (!port) return port.error();
  http_port_ = *port;
  log::info("service.starting", {{"instance", settings_.instance}, {"http_port", http_port_}});

  publisher_ =
      std::make_unique<bus::Publisher>(settings_.bus.publish, settings_.service, settings_.instance, &metrics_);

  if (settings_.use_db) {
    db::PoolSettings ps;
    ps.dsn = settings_.db_dsn;
    ps.size = settings_.db_pool_size;
    ps.application_name = settings_.instance;
    pool_ = std::make_unique<db::Pool>(ps);
    std::chrono::milliseconds backoff(500);
    for (int attempt = 1;; ++attempt) {
      auto ready = pool_->ping();
      if (ready) {
        auto st = db::schema_status(*pool_);
        if (st && !st->up_to_date() && settings_.db_auto_migrate) {
          auto m = db::migrate(*pool_);
          if (!m) ready = m.error();
          else st = db::schema_status(*pool_);
        }
        if (ready && !st) ready = st.error();
        else if (ready && !st->up_to_date()) {
          ready = Error(Code::k_db_migration_failed,
                        "The database schema is at version " + std::to_string(st->current) + ", this service needs " +
                            std::to_string(st->latest) + "; run `faxbridge migrate` or set FAXBRIDGE_DB_AUTO_MIGRATE=true.");
        }
        if (ready) break;
        if (ready.error().code == Code::k_db_schema_too_new) return ready.error();
      }
      log::write_error(log::Level::kWarn, "db.waiting", ready.error(),
                       {{"attempt", attempt}, {"retry_in_ms", static_cast<std::int64_t>(backoff.count())}});
      if (!sleep_unless_stopped(backoff)) {
        return Error(Code::k_service_stopping, "Stopped while waiting for the database.");
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(15000));
    }
    db_ok_ = true;
    log::info("db.ready", {{"dsn", config::mask_dsn(settings_.db_dsn)}});
    monitor_thread_ = std::thread(&Runtime::monitor_loop, this);
  }
  return ok();
}

std::optional<int> Runtime::start_or_exit_status() {
  auto r = start();
  if (r) return std::nullopt;
  log::write_error(log::Level::kError, "service.start_failed", r.error());
  return r.error().code == Code::k_service_stopping ? 0 : 1;
}

void Runtime::add_health_check(std::string name, std::function<bool(std::string& detail)> probe) {
  impl_->side_port->add_check({std::move(name), std::move(probe)});
}

void Runtime::add_connection_check(std::string name, std::function<bool()> connected) {
  add_health_check(std::move(name), [connected = std::move(connected)](std::string& detail) {
    const bool up = connected();
    detail = up ? "connected" : "not connected";
    return up;
  });
}

int run_main(const std::function<int()>& body) {
  int status = 0;
  try {
    status = body();
  } catch (const std::exception& e) {
    log::error("service.crashed", {{"what", e.what()}});
    status = 70;  // EX_SOFTWARE
  } catch (...) {
    log::error("service.crashed", {{"what", "an exception that is not a std::exception"}});
    status = 70;
  }
  log::write(status == 0 ? log::Level::kInfo : log::Level::kWarn, "service.exit", {{"status", status}});
  return status;
}

void Runtime::monitor_loop() {
  while (sleep_unless_stopped(std::chrono::seconds(2))) {
    auto r = pool_->ping();
    const bool was = db_ok_.exchange(static_cast<bool>(r));
    if (was && !r) log::write_error(log::Level::kError, "db.lost", r.error());
    if (!was && r) log::info("db.recovered");
  }
}

}  // namespace faxbridge::service
