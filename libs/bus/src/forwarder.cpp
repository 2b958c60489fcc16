// DESIGN: the bus itself. zmq_proxy copies every message from an XSUB socket (where
// publishers connect) to an XPUB socket (where subscribers connect), and carries the
// subscriptions back the other way so publishers filter at the source. The proxy
// keeps no state worth saving: a restarted bus gets every subscription again as the
// clients reconnect. stop() shuts the context down (zmq_ctx_shutdown is thread-safe),
// which makes the blocked zmq_proxy return ETERM; no control socket is needed.
#include <atomic>
#include <mutex>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/core/log.hpp"
#include "zmq_support.hpp"

namespace faxbridge::bus {

namespace {
// ZeroMQ's default high-water mark is 1000 messages per peer. A router sweep can
// publish a burst of thousands of wake-ups; the bus should queue them rather than drop
// them, and 100k small messages is a few MB per slow peer at most.
constexpr int kForwarderHwm = 100000;
}  // namespace

struct Forwarder::Impl {
  Endpoints endpoints;
  zmq::context_t context{1};
  zmq::socket_t xsub{context, zmq::socket_type::xsub};
  zmq::socket_t xpub{context, zmq::socket_type::xpub};
  bool bound = false;
  std::atomic<bool> running{false};
  std::once_flag stopped;
};

Forwarder::Forwarder(Endpoints e) : impl_(std::make_unique<Impl>()) {
  impl_->endpoints = std::move(e);
}

Forwarder::~Forwarder() { stop(); }

Result<void> Forwarder::bind() {
  auto bind_one = [](zmq::socket_t& s, const std::string& endpoint,
                     std::string_view side) -> Result<void> {
    try {
      s.set(zmq::sockopt::linger, 0);
      s.set(zmq::sockopt::sndhwm, kForwarderHwm);
      s.set(zmq::sockopt::rcvhwm, kForwarderHwm);
      s.bind(endpoint);
    } catch (const zmq::error_t& e) {
      return Error(Code::k_io_failed, "Could not bind the bus endpoint.")
          .with("side", std::string(side))
          .with("endpoint", endpoint)
          .with("reason", e.what());
    }
    return ok();
  };
  if (auto r = bind_one(impl_->xsub, impl_->endpoints.publish, "publish"); !r) return r;
  if (auto r = bind_one(impl_->xpub, impl_->endpoints.subscribe, "subscribe"); !r) return r;
  impl_->bound = true;
  impl_->running.store(true);
  log::info("bus.forwarder_bound", {{"publish", impl_->endpoints.publish},
                                    {"subscribe", impl_->endpoints.subscribe}});
  return ok();
}

void Forwarder::run() {
  if (!impl_->bound) return;
  try {
    zmq::proxy(impl_->xsub, impl_->xpub);
  } catch (const zmq::error_t& e) {
    if (e.num() != ETERM) log::error("bus.forwarder_failed", {{"reason", e.what()}});
  }
  impl_->running.store(false);
  log::info("bus.forwarder_stopped");
}

void Forwarder::stop() {
  std::call_once(impl_->stopped, [this] { impl_->context.shutdown(); });
}

bool Forwarder::running() const { return impl_->running.load(); }

}  // namespace faxbridge::bus
