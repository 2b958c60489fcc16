// UDPTL codec vectors built by hand from T.38's ASN.1 (UDPTLPacket) and X.691 aligned PER:
// 2-octet seq-number, open type = length + octets, CHOICE bit padded to an octet, length
// determinants of 1 octet (< 128) or 2 octets (10xxxxxx xxxxxxxx).
#include "faxbridge/fax/udptl.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace faxbridge::fax {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes encode(const UdptlPacket& p) {
  auto r = udptl_encode(p);
  EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
  return r ? *r : Bytes{};
}

TEST(UdptlCodec, EncodesAPrimaryWithNoSecondaries) {
  Bytes ifp = {0x02};
  UdptlPacket p;
  p.seq = 0x0102;
  p.primary = ifp;
  EXPECT_EQ(encode(p), (Bytes{0x01, 0x02, 0x01, 0x02, 0x00, 0x00}));
}

TEST(UdptlCodec, EncodesSecondariesNewestFirst) {
  Bytes ifp = {0xC0, 0x01, 0x80}, s1 = {0x02}, s2 = {0x04, 0x05};
  UdptlPacket p;
  p.seq = 5;
  p.primary = ifp;
  p.secondary = {s1, s2};
  EXPECT_EQ(encode(p), (Bytes{0x00, 0x05, 0x03, 0xC0, 0x01, 0x80, 0x00, 0x02, 0x01, 0x02, 0x02, 0x04, 0x05}));
}

TEST(UdptlCodec, UsesTwoOctetLengthsFrom128Bytes) {
  Bytes ifp(200, 0x55);
  UdptlPacket p;
  p.seq = 0xFFFF;
  p.primary = ifp;
  Bytes out = encode(p);
  ASSERT_EQ(out.size(), 2u + 2u + 200u + 2u);
  EXPECT_EQ(out[0], 0xFF);
  EXPECT_EQ(out[1], 0xFF);
  EXPECT_EQ(out[2], 0x80);
  EXPECT_EQ(out[3], 200);
  EXPECT_EQ(out[204], 0x00);
  EXPECT_EQ(out[205], 0x00);
  auto back = udptl_decode(out);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->seq, 0xFFFF);
  EXPECT_EQ(Bytes(back->primary.begin(), back->primary.end()), ifp);
}

TEST(UdptlCodec, EncodesAndDecodesFecInfo) {
  Bytes ifp = {0x06}, f1 = {0xAA}, f2 = {0xBB, 0xCC};
  UdptlPacket p;
  p.seq = 9;
  p.primary = ifp;
  p.recovery = UdptlRecovery::kFec;
  p.fec_span = 3;
  p.fec = {f1, f2};
  Bytes want = {0x00, 0x09, 0x01, 0x06, 0x80, 0x01, 0x03, 0x02, 0x01, 0xAA, 0x02, 0xBB, 0xCC};
  EXPECT_EQ(encode(p), want);
  auto back = udptl_decode(want);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->recovery, UdptlRecovery::kFec);
  EXPECT_EQ(back->fec_span, 3);
  ASSERT_EQ(back->fec.size(), 2u);
  EXPECT_EQ(Bytes(back->fec[1].begin(), back->fec[1].end()), f2);
}

TEST(UdptlCodec, DecodesHandBuiltRedundancyVector) {
  Bytes d = {0x00, 0x05, 0x03, 0xC0, 0x01, 0x80, 0x00, 0x02, 0x01, 0x02, 0x02, 0x04, 0x05};
  auto p = udptl_decode(d);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->seq, 5);
  EXPECT_EQ(Bytes(p->primary.begin(), p->primary.end()), (Bytes{0xC0, 0x01, 0x80}));
  ASSERT_EQ(p->secondary.size(), 2u);
  EXPECT_EQ(Bytes(p->secondary[0].begin(), p->secondary[0].end()), (Bytes{0x02}));
  EXPECT_EQ(Bytes(p->secondary[1].begin(), p->secondary[1].end()), (Bytes{0x04, 0x05}));
}

void expect_refused(const Bytes& d, const char* why) {
  auto p = udptl_decode(d);
  ASSERT_FALSE(p) << why;
  EXPECT_EQ(p.error().code, Code::k_fax_malformed_packet) << why;
}

TEST(UdptlCodec, RefusesMalformedDatagrams) {
  expect_refused({}, "empty");
  expect_refused({0x00}, "one byte");
  expect_refused({0x00, 0x01}, "no primary");
  expect_refused({0x00, 0x01, 0x05, 0x01}, "primary truncated");
  expect_refused({0x00, 0x01, 0x00, 0x00, 0x00}, "empty primary");
  expect_refused({0x00, 0x01, 0x80}, "two-octet length cut short");
  expect_refused({0x00, 0x01, 0xC1, 0x00}, "fragmented length");
  expect_refused({0x00, 0x01, 0x01, 0x02}, "no error-recovery");
  expect_refused({0x00, 0x01, 0x01, 0x02, 0x40, 0x00}, "padding bits set");
  expect_refused({0x00, 0x01, 0x01, 0x02, 0x00}, "no secondary count");
  expect_refused({0x00, 0x01, 0x01, 0x02, 0x00, 0x32}, "count of 50 with no data");
  expect_refused({0x00, 0x01, 0x01, 0x02, 0x00, 0x01, 0x03, 0x01}, "secondary truncated");
  expect_refused({0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00}, "trailing byte");
  expect_refused({0x00, 0x01, 0x01, 0x02, 0x80, 0x01, 0x00, 0x00}, "fec-npackets zero");
  expect_refused({0x00, 0x01, 0x01, 0x02, 0x80, 0x05, 0x00}, "fec-npackets length 5");
  expect_refused({0x00, 0x01, 0x01, 0x02, 0x80, 0x01, 0x03, 0x7F}, "FEC count with no data");
}

TEST(UdptlCodec, RandomBytesNeverCrashTheDecoder) {
  std::mt19937 rng(42);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes d(rng() % 40);
    for (auto& b : d) b = static_cast<std::uint8_t>(rng());
    if (udptl_decode(d)) ++accepted;
  }
  EXPECT_LT(accepted, 20000);
}

TEST(UdptlCodec, RoundTripsThroughSenderAndDecoder) {
  UdptlSender tx(UdptlOptions{UdptlRecovery::kRedundancy, 2});
  for (int i = 0; i < 5; ++i) {
    Bytes ifp = {static_cast<std::uint8_t>(i + 1), 0x10};
    auto d = tx.build(ifp);
    ASSERT_TRUE(d);
    auto p = udptl_decode(*d);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->seq, i);
    EXPECT_EQ(p->secondary.size(), static_cast<std::size_t>(std::min(i, 2)));
    if (i >= 1) {
      EXPECT_EQ(p->secondary[0][0], i);  // the previous packet first
    }
  }
}

struct Collector {
  std::vector<std::pair<std::uint16_t, Bytes>> got;
  UdptlReceiver::Deliver fn() {
    return [this](std::span<const std::uint8_t> b, std::uint16_t s) { got.emplace_back(s, Bytes(b.begin(), b.end())); };
  }
  std::vector<std::uint16_t> seqs() const {
    std::vector<std::uint16_t> v;
    for (auto& g : got) v.push_back(g.first);
    return v;
  }
};

std::vector<Bytes> make_stream(UdptlSender& tx, int n) {
  std::vector<Bytes> out;
  for (int i = 0; i < n; ++i) {
    Bytes ifp = {static_cast<std::uint8_t>(0x40 + i), static_cast<std::uint8_t>(i * 7), 0x01};
    auto d = *tx.build(ifp);
    out.emplace_back(d.begin(), d.end());
  }
  return out;
}

TEST(UdptlReceiver, DeliversInOrderAndDropsDuplicates) {
  UdptlSender tx(UdptlOptions{UdptlRecovery::kRedundancy, 0});
  auto d = make_stream(tx, 4);
  Collector c;
  UdptlReceiver rx(c.fn());
  for (int i : {0, 1, 1, 2, 0, 3}) ASSERT_TRUE(rx.receive(d[static_cast<std::size_t>(i)]));
  EXPECT_EQ(c.seqs(), (std::vector<std::uint16_t>{0, 1, 2, 3}));
  EXPECT_EQ(rx.stats().duplicates, 2u);
}

TEST(UdptlReceiver, RecoversLostPacketsFromRedundancy) {
  UdptlSender tx(UdptlOptions{UdptlRecovery::kRedundancy, 3});
  auto d = make_stream(tx, 8);
  Collector c;
  UdptlReceiver rx(c.fn());
  for (int i : {0, 1, 5, 6, 7}) ASSERT_TRUE(rx.receive(d[static_cast<std::size_t>(i)]));  // 2,3,4 lost
  EXPECT_EQ(c.seqs(), (std::vector<std::uint16_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(c.got[3].second, (Bytes{0x43, 21, 0x01}));
  EXPECT_EQ(rx.stats().recovered_redundancy, 3u);
  EXPECT_EQ(rx.stats().lost, 0u);
}

TEST(UdptlReceiver, HoldsReorderedPacketsForTheirPredecessor) {
  UdptlSender tx(UdptlOptions{UdptlRecovery::kRedundancy, 0});
  auto d = make_stream(tx, 4);
  Collector c;
  UdptlReceiver rx(c.fn());
  ASSERT_TRUE(rx.receive(d[0]));
  ASSERT_TRUE(rx.receive(d[2]));
  rx.tick();
  EXPECT_EQ(c.seqs(), (std::vector<std::uint16_t>{0}));
  ASSERT_TRUE(rx.receive(d[1]));
  ASSERT_TRUE(rx.receive(d[3]));
  EXPECT_EQ(c.seqs(), (std::vector<std::uint16_t>{0, 1, 2, 3}));
}

TEST(UdptlReceiver, GivesUpAGapAfterATickAndReportsTheLoss) {
  UdptlSender tx(UdptlOptions{UdptlRecovery::kRedundancy, 0});
  auto d = make_stream(tx, 4);
  Collector c;
  UdptlReceiver rx(c.fn());
  ASSERT_TRUE(rx.receive(d[0]));
  ASSERT_TRUE(rx.receive(d[2]));
  rx.tick();
  rx.tick();
  EXPECT_EQ(c.seqs(), (std::vector<std::uint16_t>{0, 2}));
  EXPECT_EQ(rx.stats().lost, 1u);
  ASSERT_TRUE(rx.receive(d[1]));  // too late now
  ASSERT_TRUE(rx.receive(d[3]));
  EXPECT_EQ(c.seqs(), (std::vector<std::uint16_t>{0, 2, 3}));
}

TEST(UdptlReceiver, RefusesAbsurdJumpsButFollowsARestart) {
  UdptlSender tx(UdptlOptions{UdptlRecovery::kRedundancy, 0});
  auto d = make_stream(tx, 3);
  Collector c;
  UdptlReceiver rx(c.fn());
  ASSERT_TRUE(rx.receive(d[0]));
  Bytes forged = {0x80, 0x00, 0x01, 0x02, 0x00, 0x00};  // seq 32768
  auto r = rx.receive(forged);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_fax_malformed_packet);
  ASSERT_TRUE(rx.receive(d[1]));
  EXPECT_EQ(c.seqs(), (std::vector<std::uint16_t>{0, 1}));
  // A far end that really restarted at 30000 sends a run of packets: the third is followed.
  for (std::uint16_t s = 30000; s < 30003; ++s) {
    Bytes p = {static_cast<std::uint8_t>(s >> 8), static_cast<std::uint8_t>(s & 0xFF), 0x01, 0x02, 0x00, 0x00};
    (void)rx.receive(p);
  }
  EXPECT_EQ(rx.stats().resyncs, 1u);
  EXPECT_EQ(c.seqs().back(), 30002);
}

TEST(UdptlReceiver, RecoversALostPacketFromParity) {
  UdptlOptions o;
  o.recovery = UdptlRecovery::kFec;
  o.fec_span = 3;
  o.fec_entries = 2;
  UdptlSender tx(o);
  auto d = make_stream(tx, 12);
  Collector c;
  UdptlReceiver rx(c.fn());
  for (int i = 0; i < 12; ++i) {
    if (i == 7) continue;  // lost; the parity in later datagrams rebuilds it
    ASSERT_TRUE(rx.receive(d[static_cast<std::size_t>(i)]));
  }
  rx.tick();
  rx.tick();
  ASSERT_EQ(c.got.size(), 12u);
  EXPECT_EQ(c.got[7].first, 7);
  EXPECT_EQ(c.got[7].second, (Bytes{0x47, 49, 0x01}));
  EXPECT_GE(rx.stats().recovered_fec, 1u);
}

TEST(UdptlReceiver, SurvivesGarbageBetweenGoodPackets) {
  UdptlSender tx(UdptlOptions{UdptlRecovery::kRedundancy, 1});
  auto d = make_stream(tx, 50);
  Collector c;
  UdptlReceiver rx(c.fn());
  std::mt19937 rng(7);
  for (const auto& g : d) {
    Bytes junk(rng() % 16);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    (void)rx.receive(junk);
    ASSERT_TRUE(rx.receive(g));
  }
  // Junk that happens to decode may claim sequence numbers, but all 50 real payloads with
  // their numbers must come through in order.
  std::vector<std::uint16_t> real;
  for (auto& g : c.got) {
    if (g.second.size() == 3 && g.second[2] == 0x01 && g.second[0] == 0x40 + g.first) real.push_back(g.first);
  }
  EXPECT_GE(real.size(), 45u);
}

}  // namespace
}  // namespace faxbridge::fax
