// libFuzzer target: the SDP T.38 attribute parser must refuse or accept any text without
// crashing, and what it accepts must print and parse back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "faxbridge/fax/t38_params.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto p = faxbridge::fax::T38Params::parse_sdp(text);
  if (p) {
    auto again = faxbridge::fax::T38Params::parse_sdp(p->to_sdp());
    if (!again || !(*again == *p)) std::abort();
  }
  return 0;
}
