#pragma once
// Private to libs/bus: the ZeroMQ socket settings shared by publisher and subscriber,
// the connection monitor, and log-safe rendering of topics read off the wire.
#include <atomic>
#include <string>
#include <string_view>
#include <thread>

#include <zmq.hpp>

namespace faxbridge::bus::internal {

// First reconnect attempt after 100 ms, backing off to 2 s: a restarted bus is found
// within 2 s, and a bus that stays down costs each client one attempt per 2 s.
inline constexpr int kReconnectIvlMs = 100;
inline constexpr int kReconnectIvlMaxMs = 2000;
// ZMTP heartbeats notice a bus that vanished without closing TCP (host died, network
// cut) in 15 s instead of the kernel's keepalive hours; then the socket reconnects.
inline constexpr int kHeartbeatIvlMs = 5000;
inline constexpr int kHeartbeatTimeoutMs = 15000;

// Reconnect, heartbeat and linger settings for a socket that connects to the bus.
void apply_client_options(zmq::socket_t& socket, int linger_ms);

// Watches one socket's ZMQ_EVENT_CONNECTED / DISCONNECTED on a thread of its own, so
// connected() is an atomic read that any thread may do (health probes run on the HTTP
// thread). Create it BEFORE the socket connects, or the first event is lost.
class SocketMonitor final {
 public:
  SocketMonitor(zmq::context_t& context, zmq::socket_t& socket, std::string name);
  ~SocketMonitor();
  SocketMonitor(const SocketMonitor&) = delete;
  SocketMonitor& operator=(const SocketMonitor&) = delete;

  bool connected() const { return connected_.load(std::memory_order_acquire); }

 private:
  void loop();

  std::string name_;
  zmq::socket_t pair_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A topic as it may appear in a log line or a metric label: printable ASCII only,
// at most 64 characters; "(invalid)" for anything else, so garbage on the wire cannot
// create unbounded metric series or break a log line.
std::string safe_topic(std::string_view topic);
// For log lines: non-printable bytes become '?', cut at 64 characters.
std::string printable_topic(std::string_view topic);

}  // namespace faxbridge::bus::internal
