#pragma once
// Shared by the SIP tests: free UDP ports on loopback and a recorder of every agent
// event that tests wait on (condition variable, no sleeps).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/sip/user_agent.hpp"
#include "faxbridge/testing/ports.hpp"

namespace faxbridge::sip::testing {

using namespace std::chrono_literals;

using faxbridge::testing::free_udp_port;

// A self-signed certificate made now with the openssl CLI: agent.pem holds the key and
// the certificate, cafile.pem the certificate alone (so a peer with this directory
// trusts it).
inline std::filesystem::path make_certificate_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("faxbridge-tls-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string d = dir.string();
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
                          "-addext subjectAltName=IP:127.0.0.1 -keyout " + d + "/key.pem -out " + d +
                          "/cert.pem >" + d + "/openssl.log 2>&1 && cat " + d + "/key.pem " + d +
                          "/cert.pem >" + d + "/agent.pem && cp " + d + "/cert.pem " + d + "/cafile.pem";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl failed: " + cmd);
  return dir;
}

inline Settings test_settings(int port) {
  Settings s;
  s.bind_address = "127.0.0.1";
  s.port = port;
  // Short enough that a dead address fails in seconds, long enough for a loaded CI box.
  s.transaction_timeout = 4s;
  s.options_interval = 1s;
  return s;
}

struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<CallProgress> progress;
  std::vector<CallAnswered> answered;
  std::vector<CallFailed> failed;
  std::vector<CallEnded> ended;
  std::vector<MediaChanged> media_changed;
  std::vector<ReinviteRefused> reinvite_refused;
  std::vector<IncomingCall> incoming;
  std::vector<ReinviteRequest> reinvites;
  std::vector<GatewayHealth> health;
  // Set by the test before the call; read on the agent's thread.
  std::function<InboundDecision(const IncomingCall&)> decide = [](const IncomingCall&) {
    return InboundDecision::refuse(480);
  };
  std::function<std::optional<MediaOffer>(const ReinviteRequest&)> on_reinvite;

  template <class E>
  std::function<void(const E&)> push(std::vector<E>& into) {
    return [this, &into](const E& e) {
      std::lock_guard lock(mu);
      into.push_back(e);
      cv.notify_all();
    };
  }

  Handlers handlers() {
    Handlers h;
    h.on_progress = push(progress);
    h.on_answered = push(answered);
    h.on_failed = push(failed);
    h.on_ended = push(ended);
    h.on_media_changed = push(media_changed);
    h.on_reinvite_refused = push(reinvite_refused);
    h.on_health = push(health);
    h.on_incoming = [this](const IncomingCall& c) {
      std::function<InboundDecision(const IncomingCall&)> d;
      {
        std::lock_guard lock(mu);
        incoming.push_back(c);
        cv.notify_all();
        d = decide;
      }
      return d(c);
    };
    h.on_reinvite = [this](const ReinviteRequest& r) -> std::optional<MediaOffer> {
      std::function<std::optional<MediaOffer>(const ReinviteRequest&)> f;
      {
        std::lock_guard lock(mu);
        reinvites.push_back(r);
        cv.notify_all();
        f = on_reinvite;
      }
      return f ? f(r) : std::nullopt;
    };
    return h;
  }

  // Waits until `pred` (called under the lock) holds; false after `limit`.
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds limit = 20s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] { return pred(); });
  }
};

inline T38Offer t38_offer(int port) {
  return T38Offer{port,
                  {"T38FaxVersion:0", "T38MaxBitRate:14400", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxBuffer:2000", "T38FaxMaxDatagram:400", "T38FaxUdpEC:t38UDPRedundancy"}};
}

inline MediaOffer t38_media(int port) {
  MediaOffer m;
  m.t38 = t38_offer(port);
  return m;
}

inline MediaOffer audio_media(int port) {
  MediaOffer m;
  m.audio = AudioOffer{port};
  return m;
}

// A raw UDP socket on loopback for sending what no SIP stack would (malformed tests).
class RawUdp {
 public:
  explicit RawUdp(int to_port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    to_.sin_family = AF_INET;
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to_.sin_port = htons(static_cast<std::uint16_t>(to_port));
  }
  ~RawUdp() { ::close(fd_); }
  int port() const { return port_; }
  void send(const std::string& data) {
    ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_);
  }
  // Sends `request` and again every 500 ms (RFC 3261 timer A: UDP loses datagrams, the
  // more so right after a flood) until a reply starting with `prefix` comes back.
  std::string request(const std::string& request, const std::string& prefix,
                      std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      send(request);
      std::string reply = receive_starting_with(prefix, 500ms);
      if (!reply.empty()) return reply;
    }
    return {};
  }
  // The first received datagram starting with `prefix`, or "" after `limit`.
  std::string receive_starting_with(const std::string& prefix, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[65536];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string d(buf, static_cast<std::size_t>(n));
      if (d.rfind(prefix, 0) == 0) return d;
    }
    return {};
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  sockaddr_in to_{};
};

inline std::string invite(int to_port, int from_port, const std::string& tag, const std::string& body,
                   bool with_call_id = true) {
  std::string m = "INVITE sip:+390297865403@127.0.0.1:" + std::to_string(to_port) + " SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 127.0.0.1:" + std::to_string(from_port) + ";branch=z9hG4bK" + tag + "\r\n";
  m += "Max-Forwards: 70\r\n";
  m += "From: <sip:attacker@127.0.0.1:" + std::to_string(from_port) + ">;tag=" + tag + "\r\n";
  m += "To: <sip:+390297865403@127.0.0.1:" + std::to_string(to_port) + ">\r\n";
  if (with_call_id) m += "Call-ID: " + tag + "@127.0.0.1\r\n";
  m += "CSeq: 1 INVITE\r\n";
  m += "Contact: <sip:attacker@127.0.0.1:" + std::to_string(from_port) + ">\r\n";
  m += "Content-Type: application/sdp\r\n";
  m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return m;
}

}  // namespace faxbridge::sip::testing
