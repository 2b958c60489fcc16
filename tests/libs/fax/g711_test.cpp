// The table codec gives exactly spandsp's bytes and samples for every input.
#include "faxbridge/fax/g711.hpp"

#include <gtest/gtest.h>
#include <spandsp.h>

#include <vector>

namespace faxbridge::fax {
namespace {

std::vector<std::int16_t> every_sample() {
  std::vector<std::int16_t> v;
  for (int s = -32768; s < 32768; ++s) v.push_back(static_cast<std::int16_t>(s));
  return v;
}

TEST(G711, EncodesEverySampleAsSpandspDoes) {
  auto in = every_sample();
  std::vector<std::uint8_t> a(in.size()), u(in.size());
  g711_encode(G711Law::kAlaw, in, a);
  g711_encode(G711Law::kUlaw, in, u);
  int wrong_a = 0, wrong_u = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    wrong_a += a[i] != linear_to_alaw(in[i]);
    wrong_u += u[i] != linear_to_ulaw(in[i]);
  }
  EXPECT_EQ(wrong_a, 0);
  EXPECT_EQ(wrong_u, 0);
}

TEST(G711, DecodesEveryByteAsSpandspDoes) {
  std::vector<std::uint8_t> in;
  for (int b = 0; b < 256; ++b) in.push_back(static_cast<std::uint8_t>(b));
  std::vector<std::int16_t> a(256), u(256);
  g711_decode(G711Law::kAlaw, in, a);
  g711_decode(G711Law::kUlaw, in, u);
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(a[static_cast<std::size_t>(b)], alaw_to_linear(static_cast<std::uint8_t>(b))) << b;
    EXPECT_EQ(u[static_cast<std::size_t>(b)], ulaw_to_linear(static_cast<std::uint8_t>(b))) << b;
  }
}

TEST(G711, StopsAtTheShorterBuffer) {
  std::vector<std::int16_t> in(10, 1000);
  std::vector<std::uint8_t> out(4, 0xEE);
  g711_encode(G711Law::kAlaw, in, out);
  EXPECT_EQ(out[3], linear_to_alaw(1000));
  std::vector<std::int16_t> pcm(2, 7);
  g711_decode(G711Law::kUlaw, out, pcm);
  EXPECT_EQ(pcm.size(), 2u);
}

}  // namespace
}  // namespace faxbridge::fax
