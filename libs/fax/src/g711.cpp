// DESIGN: A-law keeps at most the top 12 bits of a 16-bit sample (spandsp shifts right by 4
// or more after taking the sign, and a block of 8 values never straddles zero), so its
// encoder table is indexed by sample >> 3 (8 KB, stays in L1). u-law adds a bias before
// shifting, so every bit can matter: its table has all 65,536 entries. Decoding is 256
// entries each. g711_test compares every input against spandsp's functions.
#include "faxbridge/fax/g711.hpp"

#include <spandsp.h>

#include <array>

namespace faxbridge::fax {

namespace {

struct Tables {
  std::array<std::int16_t, 256> alaw_to_linear{};
  std::array<std::int16_t, 256> ulaw_to_linear{};
  std::array<std::uint8_t, 8192> linear_to_alaw{};  // index: (sample + 32768) >> 3
  std::array<std::uint8_t, 65536> linear_to_ulaw{};  // index: sample + 32768

  Tables() {
    for (int i = 0; i < 256; ++i) {
      alaw_to_linear[static_cast<std::size_t>(i)] = ::alaw_to_linear(static_cast<std::uint8_t>(i));
      ulaw_to_linear[static_cast<std::size_t>(i)] = ::ulaw_to_linear(static_cast<std::uint8_t>(i));
    }
    for (int s = -32768; s < 32768; ++s) {
      auto index = static_cast<std::size_t>(s + 32768);
      linear_to_ulaw[index] = ::linear_to_ulaw(s);
      if ((index & 7) == 0) linear_to_alaw[index >> 3] = ::linear_to_alaw(s);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

void g711_encode(G711Law law, std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
  const Tables& t = tables();
  const std::size_t n = in.size() < out.size() ? in.size() : out.size();
  if (law == G711Law::kAlaw) {
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = t.linear_to_alaw[static_cast<std::size_t>(in[i] + 32768) >> 3];
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = t.linear_to_ulaw[static_cast<std::size_t>(in[i] + 32768)];
  }
}

void g711_decode(G711Law law, std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
  const auto& table = law == G711Law::kAlaw ? tables().alaw_to_linear : tables().ulaw_to_linear;
  const std::size_t n = in.size() < out.size() ? in.size() : out.size();
  for (std::size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

}  // namespace faxbridge::fax
