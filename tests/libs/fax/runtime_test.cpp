// The runtime in both paces: many calls on two workers in fast pace, and the real-time
// loop (20 ms timerfd) carrying a short call that ends by hang-up after one second.
#include "faxbridge/fax/runtime.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

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

// Two UDP sockets on 127.0.0.1 and a thread passing datagrams between them: the new media
// address of a far end that moved. Each side learns its peer from the first datagram.
class UdpRelay {
 public:
  UdpRelay() {
    for (auto& s : side_) {
      s.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof a;
      ::bind(s.fd, reinterpret_cast<sockaddr*>(&a), len);
      ::getsockname(s.fd, reinterpret_cast<sockaddr*>(&a), &len);
      s.port = ntohs(a.sin_port);
    }
    thread_ = std::thread([this] { run(); });
  }
  ~UdpRelay() {
    stop_ = true;
    thread_.join();
    for (auto& s : side_) ::close(s.fd);
  }
  int port(int side) const { return side_[side].port; }
  int forwarded(int from_side) const { return side_[from_side].forwarded; }

 private:
  struct Side {
    int fd = -1;
    int port = 0;
    sockaddr_in peer{};
    bool known = false;
    std::atomic<int> forwarded{0};
  };
  void run() {
    std::uint8_t buf[2048];
    while (!stop_) {
      pollfd p[2] = {{side_[0].fd, POLLIN, 0}, {side_[1].fd, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (!(p[i].revents & POLLIN)) continue;
        Side& in = side_[i];
        Side& out = side_[1 - i];
        socklen_t len = sizeof in.peer;
        ssize_t n = ::recvfrom(in.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&in.peer), &len);
        in.known = n >= 0;
        if (n > 0 && out.known) {
          ::sendto(out.fd, buf, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&out.peer), sizeof out.peer);
          ++in.forwarded;
        }
      }
    }
  }
  Side side_[2];
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(ChannelRuntime, FollowsAFarEndThatMovesItsMediaMidCall) {
  // As after a re-INVITE that keeps T.38 but names a new address: both ends are pointed at
  // a relay once the document starts moving, and the fax completes through it.
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kStandard, 6, 200);
  auto rt = ChannelRuntime::create(RuntimeOptions{2, Pace::kRealtime});
  ASSERT_TRUE(rt);
  auto call = t38_call(dir, in);
  ASSERT_TRUE(call.caller && call.answerer);
  UdpRelay relay;
  ASSERT_TRUE((*rt)->add({call.caller, call.answerer}));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (call.caller->progress().phase != Phase::kTransferring && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(call.caller->progress().phase, Phase::kTransferring);
  call.caller->request_redirect("127.0.0.1", relay.port(0));
  call.answerer->request_redirect("127.0.0.1", relay.port(1));
  ASSERT_TRUE((*rt)->wait_idle_for(std::chrono::minutes(2)));
  ASSERT_TRUE(call.caller->result().success) << call.caller->result().t30_text;
  ASSERT_TRUE(call.answerer->result().success) << call.answerer->result().t30_text;
  testing::expect_identical_documents(in, dir.file("out.tif"));
  // The page itself went through the relay (a page is hundreds of datagrams), and so did
  // the receiver's confirmations.
  EXPECT_GT(relay.forwarded(0), 100);
  EXPECT_GT(relay.forwarded(1), 2);
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
