#pragma once
// Datagram links: the path one channel's media takes to the far end. A link is a UDP socket
// (real, on any address; the loopback pairs use 127.0.0.1) or an in-memory queue for unit
// tests. Both can impair what they send (loss, duplication, reordering, jitter) from a fixed
// seed, counted in 20 ms ticks so the same seed gives the same pattern in fast and
// real-time mode. A link is used by one thread at a time (its channel's worker).
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "faxbridge/core/result.hpp"

namespace faxbridge::fax {

struct Impairments {
  double loss = 0;        // probability that a datagram is dropped
  double duplicate = 0;   // probability that a datagram is sent twice
  double reorder = 0;     // probability that a datagram is held one tick and overtaken
  int jitter_ticks = 0;   // extra delay, uniform in 0..jitter_ticks ticks
  std::uint64_t seed = 1;
  bool any() const { return loss > 0 || duplicate > 0 || reorder > 0 || jitter_ticks > 0; }
};

struct LinkStats {
  std::uint64_t sent = 0;
  std::uint64_t dropped = 0;      // by impairment
  std::uint64_t duplicated = 0;
  std::uint64_t delayed = 0;
  std::uint64_t received = 0;
  std::uint64_t send_errors = 0;
};

class DatagramLink {
 public:
  using Handler = std::function<void(std::span<const std::uint8_t>)>;
  virtual ~DatagramLink() = default;
  // Sends (or, impaired, drops or delays) one datagram.
  virtual void send(std::span<const std::uint8_t> datagram) = 0;
  // Calls `handler` for every datagram waiting now; never blocks.
  virtual void receive_all(const Handler& handler) = 0;
  // Calls `handler` for the first datagram waiting, if any (one system call; for a socket
  // that a level-triggered epoll reported readable). Never blocks.
  virtual void receive_one(const Handler& handler) { receive_all(handler); }
  // A descriptor that becomes readable when datagrams wait, or -1 (memory links).
  virtual int fd() const { return -1; }
  // Advances the impairment clock by one tick, releasing delayed datagrams.
  virtual void tick() = 0;
  // Whether tick() does anything: only an impaired link holds datagrams back. A channel
  // asks once and then skips the call (one cache miss per channel per tick at 1,000 calls).
  virtual bool impaired() const = 0;
  // The line goes dead: from now on nothing is carried in either direction.
  virtual void cut() = 0;
  // Sends to a new far-end address from now on, and takes datagrams only from it (the far
  // end moved its media, e.g. in a re-INVITE). Memory links have no address to change.
  virtual Result<void> redirect(const std::string& remote_host, int remote_port);
  virtual const LinkStats& stats() const = 0;
};

using LinkPair = std::pair<std::unique_ptr<DatagramLink>, std::unique_ptr<DatagramLink>>;

// Two in-memory ends; first sends to second with `a_to_b`, second to first with `b_to_a`.
LinkPair make_memory_link_pair(const Impairments& a_to_b = {}, const Impairments& b_to_a = {});
// Two UDP sockets bound to 127.0.0.1 on ephemeral ports and connected to each other.
Result<LinkPair> make_udp_link_pair(const Impairments& a_to_b = {}, const Impairments& b_to_a = {});
// One UDP socket bound to `local_host:local_port` (0 = ephemeral), sending to the remote.
Result<std::unique_ptr<DatagramLink>> open_udp_link(const std::string& local_host, int local_port,
                                                    const std::string& remote_host, int remote_port,
                                                    const Impairments& impairments = {});

}  // namespace faxbridge::fax
