#pragma once
// Bare spandsp back to back, for benchmarks: the reference the library's full path is
// measured against. Two spandsp endpoints in one thread, no sockets, no UDPTL/RTP, no
// runtime, no wrapper: T.38 hands IFP packets over directly with 20 ms pacing; audio passes
// 160 samples per tick through G.711 encode/decode (A-law or u-law), as spandsp's own
// fax_tests.c does.
// The floor variant carries the same packets through a pair of connected UDP sockets on
// 127.0.0.1, each datagram sent once and received once with nothing else (no framing, no
// readiness polling, no runtime): what the kernel's UDP path alone adds to bare spandsp,
// the least any full path over UDP can cost.
#include <string>

#include "faxbridge/core/result.hpp"
#include "faxbridge/fax/channel.hpp"

namespace faxbridge::fax {

struct BaselineResult {
  bool success = false;
  int pages = 0;
  double media_seconds = 0;
};

enum class BaselineWire { kDirect, kUdpFloor };

Result<BaselineResult> run_bare_spandsp_call(MediaKind media, const std::string& in_tiff,
                                             const std::string& out_tiff, bool ecm = true,
                                             StoreCompression store = StoreCompression::kT6,
                                             BaselineWire wire = BaselineWire::kDirect);

}  // namespace faxbridge::fax
