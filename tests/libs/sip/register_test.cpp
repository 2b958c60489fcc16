// Digest authentication against SIPp as a trunk that challenges with 401 and verifies
// the answer (verifyauth): REGISTER, and INVITEs. The right password registers or gets
// the call answered; a wrong one is reported as refused, never retried in a loop.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

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

// Every registration result the agent reports, for tests to wait on.
struct RegistrationLog {
  Recorder rec;
  std::vector<RegistrationState> states;

  Handlers handlers() {
    auto h = rec.handlers();
    h.on_registration = [this](const RegistrationState& s) {
      std::lock_guard lock(rec.mu);
      states.push_back(s);
      rec.cv.notify_all();
    };
    return h;
  }
  bool wait_for(std::function<bool(const std::vector<RegistrationState>&)> pred) {
    return rec.wait([&] { return pred(states); }, 30s);
  }
  std::vector<RegistrationState> snapshot() {
    std::lock_guard lock(rec.mu);
    return states;
  }
};

bool any_registered(const std::vector<RegistrationState>& states) {
  return std::any_of(states.begin(), states.end(), [](const RegistrationState& s) { return s.registered; });
}

// Retries a second apart, so the tests take seconds, not RFC 5626's minutes.
Registration with_fast_retries(Registration r) {
  r.retry_base = 1s;
  r.retry_max = 8s;
  return r;
}

// A failure's retry is scheduled within RFC 5626's window: 50-100 % of base * 2^n.
void expect_backoff_window(const RegistrationState& s, const Registration& r) {
  ASSERT_TRUE(s.next_retry.has_value());
  const auto bound = std::min<std::chrono::milliseconds>(r.retry_max, r.retry_base * (1 << s.failures));
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*s.next_retry - s.at);
  EXPECT_GE(wait, bound / 2) << s.failures;
  EXPECT_LE(wait, bound) << s.failures;
}

TEST_F(RegisterTest, ARegistrarThatIsNotListeningAtStartIsRegisteredWithOnceItIs) {
  auto run = registrar();
  RegistrationLog log;
  auto ua = UserAgent::start(test_settings(free_udp_port()), log.handlers());
  ASSERT_TRUE(ua) << ua.error().to_string();
  const Registration account_fast = with_fast_retries(account(run.port, "s3cret"));
  ASSERT_TRUE((*ua)->register_account(account_fast));
  // Nothing listens yet: the attempt fails (ICMP unreachable or the timeout).
  ASSERT_TRUE(log.wait_for([](const auto& states) { return !states.empty(); }));
  const RegistrationState first = log.snapshot().at(0);
  EXPECT_FALSE(first.registered);
  EXPECT_TRUE(first.last_status == 503 || first.last_status == 408) << first.last_status;
  EXPECT_EQ(first.failures, 1);
  expect_backoff_window(first, account_fast);
  // The registrar comes up; the same agent registers on a later attempt.
  auto sipp = run.start();
  ASSERT_TRUE(sipp->running());
  ASSERT_TRUE(log.wait_for(any_registered));
  const RegistrationState last = log.snapshot().back();
  EXPECT_TRUE(last.registered);
  EXPECT_EQ(last.last_status, 200);
  EXPECT_EQ(last.failures, 0);
  EXPECT_FALSE(last.next_retry.has_value());
  std::string report;
  EXPECT_EQ(run.finish(*sipp, std::chrono::seconds(20), &report), 0) << report;
}

TEST_F(RegisterTest, ARegistrarAnswering503FirstIsRegisteredWithOnTheRetry) {
  auto run = registrar();
  run.scenario = std::string(FAXBRIDGE_SIP_SCENARIOS) + "/uas_registrar_503_then_digest.xml";
  auto sipp = run.start();
  ASSERT_TRUE(sipp->running());
  RegistrationLog log;
  auto ua = UserAgent::start(test_settings(free_udp_port()), log.handlers());
  ASSERT_TRUE(ua) << ua.error().to_string();
  const Registration account_fast = with_fast_retries(account(run.port, "s3cret"));
  ASSERT_TRUE((*ua)->register_account(account_fast));
  ASSERT_TRUE(log.wait_for(any_registered));
  const auto states = log.snapshot();
  ASSERT_GE(states.size(), 2u);
  EXPECT_FALSE(states[0].registered);
  EXPECT_EQ(states[0].last_status, 503);
  EXPECT_EQ(states[0].reason, "Service Unavailable");
  expect_backoff_window(states[0], account_fast);
  EXPECT_TRUE(states[1].registered);
  EXPECT_EQ(states[1].last_status, 200);
  // The retry went out when it was scheduled, not before.
  EXPECT_GE(states[1].at, *states[0].next_retry);
  std::string report;
  EXPECT_EQ(run.finish(*sipp, std::chrono::seconds(20), &report), 0) << report;
}

TEST_F(RegisterTest, RefusedCredentialsAreRetriedLaterNotInALoop) {
  auto run = registrar();
  run.scenario = std::string(FAXBRIDGE_SIP_SCENARIOS) + "/uas_registrar_refuses_credentials.xml";
  auto sipp = run.start();
  ASSERT_TRUE(sipp->running());
  RegistrationLog log;
  auto ua = UserAgent::start(test_settings(free_udp_port()), log.handlers());
  ASSERT_TRUE(ua) << ua.error().to_string();
  const Registration account_fast = with_fast_retries(account(run.port, "wrong"));
  ASSERT_TRUE((*ua)->register_account(account_fast));
  ASSERT_TRUE(log.wait_for([](const auto& states) { return states.size() >= 2; }));
  const auto states = log.snapshot();
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_FALSE(states[i].registered);
    EXPECT_EQ(states[i].last_status, 401);
    EXPECT_EQ(states[i].failures, static_cast<int>(i) + 1);
    expect_backoff_window(states[i], account_fast);
  }
  // The second round went out at its scheduled time, after the first round's backoff.
  EXPECT_GE(states[1].at, *states[0].next_retry);
  // SIPp saw exactly two rounds of REGISTER, 401, REGISTER with credentials, 401.
  std::string report;
  EXPECT_EQ(run.finish(*sipp, std::chrono::seconds(20), &report), 0) << report;
}

TEST_F(RegisterTest, ARegistrarRestartingAcrossARefreshIsRegisteredWithAgain) {
  auto first = registrar();
  first.scenario = std::string(FAXBRIDGE_SIP_SCENARIOS) + "/uas_registrar_short_binding.xml";
  auto sipp = first.start();
  ASSERT_TRUE(sipp->running());
  RegistrationLog log;
  auto ua = UserAgent::start(test_settings(free_udp_port()), log.handlers());
  ASSERT_TRUE(ua) << ua.error().to_string();
  Registration account_fast = with_fast_retries(account(first.port, "s3cret"));
  account_fast.expires = 2s;
  ASSERT_TRUE((*ua)->register_account(account_fast));
  ASSERT_TRUE(log.wait_for(any_registered));
  std::string report;
  ASSERT_EQ(first.finish(*sipp, std::chrono::seconds(20), &report), 0) << report;
  // The registrar is gone: the refresh fails and is reported.
  ASSERT_TRUE(log.wait_for([](const auto& states) { return !states.back().registered; }));
  const auto down = log.snapshot();
  EXPECT_TRUE(down.back().last_status == 503 || down.back().last_status == 408) << down.back().last_status;
  expect_backoff_window(down.back(), account_fast);
  // It comes back (challenging, this time): the agent registers again by itself.
  auto second = registrar();
  second.port = first.port;
  second.dir = first.dir / "restarted";
  auto sipp2 = second.start();
  ASSERT_TRUE(sipp2->running());
  const std::size_t seen = down.size();
  ASSERT_TRUE(log.wait_for([&](const auto& states) {
    return std::any_of(states.begin() + static_cast<std::ptrdiff_t>(seen), states.end(),
                       [](const RegistrationState& s) { return s.registered; });
  }));
  EXPECT_EQ(second.finish(*sipp2, std::chrono::seconds(20), &report), 0) << report;
}

TEST(RegistrationBackoff, FollowsRfc5626Timings) {
  Registration r;  // base 30 s, upper bound 1800 s
  using std::chrono::milliseconds;
  EXPECT_EQ(registration_retry_delay(r, 1, 0.0), milliseconds(30000));
  EXPECT_EQ(registration_retry_delay(r, 1, 1.0), milliseconds(60000));
  EXPECT_EQ(registration_retry_delay(r, 2, 1.0), milliseconds(120000));
  EXPECT_EQ(registration_retry_delay(r, 5, 1.0), milliseconds(960000));
  EXPECT_EQ(registration_retry_delay(r, 6, 1.0), milliseconds(1800000));  // capped
  EXPECT_EQ(registration_retry_delay(r, 6, 0.0), milliseconds(900000));
  EXPECT_EQ(registration_retry_delay(r, 1000, 1.0), milliseconds(1800000));
  r.retry_base = std::chrono::seconds(1);
  r.retry_max = std::chrono::seconds(8);
  EXPECT_EQ(registration_retry_delay(r, 1, 0.5), milliseconds(1500));
  EXPECT_EQ(registration_retry_delay(r, 4, 1.0), milliseconds(8000));
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
