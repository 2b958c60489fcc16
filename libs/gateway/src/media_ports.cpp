#include "media_ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace faxbridge::gateway {

namespace {

constexpr int kBindTries = 4;

// Whether a UDP socket can bind address:port now.
bool udp_port_free(const std::string& address, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return true;  // let the link report it
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

MediaPorts::MediaPorts(std::string address, int first, int last)
    : address_(std::move(address)), first_(first), last_(last), next_(first) {}

int MediaPorts::next_candidate() {
  const int span = last_ - first_ + 1;
  for (int i = 0; i < span; i += 2) {
    const int p = next_;
    next_ += 2;
    if (next_ > last_) next_ = first_;
    if (in_use_.insert(p).second) return p;
  }
  return 0;
}

int MediaPorts::reserve() {
  for (int attempt = 0; attempt < kBindTries; ++attempt) {
    const int p = next_candidate();
    if (p == 0) return 0;
    if (udp_port_free(address_, p)) return p;
    release(p);
  }
  return 0;
}

std::optional<CallPorts> MediaPorts::reserve_call(bool with_t38) {
  CallPorts ports;
  ports.media = reserve();
  if (ports.media == 0) return std::nullopt;
  if (with_t38) {
    ports.t38 = reserve();
    if (ports.t38 == 0) {
      release(ports.media);
      return std::nullopt;
    }
  }
  return ports;
}

void MediaPorts::release(int port) { in_use_.erase(port); }

void MediaPorts::release(const CallPorts& ports) {
  if (ports.media) release(ports.media);
  if (ports.t38) release(ports.t38);
}

}  // namespace faxbridge::gateway
