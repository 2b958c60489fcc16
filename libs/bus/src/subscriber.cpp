// DESIGN: one ZeroMQ context, SUB socket and connection monitor per Subscriber, owned
// by one thread. The SUB socket connects to the bus's XPUB side and ZeroMQ reconnects
// it in the background; on every (re)connection ZeroMQ re-sends the subscriptions, so
// a Subscriber created before the bus, or across a bus restart, needs no help.
// receive() is the only place bytes from the network enter: anything that is not a
// two-frame [topic, payload] message is logged and dropped, and ZeroMQ errors become a
// Result, so a bad peer can never throw through a consumer loop. What it receives and
// drops is counted in the registry the caller gave (none when nullptr).
#include <chrono>
#include <optional>
#include <vector>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/core/metrics.hpp"
#include "zmq_support.hpp"

namespace faxbridge::bus {

namespace {
// A consumer that stops holds nothing worth delivering: close at once.
constexpr int kSubscriberLingerMs = 0;

// Malformed frames (Subscriber) and payloads (decode) share one series.
void count_malformed(metrics::Registry* metrics, std::string_view topic) {
  if (metrics == nullptr) return;
  metrics
      ->counter("faxbridge_bus_messages_malformed_total", "Bus messages dropped because they were malformed, by topic.",
                {{"topic", internal::safe_topic(topic)}})
      .inc();
}
}  // namespace

struct Subscriber::Impl {
  std::string endpoint;
  metrics::Registry* metrics = nullptr;
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::sub};
  std::unique_ptr<internal::SocketMonitor> monitor;  // after socket: destroyed first
  std::optional<Error> broken;

  void drop(std::string_view topic, std::size_t frames) {
    log::warn("bus.malformed_message",
              {{"code", "bus.malformed_message"},
               {"topic", internal::printable_topic(topic)},
               {"frames", static_cast<std::int64_t>(frames)},
               {"reason", "expected two frames [topic, payload]"}});
    count_malformed(metrics, topic);
  }

  // Reads one whole multipart message that poll() said is ready. Empty optional when it
  // was malformed (and dropped) or the ready message went away.
  std::optional<Message> read_one() {
    std::vector<zmq::message_t> frames;
    do {
      zmq::message_t frame;
      if (!socket.recv(frame, zmq::recv_flags::dontwait)) break;
      // Keep at most three frames: enough to tell "too many"; read the rest to drain.
      if (frames.size() < 3) frames.push_back(std::move(frame));
    } while (socket.get(zmq::sockopt::rcvmore));
    if (frames.empty()) return std::nullopt;
    std::string_view topic(static_cast<const char*>(frames[0].data()), frames[0].size());
    if (frames.size() != 2 || topic.empty()) {
      drop(topic, frames.size());
      return std::nullopt;
    }
    Message m{std::string(topic), frames[1].to_string()};
    if (metrics != nullptr) {
      metrics
          ->counter("faxbridge_bus_messages_received_total", "Messages received from the bus, by topic.",
                    {{"topic", internal::safe_topic(m.topic)}})
          .inc();
    }
    return m;
  }
};

Subscriber::Subscriber(const std::string& endpoint, std::vector<std::string> topic_prefixes,
                       metrics::Registry* metrics)
    : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = endpoint;
  impl_->metrics = metrics;
  try {
    internal::apply_client_options(impl_->socket, kSubscriberLingerMs);
    for (const auto& p : topic_prefixes) impl_->socket.set(zmq::sockopt::subscribe, p);
    impl_->monitor =
        std::make_unique<internal::SocketMonitor>(impl_->context, impl_->socket, "subscriber");
    impl_->socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    impl_->broken = Error(Code::k_bus_unavailable, "Could not set up the bus subscriber.")
                        .with("endpoint", endpoint)
                        .with("reason", e.what());
    log::write_error(log::Level::kError, "bus.subscriber_failed", *impl_->broken);
  }
}

Subscriber::~Subscriber() = default;

void Subscriber::subscribe(const std::string& prefix) {
  if (impl_->broken) return;
  try {
    impl_->socket.set(zmq::sockopt::subscribe, prefix);
  } catch (const zmq::error_t& e) {
    log::warn("bus.subscribe_failed", {{"prefix", prefix}, {"reason", e.what()}});
  }
}

Result<std::optional<Message>> Subscriber::receive(std::chrono::milliseconds timeout) {
  if (impl_->broken) return *impl_->broken;
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  try {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() < 0) left = std::chrono::milliseconds(0);
      zmq::pollitem_t item{impl_->socket.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, left) > 0) {
        if (auto m = impl_->read_one()) return std::optional<Message>(std::move(*m));
      }
      if (Clock::now() >= deadline) return std::optional<Message>();
    }
  } catch (const zmq::error_t& e) {
    // A signal interrupted the wait: report "nothing yet" and let the caller loop.
    if (e.num() == EINTR) return std::optional<Message>();
    return Error(Code::k_bus_unavailable, "The bus subscriber socket failed.")
        .with("endpoint", impl_->endpoint)
        .with("reason", e.what());
  }
}

bool Subscriber::connected() const {
  return impl_->monitor != nullptr && impl_->monitor->connected();
}

namespace detail {

Error malformed(std::string_view topic, std::string_view type_name, std::string_view reason,
                metrics::Registry* metrics) {
  Error e(Code::k_bus_malformed_message, "A bus message could not be decoded; it was dropped.");
  e.with("topic", internal::printable_topic(topic))
      .with("type", std::string(type_name))
      .with("reason", std::string(reason));
  log::write_error(log::Level::kWarn, "bus.malformed_message", e);
  count_malformed(metrics, topic);
  return e;
}

}  // namespace detail

}  // namespace faxbridge::bus
