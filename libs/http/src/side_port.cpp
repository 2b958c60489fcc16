// DESIGN: a cpp-httplib server on its own thread, with a pool of kWorkers threads for
// requests. start() binds on the caller's thread, so the port is known (and a bind
// failure reported) before anything depends on it; listen_after_bind() then runs on
// the background thread until stop(). /healthz runs every probe per request, outside
// the lock that guards the list, so a slow probe never blocks add_check(). Every
// error answer is JSON with a stable code; an exception in a handler becomes a 500
// through the exception handler instead of killing the server (cpp-httplib's README).
// /metrics renders the registry the owner passed in; the side port keeps none of its own.
#include "faxbridge/http/side_port.hpp"

#include <cerrno>
#include <cstring>
#include <exception>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <httplib.h>
#include <sys/socket.h>
#include <nlohmann/json.hpp>

#include "faxbridge/core/log.hpp"
#include "faxbridge/core/metrics.hpp"

namespace faxbridge::http {

namespace {
// Health checks and scrapes are a few requests per minute; two workers let a slow probe
// not hold up a Prometheus scrape.
constexpr std::size_t kWorkers = 2;
constexpr const char* kJson = "application/json";

std::string error_body(Code code, std::string_view message) {
  return nlohmann::json{{"code", std::string(code_name(code))}, {"message", std::string(message)}}
      .dump();
}
}  // namespace

struct SidePort::Impl {
  std::string bind_address;
  int port = 0;
  const metrics::Registry* metrics = nullptr;
  std::mutex mutex;  // guards checks
  std::vector<HealthCheck> checks;
  httplib::Server server;
  std::thread thread;
  bool started = false;
  std::atomic<bool> listen_returned{false};

  void healthz(httplib::Response& res) {
    std::vector<HealthCheck> snapshot;
    {
      std::lock_guard lock(mutex);
      snapshot = checks;
    }
    bool all_ok = true;
    nlohmann::json results = nlohmann::json::object();
    for (const auto& c : snapshot) {
      std::string detail;
      bool ok = false;
      try {
        ok = c.probe ? c.probe(detail) : false;
      } catch (const std::exception& e) {
        detail = std::string("probe failed: ") + e.what();
      } catch (...) {
        detail = "probe failed with an unknown exception";
      }
      all_ok = all_ok && ok;
      results[c.name] = {{"ok", ok}, {"detail", detail}};
    }
    res.status = all_ok ? 200 : 503;
    res.set_content(
        nlohmann::json{{"status", all_ok ? "ready" : "not_ready"}, {"checks", results}}.dump(),
        kJson);
  }

  void install_routes() {
    server.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
    // httplib's default sets SO_REUSEPORT, which lets a second process bind the same port
    // and silently share its traffic. SO_REUSEADDR alone still allows a quick restart
    // (TIME_WAIT) but makes a port clash fail loudly at start().
    server.set_socket_options([](int sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) { healthz(res); });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics != nullptr ? metrics->render() : std::string(), "text/plain; version=0.0.4");
    });
    // Called for every status >= 400; our own 503 body must survive, so only fill empty ones.
    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      if (res.status == 404) {
        res.set_content(error_body(Code::k_http_not_found, "No such path: " + req.path), kJson);
      } else {
        res.set_content(error_body(Code::k_internal, "The request could not be served."), kJson);
      }
      return httplib::Server::HandlerResponse::Handled;
    }));
    server.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
          std::string reason = "unknown exception";
          try {
            if (ep) std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            reason = e.what();
          } catch (...) {
          }
          log::error("http.handler_failed", {{"path", req.path}, {"reason", reason}});
          res.status = 500;
          res.set_content(error_body(Code::k_internal, "The request failed on the server."), kJson);
        });
  }
};

SidePort::SidePort(std::string bind_address, int port, std::vector<HealthCheck> checks,
                   const metrics::Registry* metrics)
    : impl_(std::make_unique<Impl>()) {
  impl_->bind_address = std::move(bind_address);
  impl_->port = port;
  impl_->metrics = metrics;
  impl_->checks = std::move(checks);
  impl_->install_routes();
}

SidePort::~SidePort() { stop(); }

Result<int> SidePort::start() {
  if (impl_->started) {
    return Error(Code::k_internal, "The side port was already started.");
  }
  errno = 0;
  int bound = -1;
  if (impl_->port == 0) {
    bound = impl_->server.bind_to_any_port(impl_->bind_address);
  } else if (impl_->server.bind_to_port(impl_->bind_address, impl_->port)) {
    bound = impl_->port;
  }
  if (bound <= 0) {
    const int err = errno;  // httplib keeps the errno of the failed bind/listen
    return Error(Code::k_io_failed, "Could not bind the HTTP side port.")
        .with("address", impl_->bind_address)
        .with("port", std::to_string(impl_->port))
        .with("reason", err != 0 ? std::strerror(err) : "bind failed");
  }
  impl_->started = true;
  impl_->listen_returned.store(false);
  impl_->thread = std::thread([this] {
    impl_->server.listen_after_bind();
    impl_->listen_returned.store(true);
  });
  log::info("http.side_port_listening", {{"address", impl_->bind_address}, {"port", bound}});
  return bound;
}

void SidePort::add_check(HealthCheck c) {
  std::lock_guard lock(impl_->mutex);
  impl_->checks.push_back(std::move(c));
}

void SidePort::stop() {
  if (!impl_->started) return;
  // httplib's stop() does nothing until listen has begun (is_running()); a stop right
  // after start() would then leave the thread listening forever, so wait for either.
  while (!impl_->server.is_running() && !impl_->listen_returned.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->started = false;
}

}  // namespace faxbridge::http
