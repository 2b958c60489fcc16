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

TEST(Red, WritesRfc2198HeadersThenRedundantThenPrimaryBlocks) {
  // RFC 2198 section 3: F=1 | PT, 14-bit timestamp offset, 10-bit length per redundant
  // block; F=0 | PT for the primary; then the blocks in the same order.
  Bytes older = {0xA1, 0xA2, 0xA3}, now = {0xB1, 0xB2};
  std::vector<AudioBlock> redundant = {{kPayloadPcma, 1000 - 160, older}};
  Bytes out;
  ASSERT_TRUE(red_write(redundant, AudioBlock{kPayloadPcma, 1000, now}, out));
  EXPECT_EQ(out, (Bytes{0x88, 0x02, 0x80, 0x03, 0x08, 0xA1, 0xA2, 0xA3, 0xB1, 0xB2}));
  auto blocks = red_parse(out, 1000);
  ASSERT_TRUE(blocks) << blocks.error().to_string();
  ASSERT_EQ(blocks->size(), 2u);
  EXPECT_EQ((*blocks)[0].timestamp, 840u);
  EXPECT_EQ((*blocks)[0].payload_type, kPayloadPcma);
  EXPECT_EQ(Bytes((*blocks)[0].data.begin(), (*blocks)[0].data.end()), older);
  EXPECT_EQ((*blocks)[1].timestamp, 1000u);
  EXPECT_EQ(Bytes((*blocks)[1].data.begin(), (*blocks)[1].data.end()), now);
}

TEST(Red, OffsetsWrapWithTheRtpTimestamp) {
  Bytes a = {1}, b = {2};
  std::vector<AudioBlock> redundant = {{kPayloadPcmu, 0xFFFFFF60u, a}};
  Bytes out;
  ASSERT_TRUE(red_write(redundant, AudioBlock{kPayloadPcmu, 0, b}, out));
  auto blocks = red_parse(out, 0);
  ASSERT_TRUE(blocks);
  EXPECT_EQ((*blocks)[0].timestamp, 0xFFFFFF60u);
}

TEST(Red, RefusesBlocksItsFieldsCannotCarry) {
  Bytes big(1024, 0), one = {1};
  Bytes out;
  std::vector<AudioBlock> too_long = {{kPayloadPcma, 840, big}};
  EXPECT_FALSE(red_write(too_long, AudioBlock{kPayloadPcma, 1000, one}, out));
  std::vector<AudioBlock> too_old = {{kPayloadPcma, 1000u - 0x4000u, one}};
  EXPECT_FALSE(red_write(too_old, AudioBlock{kPayloadPcma, 1000, one}, out));
}

TEST(Red, RefusesMalformedPayloads) {
  for (const Bytes& bad : {Bytes{},                                   // no header at all
                           Bytes{0x88, 0x02},                         // block header cut short
                           Bytes{0x88, 0x02, 0x80, 0x03},             // no primary header
                           Bytes{0x88, 0x02, 0x80, 0x32, 0x08, 0x01},  // block longer than the packet
                           Bytes{0x88, 0x00, 0x00, 0x00, 0x88, 0x00, 0x00, 0x00}}) {
    auto r = red_parse(bad, 1000);
    ASSERT_FALSE(r) << bad.size();
    EXPECT_EQ(r.error().code, Code::k_fax_malformed_packet);
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
