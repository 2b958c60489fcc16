// Digest authentication against SIPp as a trunk that challenges with 401 and verifies
// the answer (verifyauth): REGISTER, and INVITEs. The right password registers or gets
// the call answered; a wrong one is reported as refused, never retried in a loop.
#include <gtest/gtest.h>

#include <algorithm>

#include "faxbridge/sip/user_agent.hpp"
#include "faxbridge/testing/sipp.hpp"
#include "sip_test_support.hpp"

namespace faxbridge::sip {
namespace {

using namespace faxbridge::sip::testing;

class RegisterTest : public ::testing::Test {
 protected:
  faxbridge::testing::SippRun registrar() {
    faxbridge::testing::SippRun run;
    run.binary = FAXBRIDGE_SIPP_BIN;
    run.scenario = std::string(FAXBRIDGE_SIP_SCENARIOS) + "/uas_registrar_digest.xml";
    run.dir = std::filesystem::path(FAXBRIDGE_SIP_TEST_DIR) /
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    run.timeout = std::chrono::seconds(20);
    return run;
  }
  Registration account(int port, const std::string& password) {
    Registration r;
    r.registrar = "127.0.0.1:" + std::to_string(port);
    r.user = "faxtrunk";
    r.password = password;
    return r;
  }
};

TEST_F(RegisterTest, TheRightPasswordAnswersTheChallengeAndRegisters) {
  auto run = registrar();
  auto sipp = run.start();
  ASSERT_TRUE(sipp->running());
  Recorder rec;
  std::vector<RegistrationState> states;
  auto handlers = rec.handlers();
  handlers.on_registration = [&](const RegistrationState& s) {
    std::lock_guard lock(rec.mu);
    states.push_back(s);
    rec.cv.notify_all();
  };
  auto ua = UserAgent::start(test_settings(free_udp_port()), handlers);
  ASSERT_TRUE(ua) << ua.error().to_string();
  ASSERT_TRUE((*ua)->register_account(account(run.port, "s3cret")));
  ASSERT_TRUE(rec.wait([&] { return !states.empty(); }));
  EXPECT_TRUE(states[0].registered);
  EXPECT_EQ(states[0].last_status, 200);
  std::string report;
  EXPECT_EQ(run.finish(*sipp, std::chrono::seconds(20), &report), 0) << report;
}

TEST_F(RegisterTest, AWrongPasswordIsReportedAsRefused) {
  auto run = registrar();
  auto sipp = run.start();
  Recorder rec;
  std::vector<RegistrationState> states;
  auto handlers = rec.handlers();
  handlers.on_registration = [&](const RegistrationState& s) {
    std::lock_guard lock(rec.mu);
    states.push_back(s);
    rec.cv.notify_all();
  };
  auto ua = UserAgent::start(test_settings(free_udp_port()), handlers);
  ASSERT_TRUE(ua);
  ASSERT_TRUE((*ua)->register_account(account(run.port, "wrong")));
  ASSERT_TRUE(rec.wait([&] { return !states.empty(); }));
  EXPECT_FALSE(states[0].registered);
  EXPECT_EQ(states[0].last_status, 403);
  std::string report;
  EXPECT_NE(run.finish(*sipp, std::chrono::seconds(20), &report), 0);  // SIPp saw a bad answer
}

class InviteAuthTest : public RegisterTest {
 protected:
  faxbridge::testing::SippRun trunk() {
    auto run = registrar();
    run.scenario = std::string(FAXBRIDGE_SIP_SCENARIOS) + "/uas_invite_digest_t38.xml";
    return run;
  }
  CallRequest call_to(int port, std::optional<Credentials> credentials) {
    CallRequest r;
    r.target = "127.0.0.1:" + std::to_string(port);
    r.number = "+390297865403";
    r.offer = t38_media(free_udp_port());
    r.credentials = std::move(credentials);
    return r;
  }
};

TEST_F(InviteAuthTest, AChallengedInviteIsAnsweredWithTheCredentialsAndTheCallGoesOnT38) {
  auto run = trunk();
  auto sipp = run.start();
  ASSERT_TRUE(sipp->running());
  Recorder rec;
  auto ua = UserAgent::start(test_settings(free_udp_port()), rec.handlers());
  ASSERT_TRUE(ua) << ua.error().to_string();
  auto id = (*ua)->place_call(call_to(run.port, Credentials{"faxtrunk", "s3cret"}));
  ASSERT_TRUE(id) << id.error().to_string();
  ASSERT_TRUE(rec.wait([&] { return !rec.answered.empty() || !rec.failed.empty(); }));
  ASSERT_TRUE(rec.failed.empty()) << rec.failed[0].error.to_string();
  EXPECT_EQ(rec.answered[0].media.kind, MediaKind::kT38);
  ASSERT_TRUE((*ua)->hang_up(*id));
  ASSERT_TRUE(rec.wait([&] { return !rec.ended.empty(); }));
  std::string report;
  EXPECT_EQ(run.finish(*sipp, std::chrono::seconds(20), &report), 0) << report;
  auto trace = (*ua)->trace(*id);
  ASSERT_TRUE(trace);
  EXPECT_NE(std::find(trace->begin(), trace->end(), "-> INVITE (with credentials)"), trace->end());
}

TEST_F(InviteAuthTest, ASecondChallengeEndsTheCallAsNotAuthorised) {
  auto run = trunk();
  auto sipp = run.start();
  Recorder rec;
  auto ua = UserAgent::start(test_settings(free_udp_port()), rec.handlers());
  ASSERT_TRUE(ua);
  ASSERT_TRUE((*ua)->place_call(call_to(run.port, Credentials{"faxtrunk", "wrong"})));
  ASSERT_TRUE(rec.wait([&] { return !rec.failed.empty(); }));
  EXPECT_EQ(rec.failed[0].sip_status, 401);
  EXPECT_EQ(rec.failed[0].failure.code, Code::k_call_not_authorised);
  EXPECT_FALSE(rec.failed[0].failure.try_next_address);
  // Exactly one answered challenge: two INVITEs went out, not a loop of them.
  EXPECT_EQ(std::count(rec.failed[0].trace.begin(), rec.failed[0].trace.end(), "-> INVITE (with credentials)"), 1);
  EXPECT_TRUE(rec.answered.empty());
  EXPECT_NE(run.finish(*sipp, std::chrono::seconds(20)), 0);  // SIPp saw a bad answer
}

TEST_F(InviteAuthTest, AChallengeWithoutCredentialsEndsTheCallAsNotAuthorised) {
  auto run = trunk();
  auto sipp = run.start();
  Recorder rec;
  auto ua = UserAgent::start(test_settings(free_udp_port()), rec.handlers());
  ASSERT_TRUE(ua);
  ASSERT_TRUE((*ua)->place_call(call_to(run.port, std::nullopt)));
  ASSERT_TRUE(rec.wait([&] { return !rec.failed.empty(); }));
  EXPECT_EQ(rec.failed[0].sip_status, 401);
  EXPECT_EQ(rec.failed[0].failure.code, Code::k_call_not_authorised);
  EXPECT_TRUE(rec.answered.empty());
}

TEST(Register, AnAccountWithoutAUsableRegistrarOrUserIsRefused) {
  Recorder rec;
  auto ua = UserAgent::start(test_settings(free_udp_port()), rec.handlers());
  ASSERT_TRUE(ua);
  Registration r;
  r.registrar = "pbx example";
  r.user = "trunk";
  EXPECT_EQ((*ua)->register_account(r).error().code, Code::k_sip_invalid_target);
  r.registrar = "pbx.example.test";
  r.user = "a@b";
  EXPECT_EQ((*ua)->register_account(r).error().code, Code::k_sip_invalid_target);
}

}  // namespace
}  // namespace faxbridge::sip
