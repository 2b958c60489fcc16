#pragma once
// Ports for tests on loopback. db::testing::free_port hands out a port the kernel just gave
// for TCP and never the same one twice in a process; UDP ports are handed out separately
// by the kernel, so a test that binds UDP checks the port is free there too.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

#include "faxbridge/db/testing/pg_cluster.hpp"

namespace faxbridge::testing {

using db::testing::free_port;

// Whether somebody has bound this UDP port on loopback.
inline bool udp_port_bound(int port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool taken = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0;
  ::close(fd);
  return taken;
}

// The first of `count` consecutive ports free on loopback for TCP and UDP (SIPp's -mp
// binds its audio port and the one two above it); 0 when none was found.
inline int free_udp_block(int count) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int first = free_port();
    bool all_free = first + count <= 65535;
    for (int p = first; p < first + count && all_free; ++p) all_free = !udp_port_bound(p);
    if (all_free) return first;
  }
  return 0;
}

// A port free for both TCP and UDP on loopback (a SIP agent binds both).
inline int free_udp_port() { return free_udp_block(1); }

}  // namespace faxbridge::testing
