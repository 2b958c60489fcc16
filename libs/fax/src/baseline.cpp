// DESIGN: the minimum work a fax call costs in spandsp, for bench/channels to divide by.
// Deliberately written against spandsp directly (not FaxSession) so the ratio it yields
// includes our wrapper too. One function, one call, everything freed before it returns.
#include "faxbridge/fax/baseline.hpp"

#include <spandsp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

namespace faxbridge::fax {

namespace {

struct Ends {
  bool done[2] = {false, false};
  int code[2] = {-1, -1};
  t30_state_t* t30[2] = {nullptr, nullptr};
};

void phase_e(t30_state_t*, void* user, int code) {
  auto* flag = static_cast<int*>(user);
  *flag = code;
}

void configure(t30_state_t* t, bool sender, const std::string& file, bool ecm, int rx_encoding, int* done_code) {
  t30_set_ecm_capability(t, ecm ? 1 : 0);
  t30_set_supported_compressions(
      t, T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION);
  // The receiver stores pages as `store` asks, spandsp's own way (encoded inside the tick
  // where the page ends); T.6 by default, the document the full path stores.
  t30_set_rx_encoding(t, rx_encoding);
  if (sender) {
    t30_set_tx_file(t, file.c_str(), -1, -1);
  } else {
    t30_set_rx_file(t, file.c_str(), -1);
  }
  t30_set_phase_e_handler(t, phase_e, done_code);
}

struct Packet {
  std::vector<std::uint8_t> bytes;
};

// Two UDP sockets on 127.0.0.1 connected to each other (the floor variant's wire).
struct UdpPair {
  int fd[2] = {-1, -1};
  ~UdpPair() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  bool open() {
    sockaddr_in a[2]{};
    for (int i = 0; i < 2; ++i) {
      fd[i] = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      a[i].sin_family = AF_INET;
      a[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof a[i];
      if (fd[i] < 0 || ::bind(fd[i], reinterpret_cast<sockaddr*>(&a[i]), len) < 0 ||
          ::getsockname(fd[i], reinterpret_cast<sockaddr*>(&a[i]), &len) < 0) {
        return false;
      }
    }
    return ::connect(fd[0], reinterpret_cast<sockaddr*>(&a[1]), sizeof a[1]) == 0 &&
           ::connect(fd[1], reinterpret_cast<sockaddr*>(&a[0]), sizeof a[0]) == 0;
  }
};

// One direction of the wire: packets either queue in memory, or are sent through `send_fd`
// and counted, to be read back from the other socket with exactly one recv each.
struct T38Pipe {
  std::deque<Packet> q;
  int send_fd = -1;
  int in_flight = 0;
};

int t38_tx(t38_core_state_t*, void* user, const uint8_t* buf, int len, int) {
  auto* pipe = static_cast<T38Pipe*>(user);
  if (pipe->send_fd >= 0) {
    if (::send(pipe->send_fd, buf, static_cast<std::size_t>(len), 0) == len) ++pipe->in_flight;
    return 0;
  }
  pipe->q.push_back(Packet{std::vector<std::uint8_t>(buf, buf + len)});
  return 0;
}

// Floor variant: moves the packets that crossed the wire into the queue, one recv each.
void collect(T38Pipe& pipe, int recv_fd) {
  std::uint8_t buf[2048];
  for (; pipe.in_flight > 0; --pipe.in_flight) {
    ssize_t n = ::recv(recv_fd, buf, sizeof buf, 0);
    if (n > 0) pipe.q.push_back(Packet{std::vector<std::uint8_t>(buf, buf + n)});
  }
}

}  // namespace

Result<BaselineResult> run_bare_spandsp_call(MediaKind media, const std::string& in_tiff,
                                             const std::string& out_tiff, bool ecm, StoreCompression store,
                                             BaselineWire wire) {
  UdpPair udp;
  const bool floor = wire == BaselineWire::kUdpFloor;
  if (floor && !udp.open()) {
    return Error(Code::k_fax_transport_failed, "The floor baseline could not open its UDP sockets.")
        .with("reason", std::strerror(errno));
  }
  const int rx_encoding = store == StoreCompression::kT6       ? T4_COMPRESSION_ITU_T6
                          : store == StoreCompression::kT4TwoD ? T4_COMPRESSION_ITU_T4_2D
                                                               : T4_COMPRESSION_ITU_T4_1D;
  constexpr int kMaxTicks = 60 * 60 * 50;  // an hour of media time: far beyond any test call
  int code_tx = -1, code_rx = -1;
  BaselineResult r;
  int ticks = 0;
  if (media == MediaKind::kT38) {
    T38Pipe to_rx, to_tx;
    if (floor) {
      to_rx.send_fd = udp.fd[0];
      to_tx.send_fd = udp.fd[1];
    }
    t38_terminal_state_t* tx = t38_terminal_init(nullptr, 1, t38_tx, &to_rx);
    t38_terminal_state_t* rx = t38_terminal_init(nullptr, 0, t38_tx, &to_tx);
    if (!tx || !rx) return Error(Code::k_internal, "spandsp could not create T.38 terminals.");
    configure(t38_terminal_get_t30_state(tx), true, in_tiff, ecm, rx_encoding, &code_tx);
    configure(t38_terminal_get_t30_state(rx), false, out_tiff, ecm, rx_encoding, &code_rx);
    std::uint16_t seq_tx = 0, seq_rx = 0;
    for (; ticks < kMaxTicks && (code_tx < 0 || code_rx < 0); ++ticks) {
      if (floor) {
        collect(to_rx, udp.fd[1]);
        collect(to_tx, udp.fd[0]);
      }
      while (!to_rx.q.empty()) {
        auto& p = to_rx.q.front().bytes;
        t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(rx), p.data(), static_cast<int>(p.size()), seq_tx++);
        to_rx.q.pop_front();
      }
      while (!to_tx.q.empty()) {
        auto& p = to_tx.q.front().bytes;
        t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(tx), p.data(), static_cast<int>(p.size()), seq_rx++);
        to_tx.q.pop_front();
      }
      t38_terminal_send_timeout(tx, 160);
      t38_terminal_send_timeout(rx, 160);
    }
    t30_stats_t st;
    t30_get_transfer_statistics(t38_terminal_get_t30_state(rx), &st);
    r.pages = st.pages_rx;
    t38_terminal_free(tx);
    t38_terminal_free(rx);
  } else {
    fax_state_t* tx = fax_init(nullptr, 1);
    fax_state_t* rx = fax_init(nullptr, 0);
    if (!tx || !rx) return Error(Code::k_internal, "spandsp could not create fax engines.");
    fax_set_transmit_on_idle(tx, 1);
    fax_set_transmit_on_idle(rx, 1);
    configure(fax_get_t30_state(tx), true, in_tiff, ecm, rx_encoding, &code_tx);
    configure(fax_get_t30_state(rx), false, out_tiff, ecm, rx_encoding, &code_rx);
    const bool alaw = media == MediaKind::kAlaw;
    int16_t a[160], b[160];
    uint8_t g[160];
    // Floor variant: each encoded frame crosses the wire (one send, one recv).
    auto carry = [&](int from) {
      if (!floor) return;
      if (::send(udp.fd[from], g, sizeof g, 0) == static_cast<ssize_t>(sizeof g)) {
        (void)::recv(udp.fd[1 - from], g, sizeof g, 0);
      }
    };
    for (; ticks < kMaxTicks && (code_tx < 0 || code_rx < 0); ++ticks) {
      fax_tx(tx, a, 160);
      fax_tx(rx, b, 160);
      for (int i = 0; i < 160; ++i) g[i] = alaw ? linear_to_alaw(a[i]) : linear_to_ulaw(a[i]);
      carry(0);
      for (int i = 0; i < 160; ++i) a[i] = alaw ? alaw_to_linear(g[i]) : ulaw_to_linear(g[i]);
      for (int i = 0; i < 160; ++i) g[i] = alaw ? linear_to_alaw(b[i]) : linear_to_ulaw(b[i]);
      carry(1);
      for (int i = 0; i < 160; ++i) b[i] = alaw ? alaw_to_linear(g[i]) : ulaw_to_linear(g[i]);
      fax_rx(rx, a, 160);
      fax_rx(tx, b, 160);
    }
    t30_stats_t st;
    t30_get_transfer_statistics(fax_get_t30_state(rx), &st);
    r.pages = st.pages_rx;
    fax_free(tx);
    fax_free(rx);
  }
  r.success = code_tx == T30_ERR_OK && code_rx == T30_ERR_OK;
  r.media_seconds = ticks * 0.02;
  return r;
}

}  // namespace faxbridge::fax
