// DESIGN: see imap_idle.hpp. The exchange is line by line over the connection's socket
// (the TLS socket when TLS is on: it hands out what GnuTLS has decrypted before reading
// the network again, so no line waits in a buffer unseen). vmime's sockets wait at most
// 50 ms for data in each receive and return nothing when none came; that is the slice in
// which stop() and the end of the wait are checked. The socket's deadline (the session's
// per-operation timeout) is pushed on while idling, where silence is what is waited for,
// and left alone for the server's answers to IDLE and DONE, where silence means a dead
// server. Untagged responses other than EXISTS (EXPUNGE, FETCH flags, Dovecot's
// "* OK Still here") are read and dropped; BYE ends the session.
#include "imap_idle.hpp"

#include <cctype>
#include <memory>
#include <optional>
#include <string>

#include <vmime/exception.hpp>

namespace faxbridge::mail::detail {
namespace {

constexpr const char* kTag = "fbidle";

class LineReader {
 public:
  explicit LineReader(vmime::net::socket& socket) : socket_(socket) {}

  // The next whole line without its CRLF, or nullopt when none came within the socket's
  // 50 ms wait.
  std::optional<std::string> next() {
    for (;;) {
      const auto eol = buffer_.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 2);
        return line;
      }
      vmime::byte_t chunk[4096];
      const std::size_t n = socket_.receiveRaw(chunk, sizeof chunk);
      if (n == 0) return std::nullopt;
      buffer_.append(reinterpret_cast<const char*>(chunk), n);
    }
  }

 private:
  vmime::net::socket& socket_;
  std::string buffer_;
};

bool starts_with_ci(const std::string& line, const std::string& prefix) {
  if (line.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(line[i])) != std::toupper(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

// "* 12 EXISTS" (RFC 3501 7.3.1): the folder now holds 12 messages.
bool is_exists(const std::string& line) {
  if (line.rfind("* ", 0) != 0) return false;
  std::size_t i = 2;
  while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
  return i > 2 && starts_with_ci(line.substr(i), " EXISTS");
}

bool is_bye(const std::string& line) { return starts_with_ci(line, "* BYE"); }

bool is_ours(const std::string& line) { return starts_with_ci(line, std::string(kTag) + " "); }

void send(vmime::net::imap::IMAPConnection& c, const std::string& text) {
  c.sendRaw(reinterpret_cast<const vmime::byte_t*>(text.data()), text.size());
}

[[noreturn]] void ended_by_server(const std::string& line) {
  throw vmime::exceptions::connection_error("the server ended the session: " + line);
}

}  // namespace

IdleEnd imap_idle(vmime::net::imap::IMAPConnection& c, std::chrono::steady_clock::time_point until,
                  const std::function<bool()>& stop) {
  // vmime hands its socket out as const only; the object itself is not const.
  auto socket = std::const_pointer_cast<vmime::net::socket>(c.getSocket());
  if (!socket || !socket->isConnected()) throw vmime::exceptions::not_connected();
  const auto deadline = socket->getTimeoutHandler();
  const auto push_deadline_on = [&] {
    if (deadline) deadline->resetTimeOut();
  };
  LineReader lines(*socket);

  push_deadline_on();
  send(c, std::string(kTag) + " IDLE\r\n");
  bool changed = false;
  for (;;) {  // until the server agrees ("+ idling") or refuses
    auto line = lines.next();
    if (!line) continue;
    if (is_exists(*line)) changed = true;
    else if (is_bye(*line)) ended_by_server(*line);
    else if (line->rfind("+", 0) == 0) break;
    else if (is_ours(*line)) return IdleEnd::kRefused;
  }

  IdleEnd end = IdleEnd::kChanged;
  while (!changed) {
    if (stop()) { end = IdleEnd::kStopped; break; }
    if (std::chrono::steady_clock::now() >= until) { end = IdleEnd::kTimedOut; break; }
    push_deadline_on();
    auto line = lines.next();
    if (!line) continue;
    if (is_exists(*line)) changed = true;
    else if (is_bye(*line)) ended_by_server(*line);
  }

  push_deadline_on();
  send(c, "DONE\r\n");
  for (;;) {  // the IDLE's completion; what comes before it is of the idle time
    auto line = lines.next();
    if (!line) continue;
    if (is_ours(*line)) break;
    if (is_bye(*line)) ended_by_server(*line);
  }
  return end;
}

}  // namespace faxbridge::mail::detail
