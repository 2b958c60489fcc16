// The runtime in both paces: many calls on two workers in fast pace, and the real-time
// loop (20 ms timerfd) carrying a short call that ends by hang-up after one second.
#include "faxbridge/fax/runtime.hpp"

#include <gtest/gtest.h>

#include "fax_test_support.hpp"
#include "faxbridge/fax/loopback.hpp"

namespace faxbridge::fax {
namespace {

using testing::ScratchDir;

// A T.38 call over the UDP loopback sending `in` into dir/out.tif, not yet started.
LoopbackCall t38_call(const ScratchDir& dir, const std::string& in) {
  auto call = make_loopback_call(testing::send_options(in), testing::receive_options(dir.file("out.tif")),
                                 LoopbackOptions{});
  EXPECT_TRUE(call) << (call ? "" : call.error().to_string());
  return call ? *call : LoopbackCall{};
}

TEST(ChannelRuntime, RunsManyCallsOnTwoWorkersInFastPace) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kStandard, 3, 300);
  auto rt = ChannelRuntime::create(RuntimeOptions{2, Pace::kFast});
  ASSERT_TRUE(rt);
  std::vector<LoopbackCall> calls;
  for (int i = 0; i < 16; ++i) {
    auto tx = testing::send_options(in);
    auto rx = testing::receive_options(dir.file("out" + std::to_string(i) + ".tif"));
    LoopbackOptions line;
    line.media = i % 2 ? MediaKind::kT38 : MediaKind::kUlaw;
    auto call = make_loopback_call(tx, rx, line);
    ASSERT_TRUE(call) << call.error().to_string();
    ASSERT_TRUE((*rt)->add({call->caller, call->answerer}));
    calls.push_back(*call);
  }
  (*rt)->wait_idle();
  EXPECT_EQ((*rt)->active(), 0u);
  for (auto& c : calls) {
    EXPECT_TRUE(c.caller->result().success) << c.caller->result().t30_text;
    EXPECT_EQ(c.answerer->result().pages, 1);
  }
}

TEST(ChannelRuntime, RealtimePaceTicksEvery20msAndEndsHungUpCalls) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kStandard, 3, 300);
  auto rt = ChannelRuntime::create(RuntimeOptions{1, Pace::kRealtime});
  ASSERT_TRUE(rt);
  auto call = t38_call(dir, in);
  ASSERT_TRUE(call.caller && call.answerer);
  call.answerer->request_hangup(50);
  ASSERT_TRUE((*rt)->add({call.caller, call.answerer}));
  ASSERT_TRUE((*rt)->wait_idle_for(std::chrono::seconds(30)));
  EXPECT_EQ(call.answerer->result().error->code, Code::k_fax_call_dropped);
  EXPECT_EQ(call.caller->result().error->code, Code::k_fax_call_dropped);
  // 50 ticks of media time is one second.
  EXPECT_EQ(call.answerer->result().duration.count(), 1000);
  auto st = (*rt)->tick_stats();
  EXPECT_GE(st.ticks, 50u);
}

TEST(ChannelRuntime, RealtimePaceCarriesAWholeT38FaxOverUdp) {
  // The "running suite" mode: a short page so the call takes ~15 s of wall time.
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kStandard, 5, 200);
  auto rt = ChannelRuntime::create(RuntimeOptions{2, Pace::kRealtime});
  ASSERT_TRUE(rt);
  auto call = t38_call(dir, in);
  ASSERT_TRUE(call.caller && call.answerer);
  ASSERT_TRUE((*rt)->add({call.caller, call.answerer}));
  ASSERT_TRUE((*rt)->wait_idle_for(std::chrono::minutes(2)));
  ASSERT_TRUE(call.caller->result().success) << call.caller->result().t30_text;
  EXPECT_EQ(call.answerer->result().pages, 1);
  testing::expect_identical_documents(in, dir.file("out.tif"));
}

TEST(ChannelRuntime, PublishesActiveChannelsAndResultsAsMetrics) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kStandard, 3, 200);
  metrics::Registry registry;
  RuntimeOptions o{1, Pace::kFast};
  o.metrics = &registry;
  auto rt = ChannelRuntime::create(o);
  ASSERT_TRUE(rt);
  auto call = t38_call(dir, in);
  ASSERT_TRUE(call.caller && call.answerer);
  ASSERT_TRUE((*rt)->add({call.caller, call.answerer}));
  (*rt)->wait_idle();
  std::string text = registry.render();
  EXPECT_NE(text.find("faxbridge_fax_channels_active 0"), std::string::npos) << text;
  EXPECT_NE(text.find("faxbridge_fax_channel_results_total{result=\"ok\"} 2"), std::string::npos) << text;
}

TEST(ChannelRuntime, RefusesAbsurdThreadCounts) {
  EXPECT_FALSE(ChannelRuntime::create(RuntimeOptions{0, Pace::kFast}));
}

}  // namespace
}  // namespace faxbridge::fax
