#include "faxbridge/fax/rtp.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace faxbridge::fax {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(Rtp, WritesTheFixedHeader) {
  RtpHeader h;
  h.marker = true;
  h.payload_type = kPayloadPcma;
  h.seq = 0x1234;
  h.timestamp = 0x01020304;
  h.ssrc = 0xA0B0C0D0;
  Bytes payload = {0xD5, 0xD5};
  Bytes out;
  rtp_write(h, payload, out);
  EXPECT_EQ(out, (Bytes{0x80, 0x88, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0xA0, 0xB0, 0xC0, 0xD0, 0xD5, 0xD5}));
  auto p = rtp_parse(out);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->header.marker);
  EXPECT_EQ(p->header.payload_type, kPayloadPcma);
  EXPECT_EQ(p->header.seq, 0x1234);
  EXPECT_EQ(p->header.timestamp, 0x01020304u);
  EXPECT_EQ(p->header.ssrc, 0xA0B0C0D0u);
  EXPECT_EQ(Bytes(p->payload.begin(), p->payload.end()), payload);
}

TEST(Rtp, SkipsCsrcsExtensionAndPadding) {
  // V=2 P=1 X=1 CC=1, PT 0; one CSRC; extension of one word; payload 2 bytes; 2 bytes padding.
  Bytes pkt = {0xB1, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, /*csrc*/ 1, 2, 3, 4,
               /*ext*/ 0xBE, 0xDE, 0x00, 0x01, 9, 9, 9, 9, /*payload*/ 0x7F, 0xFF, /*pad*/ 0x00, 0x02};
  auto p = rtp_parse(pkt);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(Bytes(p->payload.begin(), p->payload.end()), (Bytes{0x7F, 0xFF}));
}

TEST(Rtp, RefusesMalformedPackets) {
  for (const Bytes& bad : {Bytes{}, Bytes{0x80, 0, 0}, Bytes(12, 0x00) /* version 0 */,
                           Bytes{0x8F, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} /* 15 CSRCs missing */,
                           Bytes{0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0xFF, 0xFF},
                           Bytes{0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05} /* padding > payload */}) {
    auto p = rtp_parse(bad);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, Code::k_fax_malformed_packet);
  }
}

TEST(JitterBuffer, PlaysFramesInTimestampOrderAfterTheFixedDelay) {
  JitterBuffer jb(2, 160);
  Bytes a = {1}, b = {2}, c = {3};
  jb.put(1000, a, 0);
  jb.put(1320, c, 1);  // arrives before b
  jb.put(1160, b, 1);
  EXPECT_FALSE(jb.take(0));
  EXPECT_FALSE(jb.take(1));
  auto f2 = jb.take(2);
  ASSERT_TRUE(f2);
  EXPECT_EQ((*f2)[0], 1);
  EXPECT_EQ((*jb.take(3))[0], 2);
  EXPECT_EQ((*jb.take(4))[0], 3);
  EXPECT_FALSE(jb.take(5));
  EXPECT_EQ(jb.stats().played, 3u);
  EXPECT_EQ(jb.stats().missing, 1u);
}

TEST(JitterBuffer, DropsLateFramesAndDuplicates) {
  JitterBuffer jb(1, 160);
  Bytes x = {7};
  jb.put(0, x, 0);
  jb.put(0, x, 0);
  EXPECT_EQ(jb.stats().duplicates, 1u);
  EXPECT_TRUE(jb.take(1));
  EXPECT_FALSE(jb.take(2));   // frame 1 missing
  jb.put(160, x, 2);          // frame 1 arrives after its tick
  EXPECT_EQ(jb.stats().late, 1u);
}

TEST(JitterBuffer, ReanchorsAfterATimestampJump) {
  JitterBuffer jb(1, 160);
  Bytes x = {7};
  jb.put(0, x, 0);
  EXPECT_TRUE(jb.take(1));
  jb.put(0x80000000u, x, 2);
  EXPECT_EQ(jb.stats().resyncs, 1u);
  EXPECT_TRUE(jb.take(3));
}

}  // namespace
}  // namespace faxbridge::fax
