// faxbridge-bus: the ZeroMQ forwarder every service connects to, plus its side port.
#include <csignal>
#include <cstdio>
#include <string_view>
#include <thread>

#include <unistd.h>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/core/config.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/http/side_port.hpp"

using namespace faxbridge;

constexpr const char* kUsage = R"(usage: faxbridge-bus [--help]
The Faxbridge message bus: a ZeroMQ XSUB/XPUB forwarder. Environment:
  FAXBRIDGE_BUS_PUBLISH_ENDPOINT    XSUB endpoint publishers connect to (tcp://127.0.0.1:5570)
  FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT  XPUB endpoint subscribers connect to (tcp://127.0.0.1:5571)
  FAXBRIDGE_HTTP_BIND_ADDRESS       side port address for /healthz and /metrics (0.0.0.0)
  FAXBRIDGE_HTTP_PORT               side port, 0 = any free port (9101)
  FAXBRIDGE_LOG_LEVEL               debug|info|warn|error (info)
)";

int main(int argc, char** argv) {
  if (argc > 1) {
    const bool help = std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h";
    std::fputs(kUsage, help ? stdout : stderr);
    return help ? 0 : 2;
  }
  config::ConfigReader cfg(config::process_env());
  bus::Endpoints endpoints{
      cfg.string("FAXBRIDGE_BUS_PUBLISH_ENDPOINT", "tcp://127.0.0.1:5570", "a ZeroMQ endpoint"),
      cfg.string("FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", "tcp://127.0.0.1:5571", "a ZeroMQ endpoint")};
  const auto bind_address = cfg.string("FAXBRIDGE_HTTP_BIND_ADDRESS", "0.0.0.0", "an IP address");
  const auto port = static_cast<int>(cfg.integer("FAXBRIDGE_HTTP_PORT", 9101, 0, 65535));
  const auto level = cfg.one_of("FAXBRIDGE_LOG_LEVEL", "info", {"debug", "info", "warn", "error"});
  if (auto r = cfg.finish(); !r) {
    std::fprintf(stderr, "faxbridge-bus: %s\n", r.error().to_string().c_str());
    return 2;
  }
  log::Level log_level = log::Level::kInfo;
  log::parse_level(level, log_level);
  log::init("bus", log_level);
  for (const auto& e : cfg.effective()) {
    log::info("config.effective", {{"name", e.name}, {"value", e.value}, {"default", e.from_default}});
  }
  // Block the stop signals in every thread (threads inherit the mask), then wait for them
  // with sigwait on this thread: no work ever runs inside a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  bus::Forwarder forwarder(endpoints);
  if (auto r = forwarder.bind(); !r) return log::write_error(log::Level::kError, "bus.start_failed", r.error()), 1;
  http::SidePort side_port(bind_address, port, {{"forwarder", [&](std::string& detail) {
                                                   detail = forwarder.running() ? "forwarding" : "stopped";
                                                   return forwarder.running();
                                                 }}});
  if (auto r = side_port.start(); !r) return log::write_error(log::Level::kError, "bus.start_failed", r.error()), 1;
  // If the proxy ever ends on its own, wake the main thread as a stop request would.
  std::thread forwarding([&] { forwarder.run(); kill(getpid(), SIGTERM); });
  int signal = 0;
  sigwait(&stop_signals, &signal);
  log::info("bus.stopping", {{"signal", signal}});
  side_port.stop();
  forwarder.stop();
  forwarding.join();
  return 0;
}
