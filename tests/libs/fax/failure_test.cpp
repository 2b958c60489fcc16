// Calls that go wrong, over the UDP loopback in fast pace: packet loss with and without
// UDPTL redundancy, a receiver that never answers, a far end that hangs up mid-page, a
// receiver that refuses the document, and two machines with no modem in common. Each must
// end (never hang) with a stable code and the right retry class.
#include <gtest/gtest.h>

#include "fax_test_support.hpp"
#include "faxbridge/fax/loopback.hpp"

namespace faxbridge::fax {
namespace {

using testing::run_loopback_call;
using testing::ScratchDir;

SessionOptions tx_options(const std::string& in) { return testing::send_options(in, "1111"); }

SessionOptions rx_options(const std::string& out) { return testing::receive_options(out, "2222"); }

Impairments loss(double p, std::uint64_t seed) {
  Impairments i;
  i.loss = p;
  i.seed = seed;
  return i;
}

class T38Loss : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(T38Loss, FivePercentLossWithRedundancyThreeCompletes) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 3, TestResolution::kFine);
  LoopbackOptions line;
  line.media = MediaKind::kT38;
  line.udptl.redundancy = 3;
  line.caller_to_answerer = loss(0.05, GetParam());
  line.answerer_to_caller = loss(0.05, GetParam() + 1000);
  auto r = run_loopback_call(tx_options(in), rx_options(dir.file("out.tif")), line);
  ASSERT_TRUE(r.tx.success) << r.tx.t30_text;
  ASSERT_TRUE(r.rx.success) << r.rx.t30_text;
  EXPECT_EQ(r.rx.pages, 3);
  EXPECT_GT(r.tx_stats.link.dropped, 0u);
  EXPECT_GT(r.rx_stats.udptl.recovered_redundancy, 0u);
  testing::expect_identical_documents(in, dir.file("out.tif"));
}

INSTANTIATE_TEST_SUITE_P(Seeds, T38Loss, ::testing::Values(1, 2, 3));

TEST(T38Loss, FivePercentLossWithoutRedundancyEndsWithAReportedOutcome) {
  // Without redundancy lost indicators and HDLC frames are gone for good. Whatever T.30
  // makes of it (retries, PPR, or giving up), the call must end with a result, never hang,
  // and a failure must carry a stable code.
  ScratchDir dir;
  auto in = testing::make_document(dir, 3, TestResolution::kFine);
  int failures = 0;
  for (std::uint64_t seed : {11u, 12u, 13u, 14u}) {
    LoopbackOptions line;
    line.media = MediaKind::kT38;
    line.udptl.redundancy = 0;
    line.caller_to_answerer = loss(0.05, seed);
    line.answerer_to_caller = loss(0.05, seed + 1000);
    auto r = run_loopback_call(tx_options(in), rx_options(dir.file("out.tif")), line);
    EXPECT_GE(r.tx.t30_code, 0);
    EXPECT_GT(r.rx_stats.udptl.lost, 0u) << "seed " << seed;
    if (!r.tx.success) {
      ++failures;
      ASSERT_TRUE(r.tx.error);
      EXPECT_NE(r.tx.error->code, Code::k_internal);
      std::cout << "seed " << seed << ": " << r.tx.error->to_string() << "\n";
    } else {
      std::cout << "seed " << seed << ": completed despite " << r.rx_stats.udptl.lost << " lost packets\n";
    }
  }
  std::cout << failures << " of 4 calls failed without redundancy\n";
}

TEST(FailureCases, ReceiverThatNeverAnswersTimesOutRetryably) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kFine);
  for (MediaKind media : {MediaKind::kT38, MediaKind::kAlaw}) {
    LoopbackOptions line;
    line.media = media;
    auto r = run_loopback_call(tx_options(in), rx_options(dir.file("out.tif")), line, {.answerer_hangs_up_at = {}, .start_answerer = false});
    ASSERT_FALSE(r.tx.success);
    ASSERT_TRUE(r.tx.error);
    EXPECT_EQ(r.tx.error->code, Code::k_fax_timeout) << r.tx.error->to_string();
    EXPECT_TRUE(r.tx.retryable);
    EXPECT_EQ(r.tx.pages, 0);
  }
}

TEST(FailureCases, FarEndHangingUpMidPageIsCallDroppedOnBothSides) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 3, TestResolution::kFine);
  for (MediaKind media : {MediaKind::kT38, MediaKind::kUlaw}) {
    LoopbackOptions line;
    line.media = media;
    line.signal_hangup = true;
    // 20 s in: negotiation is done and the first page is on the line.
    auto r = run_loopback_call(tx_options(in), rx_options(dir.file("out.tif")), line, {.answerer_hangs_up_at = 20 * 50});
    ASSERT_FALSE(r.rx.success);
    ASSERT_FALSE(r.tx.success);
    EXPECT_EQ(r.rx.error->code, Code::k_fax_call_dropped) << r.rx.error->to_string();
    EXPECT_EQ(r.tx.error->code, Code::k_fax_call_dropped) << r.tx.error->to_string();
    EXPECT_TRUE(r.tx.retryable);
  }
}

TEST(FailureCases, SilentHangupMidPageLeavesTheSenderInDoubt) {
  // No signalling: the sender only learns through T.30's timers that nobody is there. The
  // page may or may not have reached the far end, so the outcome is unknown, not retried.
  ScratchDir dir;
  auto in = testing::make_document(dir, 3, TestResolution::kFine);
  LoopbackOptions line;
  line.media = MediaKind::kT38;
  line.signal_hangup = false;
  auto r = run_loopback_call(tx_options(in), rx_options(dir.file("out.tif")), line, {.answerer_hangs_up_at = 20 * 50});
  ASSERT_FALSE(r.tx.success);
  ASSERT_TRUE(r.tx.error);
  EXPECT_EQ(r.tx.error->code, Code::k_fax_outcome_unknown) << r.tx.error->to_string();
  EXPECT_FALSE(r.tx.retryable);
  EXPECT_EQ(r.rx.error->code, Code::k_fax_call_dropped);
}

TEST(FailureCases, ReceiverRejectingTheDocumentIsFatal) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kFine);
  auto rx = rx_options(dir.file("out.tif"));
  rx.accept_document = false;
  for (MediaKind media : {MediaKind::kT38, MediaKind::kAlaw}) {
    LoopbackOptions line;
    line.media = media;
    auto r = run_loopback_call(tx_options(in), rx, line);
    ASSERT_FALSE(r.tx.success);
    ASSERT_TRUE(r.tx.error);
    EXPECT_EQ(r.tx.error->code, Code::k_fax_rejected) << r.tx.error->to_string();
    EXPECT_FALSE(r.tx.retryable);
    EXPECT_EQ(r.tx.pages, 0);
  }
}

TEST(FailureCases, NoCommonModemIsFatal) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kFine);
  auto tx = tx_options(in);
  tx.modems = Modems{true, false, false};   // V.17 only
  auto rx = rx_options(dir.file("out.tif"));
  rx.modems = Modems{false, false, true};   // V.27ter only
  for (MediaKind media : {MediaKind::kT38, MediaKind::kAlaw}) {
    LoopbackOptions line;
    line.media = media;
    auto r = run_loopback_call(tx, rx, line);
    ASSERT_FALSE(r.tx.success);
    ASSERT_TRUE(r.tx.error);
    EXPECT_EQ(r.tx.error->code, Code::k_fax_no_common_modem) << r.tx.error->to_string();
    EXPECT_FALSE(r.tx.retryable);
  }
}

}  // namespace
}  // namespace faxbridge::fax

namespace faxbridge::fax {
namespace {

TEST(T38Loss, ParityFecRecoversLostPacketsAndTheFaxCompletes) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 2, TestResolution::kFine);
  LoopbackOptions line;
  line.media = MediaKind::kT38;
  line.t38.udp_ec = UdpErrorCorrection::kFec;
  line.udptl.fec_span = 3;
  line.udptl.fec_entries = 3;
  line.caller_to_answerer = loss(0.02, 21);
  line.answerer_to_caller = loss(0.02, 22);
  auto r = run_loopback_call(tx_options(in), rx_options(dir.file("out.tif")), line);
  std::cout << "fec recovered " << r.rx_stats.udptl.recovered_fec << "+" << r.tx_stats.udptl.recovered_fec
            << ", lost " << r.rx_stats.udptl.lost << "+" << r.tx_stats.udptl.lost << "\n";
  EXPECT_GT(r.rx_stats.udptl.recovered_fec + r.tx_stats.udptl.recovered_fec, 0u);
  ASSERT_TRUE(r.tx.success) << r.tx.t30_text;
  testing::expect_identical_documents(in, dir.file("out.tif"));
}

}  // namespace
}  // namespace faxbridge::fax

namespace faxbridge::fax {
namespace {

class UdpImpairments : public ::testing::TestWithParam<MediaKind> {};

TEST_P(UdpImpairments, DuplicationReorderingAndJitterOnRealSocketsAreAbsorbed) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 2, TestResolution::kFine);
  LoopbackOptions line;
  line.media = GetParam();
  line.jitter_delay_ms = 80;
  for (Impairments* i : {&line.caller_to_answerer, &line.answerer_to_caller}) {
    i->duplicate = 0.05;
    i->reorder = 0.05;
    i->jitter_ticks = 2;
  }
  line.caller_to_answerer.seed = 31;
  line.answerer_to_caller.seed = 32;
  auto r = run_loopback_call(tx_options(in), rx_options(dir.file("out.tif")), line);
  ASSERT_TRUE(r.tx.success) << r.tx.t30_text;
  ASSERT_TRUE(r.rx.success) << r.rx.t30_text;
  EXPECT_GT(r.tx_stats.link.duplicated, 0u);
  EXPECT_GT(r.tx_stats.link.delayed, 0u);
  testing::expect_identical_documents(in, dir.file("out.tif"));
}

INSTANTIATE_TEST_SUITE_P(Media, UdpImpairments, ::testing::Values(MediaKind::kT38, MediaKind::kAlaw, MediaKind::kUlaw),
                         [](const ::testing::TestParamInfo<MediaKind>& i) { return std::string(media_name(i.param)); });

}  // namespace
}  // namespace faxbridge::fax

namespace faxbridge::fax {
namespace {

// G.711 has no loss recovery of its own: 1% loss failed 7 of 10 calls (3 of 10 with the
// frame repetition the channel does). With RFC 2198 redundancy the lost frames come back.
class G711Loss : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(G711Loss, OnePercentLossWithRtpRedundancyCompletesIntact) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 2, TestResolution::kFine);
  LoopbackOptions line;
  line.media = MediaKind::kAlaw;
  line.audio_redundancy = 2;
  line.caller_to_answerer = loss(0.01, GetParam());
  line.answerer_to_caller = loss(0.01, GetParam() + 1);
  auto r = run_loopback_call(tx_options(in), rx_options(dir.file("out.tif")), line);
  ASSERT_TRUE(r.tx.success) << r.tx.t30_text;
  ASSERT_TRUE(r.rx.success) << r.rx.t30_text;
  EXPECT_GT(r.tx_stats.link.dropped + r.rx_stats.link.dropped, 0u);
  // Losses near the end of the call (no later packet carries their copy) stay lost.
  EXPECT_GT(r.rx_stats.rtp_recovered, 0u);
  EXPECT_LE(r.rx_stats.rtp_recovered, r.tx_stats.link.dropped);
  EXPECT_LE(r.tx_stats.rtp_recovered, r.rx_stats.link.dropped);
  testing::expect_identical_documents(in, dir.file("out.tif"));
}

// Seeds whose 1% loss pattern failed the call without redundancy.
INSTANTIATE_TEST_SUITE_P(Seeds, G711Loss, ::testing::Values(3u, 5u, 9u, 13u));

// Without redundancy, repeating the last frame for a lost one keeps the modems in step:
// these loss patterns failed the call with spandsp's fill-in and complete with the repeat.
class G711Concealment : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(G711Concealment, OnePercentLossIsRiddenOutByRepeatingTheLastFrame) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kFine);
  LoopbackOptions line;
  line.media = MediaKind::kAlaw;
  line.caller_to_answerer = loss(0.01, GetParam());
  line.answerer_to_caller = loss(0.01, GetParam() + 1);
  auto r = run_loopback_call(tx_options(in), rx_options(dir.file("out.tif")), line);
  EXPECT_GT(r.tx_stats.concealed + r.rx_stats.concealed, 0u);
  ASSERT_TRUE(r.tx.success) << r.tx.t30_text;
  ASSERT_TRUE(r.rx.success) << r.rx.t30_text;
  testing::expect_identical_documents(in, dir.file("out.tif"));
}

// Over seeds 1-23 (odd) 3 of 12 calls completed with fill-in and 8 of 12 with the repeat;
// these five are the ones the repeat saves.
INSTANTIATE_TEST_SUITE_P(Seeds, G711Concealment, ::testing::Values(3u, 9u, 13u, 15u, 17u));

TEST(G711Loss, EachEndReceivesRedundancyUnderThePayloadTypeItNamed) {
  // The caller's SDP said RED is 100, the answerer's said 101: each sends with the other's.
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kFine);
  LoopbackOptions line;
  line.media = MediaKind::kAlaw;
  line.audio_redundancy = 2;
  line.caller_red_type = 100;
  line.answerer_red_type = 101;
  line.caller_to_answerer = loss(0.01, 3);
  line.answerer_to_caller = loss(0.01, 4);
  auto r = run_loopback_call(tx_options(in), rx_options(dir.file("out.tif")), line);
  ASSERT_TRUE(r.tx.success) << r.tx.t30_text;
  ASSERT_TRUE(r.rx.success) << r.rx.t30_text;
  EXPECT_EQ(r.tx_stats.rtp_malformed, 0u);
  EXPECT_EQ(r.rx_stats.rtp_malformed, 0u);
  EXPECT_GT(r.rx_stats.rtp_recovered, 0u);
  EXPECT_GT(r.tx_stats.rtp_recovered, 0u);
}

TEST(G711Loss, FivePercentLossWithRedundancyThreeCompletes) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kFine);
  LoopbackOptions line;
  line.media = MediaKind::kUlaw;
  line.audio_redundancy = 3;
  line.caller_to_answerer = loss(0.05, 71);
  line.answerer_to_caller = loss(0.05, 72);
  auto r = run_loopback_call(tx_options(in), rx_options(dir.file("out.tif")), line);
  ASSERT_TRUE(r.tx.success) << r.tx.t30_text;
  ASSERT_TRUE(r.rx.success) << r.rx.t30_text;
  EXPECT_GT(r.rx_stats.rtp_recovered, 0u);
}

}  // namespace
}  // namespace faxbridge::fax
