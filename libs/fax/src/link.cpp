// DESIGN: a link owns its transport (a non-blocking UDP socket, or a queue shared with the
// peer end) and an Impairer on its sending side. The Impairer decides per datagram, from its
// own seeded generator, whether to drop, duplicate, delay or hold it back; delayed datagrams
// wait in a small queue keyed by the tick at which they leave, so the pattern depends only on
// the seed and the order of sends. cut() marks the shared line dead for both ends (a hung-up
// call carries nothing); sockets close with the link.
#include "faxbridge/fax/link.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/uio.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <random>
#include <vector>

namespace faxbridge::fax {

namespace {

struct LineState {
  std::atomic<bool> dead{false};
};

class Impairer {
 public:
  using Raw = std::function<void(std::span<const std::uint8_t>)>;
  Impairer(const Impairments& i, LinkStats& stats) : imp_(i), rng_(i.seed), stats_(stats) {}

  void send(std::span<const std::uint8_t> d, const Raw& raw) {
    ++stats_.sent;
    if (!imp_.any()) {
      raw(d);
      return;
    }
    if (imp_.loss > 0 && uniform() < imp_.loss) {
      ++stats_.dropped;
      return;
    }
    int copies = 1;
    if (imp_.duplicate > 0 && uniform() < imp_.duplicate) {
      copies = 2;
      ++stats_.duplicated;
    }
    std::uint64_t delay = 0;
    if (imp_.jitter_ticks > 0) delay = rng_() % static_cast<std::uint64_t>(imp_.jitter_ticks + 1);
    if (imp_.reorder > 0 && uniform() < imp_.reorder) delay += 1;
    for (int c = 0; c < copies; ++c) {
      if (delay == 0) {
        raw(d);
      } else {
        ++stats_.delayed;
        queue_.push_back({tick_ + delay, std::vector<std::uint8_t>(d.begin(), d.end())});
      }
    }
  }

  bool impaired() const { return imp_.any(); }
  void tick(const Raw& raw) {
    ++tick_;
    // Release in order of due tick, keeping send order among equals.
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->due <= tick_) {
        raw(it->bytes);
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }
  struct Held {
    std::uint64_t due;
    std::vector<std::uint8_t> bytes;
  };
  Impairments imp_;
  std::mt19937_64 rng_;
  LinkStats& stats_;
  std::uint64_t tick_ = 0;
  std::deque<Held> queue_;
};

// --- memory -------------------------------------------------------------------------

struct MemoryQueue {
  std::deque<std::vector<std::uint8_t>> items;
};

class MemoryLink final : public DatagramLink {
 public:
  MemoryLink(std::shared_ptr<MemoryQueue> in, std::shared_ptr<MemoryQueue> out,
             std::shared_ptr<LineState> line, const Impairments& imp)
      : in_(std::move(in)), out_(std::move(out)), line_(std::move(line)), impairer_(imp, stats_) {
    raw_ = [this](std::span<const std::uint8_t> d) {
      if (!line_->dead) out_->items.emplace_back(d.begin(), d.end());
    };
  }
  void send(std::span<const std::uint8_t> d) override {
    if (line_->dead) return;
    impairer_.send(d, raw_);
  }
  void receive_all(const Handler& h) override {
    while (!in_->items.empty()) {
      auto d = std::move(in_->items.front());
      in_->items.pop_front();
      if (line_->dead) continue;
      ++stats_.received;
      h(d);
    }
  }
  void tick() override { impairer_.tick(raw_); }
  bool impaired() const override { return impairer_.impaired(); }
  void cut() override { line_->dead = true; }
  const LinkStats& stats() const override { return stats_; }

 private:
  std::shared_ptr<MemoryQueue> in_, out_;
  std::shared_ptr<LineState> line_;
  LinkStats stats_;
  Impairer impairer_;
  Impairer::Raw raw_;
};

// --- UDP ----------------------------------------------------------------------------

Error socket_error(const char* op, int err) {
  return Error(Code::k_fax_transport_failed, std::string("A UDP socket operation failed: ") + op + ".")
      .with("reason", std::strerror(err));
}

Result<sockaddr_in> make_addr(const std::string& host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (port < 0 || port > 65535 || inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    return Error(Code::k_fax_transport_failed, "The media address is not an IPv4 address and port.")
        .with("host", host)
        .with("port", std::to_string(port));
  }
  return a;
}

Result<void> connect_to(int fd, const sockaddr_in& remote) {
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&remote), sizeof remote) < 0) {
    return socket_error("connect", errno);
  }
  return ok();
}

class UdpLink final : public DatagramLink {
 public:
  UdpLink(int fd, std::shared_ptr<LineState> line, const Impairments& imp)
      : fd_(fd), line_(std::move(line)), impairer_(imp, stats_) {
    raw_ = [this](std::span<const std::uint8_t> d) {
      if (line_->dead) return;
      // Connected socket: send() goes to the far end. A full buffer or a refused port
      // (far end gone) loses the datagram, which is what UDP would do on a real line.
      if (::send(fd_, d.data(), d.size(), MSG_DONTWAIT) < 0) ++stats_.send_errors;
    };
  }
  ~UdpLink() override {
    if (fd_ >= 0) ::close(fd_);
  }
  void send(std::span<const std::uint8_t> d) override {
    if (line_->dead) return;
    impairer_.send(d, raw_);
  }
  void receive_all(const Handler& h) override {
    // recvmmsg takes whatever is queued (up to a batch) in one system call and, with
    // MSG_DONTWAIT, returns a short batch instead of needing an extra call to see EAGAIN:
    // system calls are most of what a channel costs beyond spandsp itself.
    constexpr unsigned kBatch = 16;
    constexpr std::size_t kMaxDatagram = 2048;
    // One set of buffers per worker thread, wired up once: recvmmsg only writes msg_len
    // and msg_flags back, so the headers stay valid from call to call.
    struct Batch {
      std::array<std::array<std::uint8_t, kMaxDatagram>, kBatch> bufs;
      std::array<iovec, kBatch> iov;
      std::array<mmsghdr, kBatch> msgs;
      Batch() {
        for (unsigned i = 0; i < kBatch; ++i) {
          iov[i].iov_base = bufs[i].data();
          iov[i].iov_len = kMaxDatagram;
          msgs[i] = mmsghdr{};
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
      }
    };
    thread_local Batch batch;
    auto& bufs = batch.bufs;
    auto& msgs = batch.msgs;
    for (;;) {
      int n = ::recvmmsg(fd_, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EINTR) continue;
        // ECONNREFUSED: an ICMP error from an earlier send (far end not listening yet or any
        // more); the next call reads on.
        if (errno == ECONNREFUSED) continue;
        return;  // EAGAIN: nothing queued
      }
      for (int i = 0; i < n; ++i) {
        if (line_->dead) continue;
        ++stats_.received;
        h(std::span<const std::uint8_t>(bufs[static_cast<std::size_t>(i)].data(), msgs[static_cast<std::size_t>(i)].msg_len));
      }
      if (static_cast<unsigned>(n) < kBatch) return;
    }
  }
  void receive_one(const Handler& h) override {
    thread_local std::array<std::uint8_t, 2048> buf;
    for (;;) {
      ssize_t n = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == ECONNREFUSED)) continue;
      if (n < 0 || line_->dead) return;
      ++stats_.received;
      h(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
      return;
    }
  }
  Result<void> redirect(const std::string& host, int port) override {
    auto remote = make_addr(host, port);
    if (!remote) return std::move(remote).error();
    return connect_to(fd_, *remote);
  }
  int fd() const override { return fd_; }
  void tick() override { impairer_.tick(raw_); }
  bool impaired() const override { return impairer_.impaired(); }
  void cut() override { line_->dead = true; }
  const LinkStats& stats() const override { return stats_; }

 private:
  int fd_;
  std::shared_ptr<LineState> line_;
  LinkStats stats_;
  Impairer impairer_;
  Impairer::Raw raw_;
};

Result<int> bound_socket(const sockaddr_in& local) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return socket_error("socket", errno);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) < 0) {
    int e = errno;
    ::close(fd);
    return socket_error("bind", e);
  }
  return fd;
}

int local_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}


}  // namespace

Result<void> DatagramLink::redirect(const std::string&, int) {
  return Error(Code::k_fax_transport_failed, "This media link has no far-end address to change.");
}

LinkPair make_memory_link_pair(const Impairments& a_to_b, const Impairments& b_to_a) {
  auto qa = std::make_shared<MemoryQueue>();  // what a receives
  auto qb = std::make_shared<MemoryQueue>();
  auto line = std::make_shared<LineState>();
  return {std::make_unique<MemoryLink>(qa, qb, line, a_to_b),
          std::make_unique<MemoryLink>(qb, qa, line, b_to_a)};
}

Result<LinkPair> make_udp_link_pair(const Impairments& a_to_b, const Impairments& b_to_a) {
  auto any = make_addr("127.0.0.1", 0);
  auto fa = bound_socket(*any);
  if (!fa) return std::move(fa).error();
  auto fb = bound_socket(*any);
  if (!fb) {
    ::close(*fa);
    return std::move(fb).error();
  }
  auto ra = make_addr("127.0.0.1", local_port(*fa));
  auto rb = make_addr("127.0.0.1", local_port(*fb));
  auto ca = connect_to(*fa, *rb);
  auto cb = connect_to(*fb, *ra);
  if (!ca || !cb) {
    ::close(*fa);
    ::close(*fb);
    return ca ? std::move(cb).error() : std::move(ca).error();
  }
  auto line = std::make_shared<LineState>();
  LinkPair p{std::make_unique<UdpLink>(*fa, line, a_to_b), std::make_unique<UdpLink>(*fb, line, b_to_a)};
  return p;
}

Result<std::unique_ptr<DatagramLink>> open_udp_link(const std::string& local_host, int local_port_number,
                                                    const std::string& remote_host, int remote_port,
                                                    const Impairments& impairments) {
  auto local = make_addr(local_host, local_port_number);
  if (!local) return std::move(local).error();
  auto remote = make_addr(remote_host, remote_port);
  if (!remote) return std::move(remote).error();
  auto fd = bound_socket(*local);
  if (!fd) return std::move(fd).error();
  if (auto c = connect_to(*fd, *remote); !c) {
    ::close(*fd);
    return std::move(c).error();
  }
  return std::unique_ptr<DatagramLink>(
      std::make_unique<UdpLink>(*fd, std::make_shared<LineState>(), impairments));
}

}  // namespace faxbridge::fax
