// Calls over the in-memory loopback line (no sockets), fast pace: impairments on both
// directions, and the fax signal detector on G.711 audio.
#include "faxbridge/fax/channel.hpp"

#include <gtest/gtest.h>

#include "fax_test_support.hpp"
#include "faxbridge/fax/loopback.hpp"
#include "faxbridge/fax/tones.hpp"

namespace faxbridge::fax {
namespace {

using testing::ScratchDir;

SessionOptions tx_options(const std::string& in) { return testing::send_options(in); }

SessionOptions rx_options(const std::string& out) { return testing::receive_options(out); }

LoopbackCall run(const SessionOptions& tx, const SessionOptions& rx, const LoopbackOptions& line) {
  auto call = make_loopback_call(tx, rx, line);
  EXPECT_TRUE(call);
  auto rt = ChannelRuntime::create(RuntimeOptions{1, Pace::kFast});
  EXPECT_TRUE(rt);
  EXPECT_TRUE((*rt)->add({call->caller, call->answerer}));
  (*rt)->wait_idle();
  return *call;
}

Impairments rough(std::uint64_t seed) {
  Impairments i;
  i.duplicate = 0.05;
  i.reorder = 0.05;
  i.jitter_ticks = 2;
  i.seed = seed;
  return i;
}

TEST(MemoryLoopback, T38SurvivesJitterReorderingAndDuplicates) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 2, TestResolution::kStandard);
  LoopbackOptions line;
  line.udp = false;
  line.media = MediaKind::kT38;
  line.caller_to_answerer = rough(5);
  line.answerer_to_caller = rough(6);
  auto call = run(tx_options(in), rx_options(dir.file("out.tif")), line);
  ASSERT_TRUE(call.caller->result().success) << call.caller->result().t30_text;
  EXPECT_EQ(call.answerer->result().pages, 2);
  EXPECT_GT(call.answerer->stats().udptl.duplicates, 0u);
  // Live status as the router reads it: finished, with the page count.
  EXPECT_EQ(call.caller->progress().phase, Phase::kFinished);
  EXPECT_EQ(call.caller->progress().pages_done, 2);
  EXPECT_EQ(call.answerer->progress().pages_done, 2);
  testing::expect_identical_documents(in, dir.file("out.tif"));
}

TEST(MemoryLoopback, G711SurvivesJitterWithinThePlayoutDelay) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 2, TestResolution::kFine);
  for (MediaKind media : {MediaKind::kAlaw, MediaKind::kUlaw}) {
    LoopbackOptions line;
    line.udp = false;
    line.media = media;
    line.jitter_delay_ms = 80;
    line.caller_to_answerer = rough(7);
    line.answerer_to_caller = rough(8);
    auto call = run(tx_options(in), rx_options(dir.file("out.tif")), line);
    ASSERT_TRUE(call.caller->result().success) << call.caller->result().t30_text;
    EXPECT_EQ(call.answerer->stats().jitter_late, 0u);
    testing::expect_identical_documents(in, dir.file("out.tif"));
  }
}

TEST(MemoryLoopback, G711DetectsCngCedAndV21Preamble) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kStandard);
  LoopbackOptions line;
  line.udp = false;
  line.media = MediaKind::kAlaw;
  auto call = run(tx_options(in), rx_options(dir.file("out.tif")), line);
  ASSERT_TRUE(call.caller->result().success);
  // The answerer hears the caller's CNG; the caller hears the answerer's CED, and both hear
  // V.21 preambles (DIS from the answerer, DCS from the caller).
  EXPECT_TRUE(call.answerer->tone_seen(static_cast<int>(FaxTone::kCng)));
  EXPECT_TRUE(call.caller->tone_seen(static_cast<int>(FaxTone::kCed)));
  EXPECT_TRUE(call.caller->tone_seen(static_cast<int>(FaxTone::kV21Preamble)));
  EXPECT_TRUE(call.answerer->tone_seen(static_cast<int>(FaxTone::kV21Preamble)));
  EXPECT_FALSE(call.caller->tone_seen(static_cast<int>(FaxTone::kCng)));
}

TEST(MemoryLoopback, ToneCallbackFiresOnceForCngOnTheAnsweringSide) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kStandard, 9, 200);
  auto links = make_memory_link_pair();
  std::vector<std::pair<int, std::int64_t>> heard;
  ChannelOptions a;
  a.session = tx_options(in);
  a.session.calling_party = true;
  a.media = MediaKind::kUlaw;
  ChannelOptions b;
  b.session = rx_options(dir.file("out.tif"));
  b.session.calling_party = false;
  b.media = MediaKind::kUlaw;
  b.on_tone = [&](int tone, std::int64_t at_ms) { heard.emplace_back(tone, at_ms); };
  auto ca = FaxChannel::create(a, std::move(links.first));
  auto cb = FaxChannel::create(b, std::move(links.second));
  ASSERT_TRUE(ca && cb);
  auto rt = ChannelRuntime::create(RuntimeOptions{1, Pace::kFast});
  ASSERT_TRUE(rt);
  ASSERT_TRUE((*rt)->add({*ca, *cb}));
  (*rt)->wait_idle();
  ASSERT_TRUE((*ca)->result().success);
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard.front().first, static_cast<int>(FaxTone::kCng));
  // CNG is 0.5 s on; detection needs part of it, after the jitter buffer's 60 ms.
  EXPECT_GT(heard.front().second, 0);
  int cng = 0;
  for (auto& h : heard) cng += h.first == static_cast<int>(FaxTone::kCng);
  EXPECT_EQ(cng, 1);
}

TEST(MemoryLoopback, AudioCallSwitchesToT38WhenTheAnswererHearsCng) {
  // What the media gateway does: answer on G.711, hear CNG, re-INVITE to T.38, and let T.30
  // start afresh over the new media.
  ScratchDir dir;
  auto in = testing::make_document(dir, 2, TestResolution::kFine);
  auto links = make_memory_link_pair();
  ChannelOptions co, ao;
  co.session = tx_options(in);
  co.session.calling_party = true;
  co.media = MediaKind::kAlaw;
  ao.session = rx_options(dir.file("out.tif"));
  ao.session.calling_party = false;
  ao.media = MediaKind::kAlaw;
  std::shared_ptr<FaxChannel> c, a;
  ao.on_tone = [&c, &a](int tone, std::int64_t) {
    if (tone == static_cast<int>(FaxTone::kCng)) {
      c->request_media_switch();
      a->request_media_switch();
    }
  };
  c = *FaxChannel::create(co, std::move(links.first));
  a = *FaxChannel::create(ao, std::move(links.second));
  auto rt = ChannelRuntime::create(RuntimeOptions{1, Pace::kFast});
  ASSERT_TRUE(rt);
  ASSERT_TRUE((*rt)->add({c, a}));
  (*rt)->wait_idle();
  EXPECT_TRUE(c->result().media_switched);
  EXPECT_TRUE(a->result().media_switched);
  EXPECT_EQ(c->result().pages, 0);

  LoopbackOptions t38;
  t38.udp = false;
  t38.media = MediaKind::kT38;
  auto second = make_loopback_call(tx_options(in), rx_options(dir.file("out.tif")), t38);
  ASSERT_TRUE(second);
  ASSERT_TRUE((*rt)->add({second->caller, second->answerer}));
  (*rt)->wait_idle();
  ASSERT_TRUE(second->caller->result().success) << second->caller->result().t30_text;
  EXPECT_FALSE(second->caller->result().media_switched);
  testing::expect_identical_documents(in, dir.file("out.tif"));
}

TEST(ToneDetector, SilenceTriggersNothing) {
  std::vector<FaxTone> seen;
  ToneDetector d([&](FaxTone t, std::int64_t) { seen.push_back(t); });
  std::vector<std::int16_t> silence(8000, 0);
  d.feed(silence);
  EXPECT_TRUE(seen.empty());
}

}  // namespace
}  // namespace faxbridge::fax
