// Our agent against SIPp (Debian sip-tester) as the far end, on loopback. SIPp runs in
// the foreground as a child process and its exit status says whether its scenario (in
// scenarios/) saw what it expected: 0 for a successful call.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "faxbridge/sip/user_agent.hpp"
#include "faxbridge/testing/process.hpp"
#include "faxbridge/testing/sipp.hpp"
#include "sip_test_support.hpp"

namespace faxbridge::sip {
namespace {

using faxbridge::testing::Child;
using namespace faxbridge::sip::testing;

std::optional<std::string> context_value(const Error& e, std::string_view key) {
  for (const auto& [k, v] : e.context) {
    if (k == key) return v;
  }
  return std::nullopt;
}

class SippTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(FAXBRIDGE_SIP_TEST_DIR) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto ua = UserAgent::start(test_settings(free_udp_port()), rec_.handlers());
    ASSERT_TRUE(ua) << ua.error().to_string();
    ua_ = std::move(*ua);
  }

  // SIPp with a scenario; `remote` is the host:port to call for a UAC scenario.
  std::unique_ptr<Child> start_sipp(const std::string& scenario, int port,
                                    const std::string& remote = "") {
    std::vector<std::string> args = {
        "-sf", std::string(FAXBRIDGE_SIP_SCENARIOS) + "/" + scenario,
        "-i", "127.0.0.1", "-p", std::to_string(port),
        "-mp", std::to_string(faxbridge::testing::free_udp_block(4)),
        "-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin",
        "-trace_err", "-error_file", (dir_ / "errors.log").string(),
        "-trace_msg", "-message_file", (dir_ / "messages.log").string()};
    if (!remote.empty()) {
      args.insert(args.end(), {"-s", "+390297865403", remote});
    }
    return std::make_unique<Child>(FAXBRIDGE_SIPP_BIN, args, std::map<std::string, std::string>{},
                                   (dir_ / "sipp.out").string());
  }

  // SIPp's exit status (0: its call went as scripted), with its logs on failure.
  int finish(Child& sipp) {
    auto status = sipp.wait(30s);
    if (!status) {
      ADD_FAILURE() << "sipp did not finish";
      return -1;
    }
    const int code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
    if (code != 0) {
      for (const char* f : {"errors.log", "messages.log", "sipp.out"}) {
        std::ifstream in(dir_ / f);
        std::stringstream ss;
        ss << in.rdbuf();
        ADD_FAILURE() << f << ":\n" << ss.str().substr(0, 6000);
      }
    }
    return code;
  }

  // Waits until SIPp has bound its port, so our INVITE never races its start.
  void wait_listening(Child& sipp, int port) {
    ASSERT_TRUE(faxbridge::testing::eventually([&] { return faxbridge::testing::udp_port_bound(port) || !sipp.running(); }));
    ASSERT_TRUE(sipp.running()) << "sipp exited at start";
  }

  CallId call_sipp(int port) {
    CallRequest r;
    r.target = "127.0.0.1:" + std::to_string(port);
    r.number = "+390297865403";
    r.offer = t38_media(34000);
    auto id = ua_->place_call(r);
    EXPECT_TRUE(id) << id.error().to_string();
    return id ? *id : 0;
  }

  std::filesystem::path dir_;
  Recorder rec_;
  std::unique_ptr<UserAgent> ua_;
};

TEST_F(SippTest, SippOffersT38AndHangsUpAndWeAnswerWithT38) {
  rec_.decide = [](const IncomingCall&) { return InboundDecision::answer_with(t38_media(34100)); };
  auto sipp = start_sipp("uac_t38_invite_bye.xml", free_udp_port(),
                         "127.0.0.1:" + std::to_string(ua_->settings().port));
  EXPECT_EQ(finish(*sipp), 0);
  ASSERT_TRUE(rec_.wait([&] { return !rec_.ended.empty(); }));
  ASSERT_EQ(rec_.incoming.size(), 1u);
  const IncomingCall& in = rec_.incoming[0];
  EXPECT_EQ(in.called_number, "+390297865403");
  EXPECT_EQ(in.caller_id, "+3902111222");
  EXPECT_EQ(in.caller_display, "SIPp fax");
  EXPECT_EQ(in.offered.kind, MediaKind::kT38);
  EXPECT_EQ(in.offered.address, "127.0.0.1");
  EXPECT_EQ(in.offered.t38_attributes,
            (std::vector<std::string>{"T38FaxVersion:0", "T38MaxBitRate:14400",
                                      "T38FaxRateManagement:transferredTCF", "T38FaxMaxDatagram:400",
                                      "T38FaxUdpEC:t38UDPRedundancy"}));
  EXPECT_EQ(rec_.ended[0].reason, EndReason::kBye);
  EXPECT_EQ(rec_.ended[0].by, Party::kRemote);
  EXPECT_TRUE(rec_.ended[0].was_answered);
}

TEST_F(SippTest, SippBusyIsReportedAsBusy) {
  const int port = free_udp_port();
  auto sipp = start_sipp("uas_busy.xml", port);
  wait_listening(*sipp, port);
  const CallId id = call_sipp(port);
  ASSERT_TRUE(rec_.wait([&] { return !rec_.failed.empty(); }));
  EXPECT_EQ(finish(*sipp), 0);
  EXPECT_EQ(rec_.failed[0].call, id);
  EXPECT_EQ(rec_.failed[0].sip_status, 486);
  EXPECT_EQ(rec_.failed[0].failure.code, Code::k_call_busy);
  EXPECT_FALSE(rec_.failed[0].local);
}

// Many PBXs send no Server or User-Agent header. Their final response came over the
// network all the same: it is the far end's, never one our stack made up.
TEST_F(SippTest, AFar488WithoutServerHeaderIsTheFarEndsAndNotLocal) {
  const int port = free_udp_port();
  auto sipp = start_sipp("uas_488_without_server.xml", port);
  wait_listening(*sipp, port);
  const CallId id = call_sipp(port);
  ASSERT_TRUE(rec_.wait([&] { return !rec_.failed.empty(); }));
  EXPECT_EQ(finish(*sipp), 0);
  const CallFailed f = rec_.failed[0];
  EXPECT_EQ(f.call, id);
  EXPECT_EQ(f.sip_status, 488);
  EXPECT_FALSE(f.local);
  EXPECT_EQ(f.failure.code, Code::k_call_media_refused);
  EXPECT_FALSE(f.failure.try_next_address);
  EXPECT_EQ(context_value(f.error, "local"), std::nullopt);
  // The far end's Warning is kept, as for any received response.
  EXPECT_EQ(context_value(f.error, "warning"), "refused by the far end");
  for (const auto& line : f.trace) EXPECT_EQ(line.find("(local)"), std::string::npos) << line;
  EXPECT_NE(std::find(f.trace.begin(), f.trace.end(), "<- 488 Not Acceptable Here (refused by the far end)"),
            f.trace.end());
}

// A 503 that came over the network, without any provisional response or Server header
// before it, is the far end's 503: still a route failure (next address), but not one our
// stack made up for an address that never answered.
TEST_F(SippTest, AFar503WithoutServerHeaderIsNotLocal) {
  const int port = free_udp_port();
  auto sipp = start_sipp("uas_503_without_server.xml", port);
  wait_listening(*sipp, port);
  call_sipp(port);
  ASSERT_TRUE(rec_.wait([&] { return !rec_.failed.empty(); }));
  EXPECT_EQ(finish(*sipp), 0);
  const CallFailed f = rec_.failed[0];
  EXPECT_EQ(f.sip_status, 503);
  EXPECT_FALSE(f.local);
  EXPECT_EQ(f.failure.code, Code::k_call_route_failed);
  EXPECT_TRUE(f.failure.try_next_address);
  for (const auto& line : f.trace) EXPECT_EQ(line.find("(local)"), std::string::npos) << line;
}

TEST_F(SippTest, SippAnswersWithT38AndWeHangUp) {
  const int port = free_udp_port();
  auto sipp = start_sipp("uas_t38_answer.xml", port);
  wait_listening(*sipp, port);
  const CallId id = call_sipp(port);
  ASSERT_TRUE(rec_.wait([&] { return !rec_.answered.empty(); }));
  ASSERT_FALSE(rec_.progress.empty());
  EXPECT_EQ(rec_.progress[0].status, 180);
  const CallAnswered a = rec_.answered[0];
  EXPECT_EQ(a.media.kind, MediaKind::kT38);
  EXPECT_EQ(a.media.address, "127.0.0.1");
  EXPECT_GT(a.media.port, 0);
  EXPECT_EQ(a.media.t38_attributes,
            (std::vector<std::string>{"T38FaxVersion:0", "T38MaxBitRate:9600",
                                      "T38FaxRateManagement:transferredTCF", "T38FaxMaxDatagram:320",
                                      "T38FaxUdpEC:t38UDPFEC"}));
  ASSERT_TRUE(ua_->hang_up(id));
  EXPECT_EQ(finish(*sipp), 0);
  ASSERT_TRUE(rec_.wait([&] { return !rec_.ended.empty(); }));
  EXPECT_EQ(rec_.ended[0].by, Party::kLocal);
}

TEST_F(SippTest, SippRefreshKeepsOurSdpAndItsReinviteToT38IsAccepted) {
  rec_.decide = [](const IncomingCall&) { return InboundDecision::answer_with(audio_media(34200)); };
  rec_.on_reinvite = [](const ReinviteRequest& r) -> std::optional<MediaOffer> {
    if (r.offered.kind != MediaKind::kT38) return std::nullopt;
    return t38_media(34202);
  };
  auto sipp = start_sipp("uac_audio_refresh_reinvite_t38.xml", free_udp_port(),
                         "127.0.0.1:" + std::to_string(ua_->settings().port));
  EXPECT_EQ(finish(*sipp), 0);
  ASSERT_TRUE(rec_.wait([&] { return !rec_.ended.empty(); }));
  EXPECT_EQ(rec_.incoming.at(0).offered.kind, MediaKind::kPcma);
  // The refresh never reached the application; the switch to T.38 did, once.
  ASSERT_EQ(rec_.reinvites.size(), 1u);
  EXPECT_EQ(rec_.reinvites[0].current.kind, MediaKind::kPcma);
  ASSERT_EQ(rec_.media_changed.size(), 1u);
  EXPECT_EQ(rec_.media_changed[0].media.kind, MediaKind::kT38);
  EXPECT_EQ(rec_.media_changed[0].media.t38_attributes.at(0), "T38FaxVersion:0");
  EXPECT_EQ(rec_.ended[0].by, Party::kRemote);
  EXPECT_TRUE(rec_.ended[0].was_answered);
}

}  // namespace
}  // namespace faxbridge::sip
