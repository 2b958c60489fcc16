#include "coalescing_socket.hpp"

namespace faxbridge::mail::detail {
namespace {

class CoalescingSocket : public vmime::net::socket {
 public:
  explicit CoalescingSocket(vmime::shared_ptr<vmime::net::socket> inner) : inner_(std::move(inner)) {}

  void connect(const vmime::string& address, const vmime::port_t port) override {
    held_.clear();
    inner_->connect(address, port);
  }
  void disconnect() override {
    if (inner_->isConnected()) flush();
    held_.clear();
    inner_->disconnect();
  }
  bool isConnected() const override { return inner_->isConnected(); }

  bool waitForRead(const int msecs) override {
    flush();
    return inner_->waitForRead(msecs);
  }
  bool waitForWrite(const int msecs) override {
    flush();
    return inner_->waitForWrite(msecs);
  }
  void receive(vmime::string& buffer) override {
    flush();
    inner_->receive(buffer);
  }
  size_t receiveRaw(vmime::byte_t* buffer, const size_t count) override {
    flush();
    return inner_->receiveRaw(buffer, count);
  }

  void send(const vmime::string& buffer) override { hold(buffer.data(), buffer.size()); }
  void send(const char* str) override { hold(str, std::char_traits<char>::length(str)); }
  void sendRaw(const vmime::byte_t* buffer, const size_t count) override {
    hold(reinterpret_cast<const char*>(buffer), count);
  }
  size_t sendRawNonBlocking(const vmime::byte_t* buffer, const size_t count) override {
    flush();
    return inner_->sendRawNonBlocking(buffer, count);
  }

  size_t getBlockSize() const override { return inner_->getBlockSize(); }
  unsigned int getStatus() const override { return inner_->getStatus(); }
  const vmime::string getPeerName() const override { return inner_->getPeerName(); }
  const vmime::string getPeerAddress() const override { return inner_->getPeerAddress(); }
  vmime::shared_ptr<vmime::net::timeoutHandler> getTimeoutHandler() override { return inner_->getTimeoutHandler(); }
  void setTracer(vmime::shared_ptr<vmime::net::tracer> tracer) override { inner_->setTracer(tracer); }
  vmime::shared_ptr<vmime::net::tracer> getTracer() override { return inner_->getTracer(); }

 private:
  // More than this is written at once even before the answer is awaited, so a big
  // attachment is not copied whole into a second buffer.
  static constexpr size_t kMaxHeld = 256 * 1024;

  void hold(const char* data, size_t size) {
    held_.append(data, size);
    if (held_.size() >= kMaxHeld) flush();
  }
  void flush() {
    if (held_.empty()) return;
    std::string out;
    out.swap(held_);  // emptied first: a write that throws is not repeated
    inner_->sendRaw(reinterpret_cast<const vmime::byte_t*>(out.data()), out.size());
  }

  vmime::shared_ptr<vmime::net::socket> inner_;
  std::string held_;
};

}  // namespace

vmime::shared_ptr<vmime::net::socket> CoalescingSocketFactory::create() {
  return vmime::make_shared<CoalescingSocket>(inner_->create());
}

vmime::shared_ptr<vmime::net::socket> CoalescingSocketFactory::create(vmime::shared_ptr<vmime::net::timeoutHandler> th) {
  return vmime::make_shared<CoalescingSocket>(inner_->create(th));
}

}  // namespace faxbridge::mail::detail
