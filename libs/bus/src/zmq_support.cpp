#include "zmq_support.hpp"

#include <chrono>
#include <cstdint>
#include <cstring>

#include "faxbridge/core/log.hpp"

namespace faxbridge::bus::internal {

namespace {
// How often the monitor thread looks at its stop flag; bounds destructor latency.
constexpr std::chrono::milliseconds kMonitorPoll{100};
std::atomic<std::uint64_t> g_monitor_seq{0};
}  // namespace

void apply_client_options(zmq::socket_t& socket, int linger_ms) {
  socket.set(zmq::sockopt::linger, linger_ms);
  socket.set(zmq::sockopt::reconnect_ivl, kReconnectIvlMs);
  socket.set(zmq::sockopt::reconnect_ivl_max, kReconnectIvlMaxMs);
  socket.set(zmq::sockopt::heartbeat_ivl, kHeartbeatIvlMs);
  socket.set(zmq::sockopt::heartbeat_timeout, kHeartbeatTimeoutMs);
}

SocketMonitor::SocketMonitor(zmq::context_t& context, zmq::socket_t& socket, std::string name)
    : name_(std::move(name)), pair_(context, zmq::socket_type::pair) {
  const std::string address = "inproc://faxbridge-bus-monitor-" + std::to_string(++g_monitor_seq);
  if (zmq_socket_monitor(socket.handle(), address.c_str(),
                         ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED) != 0) {
    throw zmq::error_t();
  }
  pair_.set(zmq::sockopt::linger, 0);
  pair_.connect(address);
  thread_ = std::thread([this] { loop(); });
}

SocketMonitor::~SocketMonitor() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void SocketMonitor::loop() {
  zmq::pollitem_t item{pair_.handle(), 0, ZMQ_POLLIN, 0};
  while (!stop_.load()) {
    try {
      if (zmq::poll(&item, 1, kMonitorPoll) == 0) continue;
      // An event is two frames: 6 bytes (uint16 event, uint32 value), then the address.
      zmq::message_t head;
      zmq::message_t address;
      if (!pair_.recv(head, zmq::recv_flags::dontwait)) continue;
      if (head.more()) (void)pair_.recv(address, zmq::recv_flags::dontwait);
      if (head.size() < sizeof(std::uint16_t)) continue;
      std::uint16_t event = 0;
      std::memcpy(&event, head.data(), sizeof event);
      const bool up = event == ZMQ_EVENT_CONNECTED;
      if (up == connected_.exchange(up)) continue;
      log::info(up ? "bus.connected" : "bus.disconnected",
                {{"socket", name_}, {"endpoint", address.to_string()}});
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      if (e.num() != EINTR) {
        log::warn("bus.monitor_failed", {{"socket", name_}, {"reason", e.what()}});
        return;
      }
    }
  }
}

std::string safe_topic(std::string_view topic) {
  constexpr std::size_t kMaxTopic = 64;
  if (topic.empty() || topic.size() > kMaxTopic) return "(invalid)";
  for (char c : topic) {
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') return "(invalid)";
  }
  return std::string(topic);
}

std::string printable_topic(std::string_view topic) {
  constexpr std::size_t kMaxTopic = 64;
  std::string out;
  for (char c : topic.substr(0, kMaxTopic)) out += (c < 0x20 || c > 0x7e) ? '?' : c;
  if (topic.size() > kMaxTopic) out += "...";
  return out;
}

}  // namespace faxbridge::bus::internal
