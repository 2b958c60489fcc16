#include "faxbridge/router/policy.hpp"

#include <gtest/gtest.h>

#include <set>

namespace faxbridge::router {
namespace {

using namespace std::chrono_literals;

const RetrySettings kRetry{3, 180s, 300s, 600s};

CallReport report(Outcome o, int pages = 0, std::optional<int> of = 3, std::optional<std::string> code = {}) {
  CallReport r;
  r.outcome = o;
  r.pages_sent = pages;
  r.page_count = of;
  r.error_code = std::move(code);
  return r;
}

TEST(Decide, AllPagesConfirmedIsSent) {
  auto d = decide(report(Outcome::kSent, 3), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "sent");
  EXPECT_FALSE(d.error);
}

TEST(Decide, NeverSentWithZeroConfirmedPages) {
  auto d = decide(report(Outcome::kSent, 0), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "retry_wait");
  EXPECT_EQ(d.error->code, Code::k_fax_no_pages_confirmed);
  EXPECT_EQ(d.category, Category::kProtocol);
}

TEST(Decide, SomePagesConfirmedIsPartiallySentAndNotResent) {
  auto d = decide(report(Outcome::kSent, 2, 3), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "partially_sent");
  EXPECT_EQ(d.error->code, Code::k_fax_partially_sent);
  d = decide(report(Outcome::kPartiallySent, 1, 3), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "partially_sent");
  EXPECT_NE(d.error->message.find("1 of 3"), std::string::npos);
}

TEST(Decide, RetryDelayDependsOnTheCause) {
  EXPECT_EQ(decide(report(Outcome::kBusy), 1, kRetry, {}).retry_after, 180s);
  EXPECT_EQ(decide(report(Outcome::kNoAnswer), 1, kRetry, {}).retry_after, 300s);
  auto d = decide(report(Outcome::kFailed, 0, 3, "fax.call_dropped"), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "retry_wait");
  EXPECT_EQ(d.retry_after, 600s);
  EXPECT_EQ(d.category, Category::kLine);
}

TEST(Decide, PerJobOverridesWinWithinTheirLimits) {
  auto d = decide(report(Outcome::kBusy), 1, kRetry, {std::nullopt, 30});
  EXPECT_EQ(d.retry_after, 30s);
  d = decide(report(Outcome::kBusy), 3, kRetry, {5, std::nullopt});
  EXPECT_EQ(d.next_state, "retry_wait");  // 5 attempts allowed for this job
}

TEST(Decide, AttemptsExhaustedFailsWithTheLastCause) {
  auto d = decide(report(Outcome::kBusy), 3, kRetry, {});
  EXPECT_EQ(d.next_state, "failed");
  EXPECT_EQ(d.error->code, Code::k_call_busy);
  EXPECT_TRUE(d.retryable);  // the class of failure, even though no attempt is left
  EXPECT_NE(d.error->message.find("All 3 attempts"), std::string::npos);
}

TEST(Decide, FatalFailuresFailAtOnce) {
  auto d = decide(report(Outcome::kRejected, 0, 3, "call.invalid_number"), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "failed");
  EXPECT_EQ(d.category, Category::kPolicy);
  EXPECT_FALSE(d.retryable);
  d = decide(report(Outcome::kRejected, 0, 3, "call.not_authorised"), 1, kRetry, {});
  EXPECT_EQ(d.error->code, Code::k_call_not_authorised);
  d = decide(report(Outcome::kFailed, 0, 3, "fax.no_common_modem"), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "failed");
  EXPECT_EQ(d.category, Category::kDocument);
}

TEST(Decide, AnInterruptedCallIsRetriedOnlyBeforeThePagesWent) {
  auto r = report(Outcome::kInterrupted);
  r.phase_reached = "B";
  EXPECT_EQ(decide(r, 1, kRetry, {}).next_state, "retry_wait");
  r.phase_reached = "C";
  auto d = decide(r, 1, kRetry, {});
  EXPECT_EQ(d.next_state, "failed");
  EXPECT_EQ(d.error->code, Code::k_fax_outcome_unknown);
}

TEST(Decide, CancelledDuringTheCall) {
  EXPECT_EQ(decide(report(Outcome::kCancelled), 1, kRetry, {}).next_state, "cancelled");
}

TEST(DialNumber, GlobalPrefixGoesOnOffNetNumbersOnly) {
  DialSettings s;
  s.global_prefix = "0";
  s.plan = {"39", "00", "0"};
  EXPECT_EQ(dial_number(*normalize_phone("+442079460000"), s), "000442079460000");
  EXPECT_EQ(dial_number(*normalize_phone("403"), s), "0403");  // external only: every number
  s.network_type = "internal_and_external";
  EXPECT_EQ(dial_number(*normalize_phone("403"), s), "403");
  EXPECT_EQ(dial_number(*normalize_phone("0297865403"), s), "00297865403");
}

// A far end that refuses T.38: the sender and the administrator read what happened and
// the two settings that let such faxes go out as G.711 audio.
TEST(Decide, ARefusedT38SaysWhatHappenedAndWhatToChange) {
  auto r = report(Outcome::kFailed, 0, 3, "call.media_refused");
  r.sip_status = 488;
  auto d = decide(r, 1, kRetry, {});
  EXPECT_EQ(d.next_state, "failed");
  EXPECT_EQ(d.error->code, Code::k_call_media_refused);
  EXPECT_EQ(d.category, Category::kPolicy);
  const std::string& m = d.error->message;
  EXPECT_EQ(m.find("The call failed"), std::string::npos) << m;
  EXPECT_NE(m.find("refused T.38"), std::string::npos) << m;
  EXPECT_NE(m.find("SIP 488"), std::string::npos) << m;
  EXPECT_NE(m.find("faxbridge settings set sip.allow_g711_outgoing true"), std::string::npos) << m;
  EXPECT_NE(m.find("--t38-policy auto"), std::string::npos) << m;
}

TEST(FailureSentence, EveryCallCodeHasItsOwnSentence) {
  std::set<std::string> seen;
#define FAXBRIDGE_X(e, name, kind)                                                        \
  if (std::string_view(name).starts_with("call.")) {                                     \
    const std::string s = failure_sentence(Code::k_##e);                                  \
    EXPECT_EQ(s.find("The call failed"), std::string::npos) << name << ": " << s;        \
    EXPECT_EQ(s.find(name), std::string::npos) << name << " is not a sentence: " << s;   \
    EXPECT_TRUE(seen.insert(s).second) << name << " shares its sentence: " << s;         \
  }
  FAXBRIDGE_ERROR_CODES(FAXBRIDGE_X)
#undef FAXBRIDGE_X
  EXPECT_GE(seen.size(), 9u);
}

TEST(Decide, TheRetryFollowsTheKindOfTheReportedCode) {
  // aborted, unavailable, resource_exhausted, internal: another attempt may help.
  for (const char* code : {"call.rejected", "call.route_failed", "fax.timeout", "internal", "reference.exhausted"}) {
    EXPECT_EQ(decide(report(Outcome::kFailed, 0, 3, code), 1, kRetry, {}).next_state, "retry_wait") << code;
  }
  for (const char* code : {"call.media_refused", "fax.rejected", "call.not_authorised", "fax.outcome_unknown"}) {
    EXPECT_EQ(decide(report(Outcome::kFailed, 0, 3, code), 1, kRetry, {}).next_state, "failed") << code;
  }
}

db::User user(const std::string& name, bool send = true, bool receive = true) {
  db::User u;
  u.id = static_cast<std::int64_t>(std::hash<std::string>{}(name) % 1000);
  u.username = name;
  u.email = name + "@example.test";
  u.enable_send = send;
  u.enable_receive = receive;
  return u;
}

RoutingFacts routable() {
  RoutingFacts f;
  f.sender = user("alice");
  f.route_found = true;
  f.gateway_addresses = 1;
  f.recipient = "+390297865403";
  return f;
}

TEST(DecideRouting, ASenderWithTheRightAndARouteWithAnAddressIsQueued) {
  auto d = decide_routing(routable());
  EXPECT_EQ(d.next, db::JobState::kQueued);
  EXPECT_FALSE(d.error);
  auto no_sender = routable();
  no_sender.sender.reset();  // API jobs without a user
  EXPECT_EQ(decide_routing(no_sender).next, db::JobState::kQueued);
}

TEST(DecideRouting, ASenderWithoutTheRightIsRefusedAndTold) {
  for (int variant = 0; variant < 3; ++variant) {
    auto f = routable();
    if (variant == 0) f.sender->enable_send = false;
    if (variant == 1) f.sender->disabled = true;
    if (variant == 2) f.sender->permission_level = db::kPermissionNone;
    auto d = decide_routing(f);
    EXPECT_EQ(d.next, db::JobState::kFailed) << variant;
    EXPECT_EQ(d.error->code, Code::k_auth_send_not_enabled) << variant;
    EXPECT_NE(d.error->message.find("alice"), std::string::npos);
    EXPECT_TRUE(d.tell_sender_refused);
    EXPECT_FALSE(d.alert_admin);
  }
  auto silent = routable();
  silent.sender->enable_send = false;
  silent.sender->email.clear();
  EXPECT_FALSE(decide_routing(silent).tell_sender_refused);  // nowhere to tell
}

TEST(DecideRouting, NoRouteAndARouteWithoutAnAddressAreDifferentFailures) {
  auto none = routable();
  none.route_found = false;
  none.gateway_addresses = 0;
  auto d = decide_routing(none);
  EXPECT_EQ(d.error->code, Code::k_route_no_default);
  EXPECT_TRUE(d.alert_admin);
  auto empty = routable();
  empty.gateway_addresses = 0;
  d = decide_routing(empty);
  EXPECT_EQ(d.next, db::JobState::kFailed);
  EXPECT_EQ(d.error->code, Code::k_route_no_gateway);
  EXPECT_EQ(d.category, Category::kPolicy);
  EXPECT_TRUE(d.alert_admin);
}

TEST(DecideRouting, ACancelWinsOverEverything) {
  auto f = routable();
  f.cancel_requested = true;
  f.sender->enable_send = false;
  auto d = decide_routing(f);
  EXPECT_EQ(d.next, db::JobState::kCancelled);
  EXPECT_EQ(d.error->code, Code::k_call_cancelled);
  EXPECT_FALSE(d.tell_sender_refused);
}

std::vector<std::string> names(const InboundDecision& d) {
  std::vector<std::string> out;
  for (const auto& r : d.recipients) out.push_back(r.user.username);
  return out;
}

TEST(DecideInbound, TheNumbersUserWhenReceivingElseTheDefaultUser) {
  InboundFacts f;
  f.called_number = "403";
  f.pages = 2;
  f.owner = user("carla");
  f.default_user = user("operator");
  EXPECT_EQ(names(decide_inbound(f)), (std::vector<std::string>{"carla"}));
  f.owner->enable_receive = false;
  f.refuse_unknown = true;  // a known number still reaches the default user
  EXPECT_EQ(names(decide_inbound(f)), (std::vector<std::string>{"operator"}));
}

TEST(DecideInbound, AGroupsReceivingMembersViaTheGroup) {
  InboundFacts f;
  f.called_number = "499";
  f.pages = 1;
  f.group_id = 7;
  f.group_members = {user("elena"), user("fabio"), user("gino", true, /*receive=*/false)};
  auto d = decide_inbound(f);
  EXPECT_EQ(names(d), (std::vector<std::string>{"elena", "fabio"}));
  EXPECT_EQ(d.recipients[0].via_group, 7);
  EXPECT_FALSE(d.failed);
}

TEST(DecideInbound, AnUnknownNumberReachesTheDefaultUserUnlessRefused) {
  InboundFacts f;
  f.called_number = "777";
  f.pages = 1;
  f.default_user = user("operator");
  EXPECT_EQ(names(decide_inbound(f)), (std::vector<std::string>{"operator"}));
  f.refuse_unknown = true;
  auto d = decide_inbound(f);
  EXPECT_TRUE(d.recipients.empty());
  EXPECT_TRUE(d.failed);
  EXPECT_EQ(d.error->code, Code::k_inbound_no_recipient);
  EXPECT_NE(d.error->message.find("777"), std::string::npos);
  EXPECT_TRUE(d.alert_admin);
  f.refuse_unknown = false;
  f.default_user->disabled = true;
  EXPECT_TRUE(decide_inbound(f).failed);
}

TEST(DecideInbound, ACallWithoutPagesReachesNobodyAndIsReportedPerSetting) {
  InboundFacts f;
  f.called_number = "403";
  f.pages = 0;
  f.owner = user("carla");
  auto d = decide_inbound(f);
  EXPECT_TRUE(d.recipients.empty());
  EXPECT_FALSE(d.failed);
  EXPECT_FALSE(d.tell_owner_failed_call);
  f.notify_failed_calls = true;
  EXPECT_TRUE(decide_inbound(f).tell_owner_failed_call);
}

}  // namespace
}  // namespace faxbridge::router
