#pragma once
// The bus client side: a Publisher and a Subscriber over ZeroMQ PUB/SUB, both connected
// to the `bus` service's Forwarder (XSUB for publishers, XPUB for subscribers, see
// ARCHITECTURE.md section 2). A message is two frames: [topic, protobuf payload].
//
// Delivery is best effort by design: PUB/SUB drops what nobody is subscribed to yet
// (the slow-joiner effect), and messages sent while the bus is down are lost. Durable
// state lives in Postgres, and every consumer sweeps it, so a lost message costs
// latency only. Both ends reconnect by themselves: they can start before the bus and
// they survive it restarting, without being recreated.
//
// Metrics go to the registry the caller passes (the service runtime's, shown on its
// /metrics); nullptr counts nothing:
//   faxbridge_bus_messages_published_total{topic}  Publisher, every message handed to ZeroMQ
//   faxbridge_bus_messages_received_total{topic}   Subscriber, every well-formed message
//   faxbridge_bus_messages_malformed_total{topic}  Subscriber (bad frames) and decode (bad payload)
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "faxbridge/core/metrics.hpp"
#include "faxbridge/core/result.hpp"

namespace faxbridge::bus {

struct Message {
  std::string topic;
  std::string payload;
};

struct Endpoints {
  std::string publish = "tcp://127.0.0.1:5570";    // bus XSUB: publishers connect
  std::string subscribe = "tcp://127.0.0.1:5571";  // bus XPUB: subscribers connect
};

// Thread-safe (an internal mutex). ZeroMQ PUB connected to the bus's XSUB side.
class Publisher final {
 public:
  Publisher(const std::string& endpoint, std::string source_service, std::string instance,
            metrics::Registry* metrics);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Fills msg's `meta` (message_id, sent_at_ms, source_service, source_instance, each
  // only when empty) if the message has one, serialises it and sends [topic, payload].
  // bus.unavailable when the socket is not connected to the bus: the message was
  // handed to ZeroMQ but has most probably been dropped; the consumers' sweep will
  // find the work anyway, so callers log it and carry on.
  Result<void> publish(std::string_view topic, google::protobuf::Message& msg);
  Result<void> publish_raw(std::string_view topic, std::string_view payload);

  // From a ZeroMQ socket monitor (ZMQ_EVENT_CONNECTED / DISCONNECTED); any thread.
  bool connected() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Used from one thread (connected() may be called from any). SUB connected to XPUB.
class Subscriber final {
 public:
  Subscriber(const std::string& endpoint, std::vector<std::string> topic_prefixes,
             metrics::Registry* metrics);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  void subscribe(const std::string& prefix);

  // Waits up to `timeout`; empty when nothing arrived. Frames that are not
  // [topic, payload] are logged (bus.malformed_message, with their topic) and dropped;
  // never throws. bus.unavailable only when the socket itself is unusable.
  Result<std::optional<Message>> receive(std::chrono::milliseconds timeout);

  bool connected() const;  // socket monitor; any thread

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace detail {
// Logs bus.malformed_message, counts faxbridge_bus_messages_malformed_total{topic} in
// `metrics` (when set) and returns the error (code bus.malformed_message, context topic=
// and type=).
Error malformed(std::string_view topic, std::string_view type_name, std::string_view reason,
                metrics::Registry* metrics);
}  // namespace detail

// Parses a payload; bus.malformed_message (with the topic in the context) when it does
// not parse, counted in `metrics` like the Subscriber's malformed frames (pass the
// registry the receiving Subscriber was given). Unknown fields are kept, not refused: a
// newer publisher may add fields.
template <class M>
Result<M> decode(const Message& m, metrics::Registry* metrics) {
  M out;
  if (!out.ParseFromString(m.payload)) {
    return detail::malformed(m.topic, M::descriptor()->full_name(), "payload does not parse", metrics);
  }
  return out;
}

// zmq_proxy between an XSUB bound at endpoints.publish and an XPUB bound at
// endpoints.subscribe; the `bus` service runs one.
class Forwarder final {
 public:
  explicit Forwarder(Endpoints e);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // io.failed with the endpoint and reason when an endpoint cannot be bound.
  Result<void> bind();
  // Blocks forwarding until stop(); returns at once if bind() did not succeed.
  void run();
  // Thread-safe, idempotent; may come before run().
  void stop();
  // True between a successful bind() and the end of run() (for /healthz).
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faxbridge::bus
