#pragma once
// A vmime socket that holds what the client sends until it waits for the server's
// answer, then writes it at once. vmime writes a mail in pieces and the final
// "\r\n.\r\n" on its own; vmime's posix socket leaves Nagle's algorithm on (it has no
// TCP_NODELAY and hides its descriptor), so that last small segment waited for the
// server's delayed ACK of the one before: 40 ms per mail, measured in bench/notifier.
// One write per turn of the conversation sends no small segment behind another, and
// the pipelined MAIL/RCPT/DATA go out together. TLS layers over this socket unchanged:
// the TLS socket reads through receiveRaw, which writes what is held first.
#include <vmime/net/socket.hpp>

namespace faxbridge::mail::detail {

class CoalescingSocketFactory : public vmime::net::socketFactory {
 public:
  explicit CoalescingSocketFactory(vmime::shared_ptr<vmime::net::socketFactory> inner) : inner_(std::move(inner)) {}
  vmime::shared_ptr<vmime::net::socket> create() override;
  vmime::shared_ptr<vmime::net::socket> create(vmime::shared_ptr<vmime::net::timeoutHandler> th) override;

 private:
  vmime::shared_ptr<vmime::net::socketFactory> inner_;
};

}  // namespace faxbridge::mail::detail
