// DESIGN: one ZeroMQ context, PUB socket and connection monitor per Publisher. The PUB
// socket connects to the bus's XSUB side; ZeroMQ retries the connection in the
// background (kReconnectIvlMs backing off to kReconnectIvlMaxMs), so a Publisher can be
// created before the bus runs and keeps working across bus restarts. ZeroMQ sockets
// are not thread-safe, so a mutex serialises sends; PUB never blocks (it drops at the
// high-water mark or with no subscriber), so the lock is held only for the copy.
// A failure to set the socket up (a malformed endpoint) is kept and returned by every
// publish() rather than thrown from the constructor. Sends are counted in the registry
// the caller gave (none when nullptr), never in a process-wide one.
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <random>

#include "faxbridge/bus.pb.h"
#include "faxbridge/bus/bus.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/core/metrics.hpp"
#include "zmq_support.hpp"

namespace faxbridge::bus {

namespace {
// Long enough to flush the last messages of a clean shutdown to a running bus, short
// enough not to hold up a service that stops while the bus is down.
constexpr int kPublisherLingerMs = 500;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

struct Publisher::Impl {
  std::string endpoint;
  std::string service;
  std::string instance;
  metrics::Registry* metrics = nullptr;
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::pub};
  std::unique_ptr<internal::SocketMonitor> monitor;  // after socket: destroyed first
  std::optional<Error> broken;
  std::mutex mutex;
  std::mt19937_64 rng{std::random_device{}()};

  std::string message_id() {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng()));
    return buf;
  }

  void fill_meta(google::protobuf::Message& msg) {
    const auto* field = msg.GetDescriptor()->FindFieldByName("meta");
    if (field == nullptr || field->message_type() != v1::Meta::descriptor()) return;
    auto* meta = dynamic_cast<v1::Meta*>(msg.GetReflection()->MutableMessage(&msg, field));
    if (meta == nullptr) return;  // a DynamicMessage: the caller fills its own meta
    if (meta->message_id().empty()) meta->set_message_id(message_id());
    if (meta->sent_at_ms() == 0) meta->set_sent_at_ms(now_ms());
    if (meta->source_service().empty()) meta->set_source_service(service);
    if (meta->source_instance().empty()) meta->set_source_instance(instance);
  }

  // Caller holds mutex.
  Result<void> send(std::string_view topic, std::string_view payload) {
    if (broken) return *broken;
    if (topic.empty()) {
      return Error(Code::k_bus_malformed_message, "A bus topic cannot be empty.");
    }
    try {
      // PUB does not block; dontwait only guards against a future socket type change.
      socket.send(zmq::buffer(topic.data(), topic.size()),
                  zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      socket.send(zmq::buffer(payload.data(), payload.size()), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      return Error(Code::k_bus_unavailable, "Could not hand a message to ZeroMQ.")
          .with("endpoint", endpoint)
          .with("topic", std::string(topic))
          .with("reason", e.what());
    }
    if (metrics != nullptr) {
      metrics
          ->counter("faxbridge_bus_messages_published_total", "Messages sent to the bus, by topic.",
                    {{"topic", internal::safe_topic(topic)}})
          .inc();
    }
    if (!monitor->connected()) {
      return Error(Code::k_bus_unavailable,
                   "Not connected to the bus; the message was probably dropped and consumers "
                   "will find the work in their next sweep.")
          .with("endpoint", endpoint)
          .with("topic", std::string(topic));
    }
    return ok();
  }
};

Publisher::Publisher(const std::string& endpoint, std::string source_service, std::string instance,
                     metrics::Registry* metrics)
    : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = endpoint;
  impl_->service = std::move(source_service);
  impl_->instance = std::move(instance);
  impl_->metrics = metrics;
  try {
    internal::apply_client_options(impl_->socket, kPublisherLingerMs);
    impl_->monitor =
        std::make_unique<internal::SocketMonitor>(impl_->context, impl_->socket, "publisher");
    impl_->socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    impl_->broken = Error(Code::k_bus_unavailable, "Could not set up the bus publisher.")
                        .with("endpoint", endpoint)
                        .with("reason", e.what());
    log::write_error(log::Level::kError, "bus.publisher_failed", *impl_->broken);
  }
}

Publisher::~Publisher() = default;

Result<void> Publisher::publish(std::string_view topic, google::protobuf::Message& msg) {
  std::lock_guard lock(impl_->mutex);
  impl_->fill_meta(msg);
  std::string payload;
  if (!msg.SerializeToString(&payload)) {
    return Error(Code::k_internal, "Could not serialise a bus message.")
        .with("type", msg.GetTypeName())
        .with("topic", std::string(topic));
  }
  return impl_->send(topic, payload);
}

Result<void> Publisher::publish_raw(std::string_view topic, std::string_view payload) {
  std::lock_guard lock(impl_->mutex);
  return impl_->send(topic, payload);
}

bool Publisher::connected() const {
  return impl_->monitor != nullptr && impl_->monitor->connected();
}

}  // namespace faxbridge::bus
