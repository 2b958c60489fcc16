// libFuzzer target: the UDPTL decoder and the receiver's sequence handling must refuse or
// absorb any datagram without crashing, reading out of bounds or leaking.
#include <cstddef>
#include <cstdint>
#include <span>

#include "faxbridge/fax/udptl.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> in(data, size);
  auto p = faxbridge::fax::udptl_decode(in);
  if (p) {
    // Whatever decodes must encode again (the encoder may refuse sizes it never emits).
    (void)faxbridge::fax::udptl_encode(*p);
  }
  // Split the input into several datagrams for the receiver: first byte = chunk length.
  std::size_t delivered = 0;
  faxbridge::fax::UdptlReceiver rx([&](std::span<const std::uint8_t> ifp, std::uint16_t) { delivered += ifp.size(); });
  while (!in.empty()) {
    std::size_t n = std::min<std::size_t>(in[0] + 1u, in.size());
    (void)rx.receive(in.subspan(0, n));
    rx.tick();
    in = in.subspan(n);
  }
  return 0;
}
