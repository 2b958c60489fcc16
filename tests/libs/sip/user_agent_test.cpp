// Two real agents on 127.0.0.1 over UDP, in this process: "a" calls, "b" answers.
#include "faxbridge/sip/user_agent.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "sip_test_support.hpp"

namespace faxbridge::sip {
namespace {

using namespace testing;

class UserAgentTest : public ::testing::Test {
 protected:
  void SetUp() override { start_agents(test_settings(free_udp_port()), test_settings(free_udp_port())); }

  void start_agents(Settings sa, Settings sb) {
    a_settings_ = sa;
    b_settings_ = sb;
    auto ra = UserAgent::start(sa, a_rec_.handlers());
    ASSERT_TRUE(ra) << ra.error().to_string();
    a_ = std::move(*ra);
    auto rb = UserAgent::start(sb, b_rec_.handlers());
    ASSERT_TRUE(rb) << rb.error().to_string();
    b_ = std::move(*rb);
  }

  std::string b_address() const { return "127.0.0.1:" + std::to_string(b_settings_.port); }

  CallId call_b(const std::string& number, MediaOffer offer) {
    CallRequest r;
    r.target = b_address();
    r.number = number;
    r.caller_number = "+3902111222";
    r.offer = std::move(offer);
    auto id = a_->place_call(r);
    EXPECT_TRUE(id) << id.error().to_string();
    return id ? *id : 0;
  }

  // An answered call a -> b on audio, b answering with audio.
  CallId answered_audio_call() {
    b_rec_.decide = [](const IncomingCall&) { return InboundDecision::answer_with(audio_media(32000)); };
    CallId id = call_b("+390297865403", audio_media(30000));
    EXPECT_TRUE(a_rec_.wait([&] { return !a_rec_.answered.empty(); }));
    EXPECT_TRUE(b_rec_.wait([&] { return !b_rec_.answered.empty(); }));
    return id;
  }

  Settings a_settings_, b_settings_;
  Recorder a_rec_, b_rec_;
  std::unique_ptr<UserAgent> a_, b_;
};

TEST_F(UserAgentTest, T38OfferIsAnsweredEndToEndWithTheSdpSeenOnBothSides) {
  b_rec_.decide = [](const IncomingCall&) { return InboundDecision::answer_with(t38_media(32100)); };
  const CallId id = call_b("+39 02 9786 5403", t38_media(30100));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.answered.empty(); }));
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.answered.empty(); }));

  // What b saw: the number, the caller, our T.38 offer.
  const IncomingCall in = b_rec_.incoming.at(0);
  EXPECT_EQ(in.called_number, "+390297865403");
  EXPECT_EQ(in.caller_id, "+3902111222");
  EXPECT_EQ(in.offered.kind, MediaKind::kT38);
  EXPECT_EQ(in.offered.address, "127.0.0.1");
  EXPECT_EQ(in.offered.port, 30100);
  EXPECT_EQ(in.offered.t38_attributes, t38_offer(0).attributes);

  // What a saw: b's T.38 answer.
  const CallAnswered ans = a_rec_.answered.at(0);
  EXPECT_EQ(ans.call, id);
  EXPECT_EQ(ans.media.kind, MediaKind::kT38);
  EXPECT_EQ(ans.media.port, 32100);
  EXPECT_EQ(ans.media.address, "127.0.0.1");
  EXPECT_EQ(ans.media.t38_attributes, t38_offer(0).attributes);
  ASSERT_EQ(ans.remote_sdp.media.size(), 1u);
  EXPECT_EQ(ans.remote_sdp.media[0].protocol, "udptl");
  EXPECT_EQ(b_rec_.answered.at(0).media.port, 30100);

  ASSERT_TRUE(a_->hang_up(id));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.ended.empty(); }));
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.ended.empty(); }));
  EXPECT_EQ(a_rec_.ended[0].reason, EndReason::kBye);
  EXPECT_EQ(a_rec_.ended[0].by, Party::kLocal);
  EXPECT_TRUE(a_rec_.ended[0].was_answered);
  EXPECT_EQ(b_rec_.ended[0].reason, EndReason::kBye);
  EXPECT_EQ(b_rec_.ended[0].by, Party::kRemote);
  EXPECT_TRUE(a_rec_.failed.empty());
}

TEST_F(UserAgentTest, ByeFromTheCalledSideEndsTheCallOnBothSides) {
  answered_audio_call();
  const CallId b_call = b_rec_.incoming.at(0).call;
  ASSERT_TRUE(b_->hang_up(b_call));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.ended.empty(); }));
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.ended.empty(); }));
  EXPECT_EQ(a_rec_.ended[0].by, Party::kRemote);
  EXPECT_EQ(a_rec_.ended[0].reason, EndReason::kBye);
  EXPECT_EQ(b_rec_.ended[0].by, Party::kLocal);
  // The call is gone: a second hang-up names it unknown.
  auto again = b_->hang_up(b_call);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::k_sip_call_not_found);
}

TEST_F(UserAgentTest, AudioCallSwitchesToT38WhenTheFarEndAcceptsTheReinvite) {
  b_rec_.on_reinvite = [](const ReinviteRequest& r) -> std::optional<MediaOffer> {
    EXPECT_EQ(r.current.kind, MediaKind::kPcma);
    return t38_media(32200);
  };
  const CallId id = answered_audio_call();
  EXPECT_EQ(a_rec_.answered.at(0).media.kind, MediaKind::kPcma);
  EXPECT_EQ(a_rec_.answered.at(0).media.payload_type, 8);

  ASSERT_TRUE(a_->reinvite_t38(id, t38_offer(30200)));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.media_changed.empty(); }));
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.media_changed.empty(); }));
  EXPECT_EQ(a_rec_.media_changed[0].media.kind, MediaKind::kT38);
  EXPECT_EQ(a_rec_.media_changed[0].media.port, 32200);
  EXPECT_EQ(b_rec_.media_changed[0].media.kind, MediaKind::kT38);
  EXPECT_EQ(b_rec_.media_changed[0].media.port, 30200);
  EXPECT_EQ(b_rec_.reinvites.at(0).offered.t38_attributes, t38_offer(0).attributes);
  EXPECT_TRUE(a_rec_.reinvite_refused.empty());

  ASSERT_TRUE(a_->hang_up(id));
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.ended.empty(); }));
}

TEST_F(UserAgentTest, TheCalledSideCanSwitchOurOutboundCallToT38) {
  // The usual gateway flow: we call with audio, the gateway hears fax tones and
  // re-INVITEs to T.38; our side (the caller here) accepts.
  a_rec_.on_reinvite = [](const ReinviteRequest&) -> std::optional<MediaOffer> { return t38_media(30250); };
  const CallId id = answered_audio_call();
  ASSERT_TRUE(b_->reinvite_t38(b_rec_.incoming.at(0).call, t38_offer(32250)));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.media_changed.empty(); }));
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.media_changed.empty(); }));
  EXPECT_EQ(a_rec_.reinvites.at(0).call, id);
  EXPECT_EQ(a_rec_.media_changed[0].media.kind, MediaKind::kT38);
  EXPECT_EQ(a_rec_.media_changed[0].media.port, 32250);
  EXPECT_EQ(b_rec_.media_changed[0].media.port, 30250);
  // A second switch to what is already running is not a kind change: no question asked.
  ASSERT_TRUE(b_->reinvite_t38(b_rec_.incoming.at(0).call, t38_offer(32252)));
  ASSERT_TRUE(a_rec_.wait([&] { return a_rec_.media_changed.size() == 2; }));
  EXPECT_EQ(a_rec_.media_changed[1].media.port, 32252);
  EXPECT_EQ(a_rec_.reinvites.size(), 1u);
}

TEST_F(UserAgentTest, ReinvitesThatCrossAreRefusedWith491AndARetrySwitchesTheCall) {
  // Both ends hear fax tones at once and re-INVITE (glare, RFC 3261 section 14.2): each
  // INVITE that meets a pending one gets 491, and the call stays usable for the retry the
  // gateway sends after its section 14.1 timer.
  a_rec_.on_reinvite = [](const ReinviteRequest&) -> std::optional<MediaOffer> { return t38_media(30260); };
  b_rec_.on_reinvite = [](const ReinviteRequest&) -> std::optional<MediaOffer> { return t38_media(32260); };
  const CallId id = answered_audio_call();
  const CallId b_id = b_rec_.incoming.at(0).call;
  ASSERT_TRUE(a_->reinvite_t38(id, t38_offer(30262)));
  ASSERT_TRUE(b_->reinvite_t38(b_id, t38_offer(32262)));
  auto settled = [](const Recorder& r) { return !r.media_changed.empty() || !r.reinvite_refused.empty(); };
  ASSERT_TRUE(a_rec_.wait([&] { return settled(a_rec_); }));
  ASSERT_TRUE(b_rec_.wait([&] { return settled(b_rec_); }));
  bool switched = false;
  for (Recorder* r : {&a_rec_, &b_rec_}) {
    std::lock_guard lock(r->mu);
    for (const auto& refused : r->reinvite_refused) EXPECT_EQ(refused.sip_status, 491);
    for (const auto& changed : r->media_changed) switched = switched || changed.media.kind == MediaKind::kT38;
  }
  if (!switched) {
    // Usually both were refused: the answering side retries first and wins.
    ASSERT_TRUE(b_->reinvite_t38(b_id, t38_offer(32264)));
  }
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.media_changed.empty(); }));
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.media_changed.empty(); }));
  EXPECT_EQ(a_rec_.media_changed.back().media.kind, MediaKind::kT38);
  EXPECT_EQ(b_rec_.media_changed.back().media.kind, MediaKind::kT38);
  EXPECT_TRUE(a_rec_.ended.empty());
  EXPECT_TRUE(b_rec_.ended.empty());
}

TEST_F(UserAgentTest, FarEndRefusingTheT38ReinviteLeavesTheCallOnAudio) {
  b_rec_.on_reinvite = [](const ReinviteRequest&) -> std::optional<MediaOffer> { return std::nullopt; };
  const CallId id = answered_audio_call();
  ASSERT_TRUE(a_->reinvite_t38(id, t38_offer(30300)));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.reinvite_refused.empty(); }));
  EXPECT_EQ(a_rec_.reinvite_refused[0].sip_status, 488);
  EXPECT_TRUE(a_rec_.media_changed.empty());
  EXPECT_TRUE(a_rec_.ended.empty());

  // The dialog is alive: b hangs up and a hears the BYE of the same call.
  ASSERT_TRUE(b_->hang_up(b_rec_.incoming.at(0).call));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.ended.empty(); }));
  EXPECT_EQ(a_rec_.ended[0].call, id);
  EXPECT_EQ(a_rec_.ended[0].by, Party::kRemote);
  EXPECT_TRUE(a_rec_.ended[0].was_answered);
}

TEST_F(UserAgentTest, BusyRefusalIsARetryableBusyWithItsTrace) {
  b_rec_.decide = [](const IncomingCall&) { return InboundDecision::refuse(486); };
  const CallId id = call_b("+390297865403", t38_media(30400));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.failed.empty(); }));
  const CallFailed f = a_rec_.failed[0];
  EXPECT_EQ(f.call, id);
  EXPECT_EQ(f.sip_status, 486);
  EXPECT_FALSE(f.local);
  EXPECT_EQ(f.failure.code, Code::k_call_busy);
  EXPECT_EQ(f.error.name(), "call.busy");
  EXPECT_FALSE(f.failure.try_next_address);
  ASSERT_GE(f.trace.size(), 2u);
  EXPECT_EQ(f.trace.front().rfind("-> INVITE sip:+390297865403@127.0.0.1:", 0), 0u) << f.trace.front();
  EXPECT_NE(std::find(f.trace.begin(), f.trace.end(), "<- 486 Busy Here"), f.trace.end());

  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.ended.empty(); }));
  EXPECT_EQ(a_rec_.ended[0].reason, EndReason::kFailed);
  // Still retrievable after the end, for diagnosis.
  auto trace = a_->trace(id);
  ASSERT_TRUE(trace);
  EXPECT_NE(std::find(trace->begin(), trace->end(), "<- 486 Busy Here"), trace->end());
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.ended.empty(); }));
  EXPECT_EQ(b_rec_.ended[0].reason, EndReason::kRefused);
}

TEST_F(UserAgentTest, ARefusalWithAWarningTellsTheCallerWhy) {
  b_rec_.decide = [](const IncomingCall&) { return InboundDecision::ring(); };
  const CallId id = call_b("+390297865403", t38_media(30600));
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.incoming.empty(); }));
  // Quotes would end the header's quoted text: they are taken out.
  ASSERT_TRUE(b_->refuse(b_rec_.incoming.at(0).call, 488, "T.38 is \"disabled\" here"));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.failed.empty(); }));
  const CallFailed f = a_rec_.failed[0];
  EXPECT_EQ(f.call, id);
  EXPECT_EQ(f.sip_status, 488);
  EXPECT_EQ(f.failure.code, Code::k_call_media_refused);
  const auto warning = std::find_if(f.error.context.begin(), f.error.context.end(),
                                    [](const auto& kv) { return kv.first == "warning"; });
  ASSERT_NE(warning, f.error.context.end()) << f.error.to_string();
  EXPECT_EQ(warning->second, "T.38 is disabled here");
  EXPECT_NE(std::find(f.trace.begin(), f.trace.end(), "<- 488 Not Acceptable Here (T.38 is disabled here)"),
            f.trace.end());
}

TEST_F(UserAgentTest, UnknownNumberIsAFatalInvalidNumber) {
  b_rec_.decide = [](const IncomingCall& c) {
    return c.called_number == "+390297865403" ? InboundDecision::answer_with(t38_media(1))
                                              : InboundDecision::refuse(404);
  };
  call_b("5550000", t38_media(30500));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.failed.empty(); }));
  EXPECT_EQ(a_rec_.failed[0].sip_status, 404);
  EXPECT_EQ(a_rec_.failed[0].failure.code, Code::k_call_invalid_number);
  EXPECT_EQ(code_kind(a_rec_.failed[0].failure.code), ErrorKind::kFailedPrecondition);
  EXPECT_EQ(b_rec_.incoming.at(0).called_number, "5550000");
}

TEST_F(UserAgentTest, NobodyListeningIsARouteFailureAfterABoundedTimeout) {
  CallRequest r;
  r.target = "127.0.0.1:" + std::to_string(free_udp_port());
  r.number = "123";
  r.offer = t38_media(30600);
  ASSERT_TRUE(a_->place_call(r));
  // Bounded by the transaction timeout (4 s here) plus the watchdog's grace.
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.failed.empty(); }, 15s));
  EXPECT_EQ(a_rec_.failed[0].failure.code, Code::k_call_route_failed);
  EXPECT_TRUE(a_rec_.failed[0].failure.try_next_address);
  EXPECT_TRUE(a_rec_.failed[0].local);
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.ended.empty(); }, 15s));
}

TEST_F(UserAgentTest, HangingUpWhileRingingSendsCancel) {
  b_rec_.decide = [](const IncomingCall&) { return InboundDecision::ring(); };
  const CallId id = call_b("+390297865403", t38_media(30700));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.progress.empty(); }));
  EXPECT_EQ(a_rec_.progress[0].status, 180);
  ASSERT_TRUE(a_->hang_up(id));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.failed.empty() && !a_rec_.ended.empty(); }));
  EXPECT_EQ(a_rec_.failed[0].sip_status, 487);
  EXPECT_EQ(a_rec_.failed[0].failure.code, Code::k_call_cancelled);
  EXPECT_EQ(a_rec_.ended[0].reason, EndReason::kCancelled);
  EXPECT_FALSE(a_rec_.ended[0].was_answered);
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.ended.empty(); }));
  EXPECT_EQ(b_rec_.ended[0].reason, EndReason::kCancelled);
  EXPECT_EQ(b_rec_.ended[0].by, Party::kRemote);
  auto trace = a_->trace(id);
  ASSERT_TRUE(trace);
  EXPECT_NE(std::find(trace->begin(), trace->end(), "-> CANCEL"), trace->end());
}

TEST_F(UserAgentTest, ARingingCallCanBeAnsweredLater) {
  b_rec_.decide = [](const IncomingCall&) { return InboundDecision::ring(); };
  call_b("+390297865403", t38_media(30800));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.progress.empty(); }));
  ASSERT_TRUE(b_->answer(b_rec_.incoming.at(0).call, t38_media(32800)));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.answered.empty(); }));
  EXPECT_EQ(a_rec_.answered[0].media.port, 32800);
}

// The state changes in a call's trace ("state: new -> calling (our INVITE sent)"), without
// their reasons, in order.
std::vector<std::string> state_changes(const Result<std::vector<std::string>>& trace) {
  std::vector<std::string> out;
  if (!trace) return out;
  for (const auto& line : *trace) {
    if (line.rfind("state: ", 0) != 0) continue;
    out.push_back(line.substr(7, line.find(" (") - 7));
  }
  return out;
}

TEST_F(UserAgentTest, AnAnsweredCallGoesThroughItsStatesOnBothSides) {
  b_rec_.decide = [](const IncomingCall&) { return InboundDecision::ring(); };
  b_rec_.on_reinvite = [](const ReinviteRequest&) -> std::optional<MediaOffer> { return t38_media(32820); };
  const CallId id = call_b("+390297865403", audio_media(30820));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.progress.empty(); }));
  const CallId b_call = b_rec_.incoming.at(0).call;
  ASSERT_TRUE(b_->answer(b_call, audio_media(32821)));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.answered.empty(); }));
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.answered.empty(); }));
  ASSERT_TRUE(a_->reinvite_t38(id, t38_offer(30822)));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.media_changed.empty(); }));
  ASSERT_TRUE(a_->hang_up(id));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.ended.empty(); }));
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.ended.empty(); }));

  EXPECT_EQ(state_changes(a_->trace(id)),
            (std::vector<std::string>{"new -> calling", "calling -> early", "early -> confirmed",
                                      "confirmed -> reinviting", "reinviting -> confirmed", "confirmed -> ending",
                                      "ending -> ended"}));
  EXPECT_EQ(state_changes(b_->trace(b_call)),
            (std::vector<std::string>{"new -> ringing", "ringing -> answering", "answering -> confirmed",
                                      "confirmed -> ended"}));
  // Each change follows the message that made it.
  auto trace = a_->trace(id);
  ASSERT_TRUE(trace);
  const auto early = std::find(trace->begin(), trace->end(), "state: calling -> early (180 or 183 received)");
  ASSERT_NE(early, trace->end());
  EXPECT_EQ(*std::prev(early), "<- 180 Ringing");
}

TEST_F(UserAgentTest, ACancelledAndARefusedCallGoThroughTheirStates) {
  b_rec_.decide = [](const IncomingCall&) { return InboundDecision::ring(); };
  const CallId cancelled = call_b("+390297865403", t38_media(30830));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.progress.empty(); }));
  ASSERT_TRUE(a_->hang_up(cancelled));
  ASSERT_TRUE(a_rec_.wait([&] { return a_rec_.ended.size() == 1; }));
  ASSERT_TRUE(b_rec_.wait([&] { return b_rec_.ended.size() == 1; }));
  EXPECT_EQ(state_changes(a_->trace(cancelled)),
            (std::vector<std::string>{"new -> calling", "calling -> early", "early -> cancelling",
                                      "cancelling -> ending", "ending -> ended"}));
  EXPECT_EQ(state_changes(b_->trace(b_rec_.incoming.at(0).call)),
            (std::vector<std::string>{"new -> ringing", "ringing -> ended"}));

  {
    std::lock_guard lock(b_rec_.mu);
    b_rec_.decide = [](const IncomingCall&) { return InboundDecision::refuse(486); };
  }
  const CallId refused = call_b("+390297865403", t38_media(30832));
  ASSERT_TRUE(a_rec_.wait([&] { return a_rec_.ended.size() == 2; }));
  ASSERT_TRUE(b_rec_.wait([&] { return b_rec_.ended.size() == 2; }));
  EXPECT_EQ(state_changes(a_->trace(refused)),
            (std::vector<std::string>{"new -> calling", "calling -> ending", "ending -> ended"}));
  EXPECT_EQ(state_changes(b_->trace(b_rec_.incoming.at(1).call)),
            (std::vector<std::string>{"new -> ringing", "ringing -> ending", "ending -> ended"}));
}

TEST_F(UserAgentTest, RingingWithoutAnswerIsCancelledAsNoAnswer) {
  Settings sa = test_settings(free_udp_port());
  sa.no_answer_timeout = 1s;
  a_.reset();
  auto ra = UserAgent::start(sa, a_rec_.handlers());
  ASSERT_TRUE(ra);
  a_ = std::move(*ra);
  b_rec_.decide = [](const IncomingCall&) { return InboundDecision::ring(); };
  call_b("+390297865403", t38_media(30900));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.failed.empty(); }));
  EXPECT_EQ(a_rec_.failed[0].failure.code, Code::k_call_no_answer);
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.ended.empty(); }));
  EXPECT_EQ(a_rec_.ended[0].reason, EndReason::kWatchdog);
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.ended.empty(); }));
}

TEST_F(UserAgentTest, TheWatchdogHangsUpACallThatOutlivesItsMaximum) {
  Settings sa = test_settings(free_udp_port());
  sa.max_call_duration = 1s;
  a_.reset();
  auto ra = UserAgent::start(sa, a_rec_.handlers());
  ASSERT_TRUE(ra);
  a_ = std::move(*ra);
  answered_audio_call();
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.ended.empty(); }));
  EXPECT_EQ(a_rec_.ended[0].reason, EndReason::kWatchdog);
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.ended.empty(); }));
  EXPECT_EQ(b_rec_.ended[0].by, Party::kRemote);
}

TEST_F(UserAgentTest, OptionsKeepAliveReportsLiveAndDeadGateways) {
  const std::string dead = "127.0.0.1:" + std::to_string(free_udp_port());
  ASSERT_TRUE(a_->monitor({b_address(), dead}));
  ASSERT_TRUE(a_rec_.wait([&] {
    bool live = false, down = false;
    for (const auto& h : a_rec_.health) {
      live = live || (h.target == b_address() && h.up);
      down = down || (h.target == dead && !h.up && h.last_status >= 400);
    }
    return live && down;
  }));
  auto health = a_->health();
  ASSERT_EQ(health.size(), 2u);
  EXPECT_TRUE(health[0].up);
  EXPECT_EQ(health[0].last_status, 200);
  EXPECT_GE(health[0].round_trip_ms, 0);
  EXPECT_FALSE(health[1].up);
}

TEST_F(UserAgentTest, BadRequestsAreRefusedWithStableCodes) {
  CallRequest r;
  r.target = "127.0.0.1:5060";
  r.number = "12ab";
  r.offer = t38_media(1);
  auto bad_number = a_->place_call(r);
  ASSERT_FALSE(bad_number);
  EXPECT_EQ(bad_number.error().code, Code::k_sip_invalid_target);
  r.number = "123";
  r.target = "sip:x@y\r\nVia: forged";
  EXPECT_FALSE(a_->place_call(r));
  r.target = "127.0.0.1:5060";
  r.offer = {};
  EXPECT_FALSE(a_->place_call(r));
  auto unknown = a_->reinvite_t38(999, t38_offer(1));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::k_sip_call_not_found);
}

TEST_F(UserAgentTest, APortInUseIsAStartFailure) {
  auto again = UserAgent::start(b_settings_, {});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::k_sip_start_failed);
}

TEST_F(UserAgentTest, CalledNumbersAreNormalisedWithTheDialPlan) {
  Settings sb = test_settings(free_udp_port());
  sb.dial_plan.country_code = "44";  // national prefix 0, as in the UK
  b_.reset();
  b_settings_ = sb;
  auto rb = UserAgent::start(sb, b_rec_.handlers());
  ASSERT_TRUE(rb);
  b_ = std::move(*rb);
  b_rec_.decide = [](const IncomingCall&) { return InboundDecision::refuse(404); };
  call_b("020 7946 0000", t38_media(31100));
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.incoming.empty(); }));
  EXPECT_EQ(b_rec_.incoming[0].request_user, "02079460000");
  EXPECT_EQ(b_rec_.incoming[0].called_number, "+442079460000");
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.failed.empty(); }));
}

TEST_F(UserAgentTest, AThrowingCallbackRefusesTheCallAndTheAgentGoesOn) {
  b_rec_.decide = [](const IncomingCall&) -> InboundDecision { throw std::runtime_error("bug"); };
  call_b("+390297865403", t38_media(31200));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.failed.empty(); }));
  EXPECT_EQ(a_rec_.failed[0].sip_status, 480);
  b_rec_.decide = [](const IncomingCall&) { return InboundDecision::answer_with(t38_media(32300)); };
  call_b("+390297865403", t38_media(31201));
  ASSERT_TRUE(a_rec_.wait([&] { return !a_rec_.answered.empty(); }));
}

TEST_F(UserAgentTest, StoppingAnAgentMidCallHangsUpTheFarEnd) {
  answered_audio_call();
  a_.reset();  // returns only once the stack has shut down
  ASSERT_TRUE(b_rec_.wait([&] { return !b_rec_.ended.empty(); }));
  EXPECT_EQ(b_rec_.ended[0].by, Party::kRemote);
  EXPECT_EQ(b_rec_.ended[0].reason, EndReason::kBye);
  EXPECT_TRUE(a_rec_.ended.empty());  // no callbacks while stopping
}

// Two agents on loopback for the transport tests: the test sets their settings (TCP,
// certificates) and b's decision, then start() runs both.
struct AgentPair {
  Recorder a_rec, b_rec;
  Settings sa = test_settings(free_udp_port());
  Settings sb = test_settings(free_udp_port());
  std::unique_ptr<UserAgent> a, b;

  AgentPair() {
    b_rec.decide = [](const IncomingCall&) { return InboundDecision::answer_with(t38_media(35000)); };
  }
  void use_tls(const std::filesystem::path& a_certs, const std::filesystem::path& b_certs) {
    sa.tls_certificate_dir = a_certs.string();
    sb.tls_certificate_dir = b_certs.string();
    sa.tls_port = free_udp_port();
    sb.tls_port = free_udp_port();
  }
  void start() {
    auto ua = UserAgent::start(sa, a_rec.handlers());
    ASSERT_TRUE(ua) << ua.error().to_string();
    a = std::move(*ua);
    auto ub = UserAgent::start(sb, b_rec.handlers());
    ASSERT_TRUE(ub) << ub.error().to_string();
    b = std::move(*ub);
  }
  // A T.38 call from a to `target` (a URI, or host:port with `number`).
  Result<CallId> call(const std::string& target, const std::string& number = {}) {
    CallRequest r;
    r.target = target;
    r.number = number;
    r.offer = t38_media(35100);
    return a->place_call(r);
  }
};

TEST(UserAgentTcp, ACallOverTcpIsAnswered) {
  AgentPair p;
  p.sa.tcp = p.sb.tcp = true;
  ASSERT_NO_FATAL_FAILURE(p.start());
  auto id = p.call("sip:+390297865403@127.0.0.1:" + std::to_string(p.sb.port) + ";transport=tcp");
  ASSERT_TRUE(id) << id.error().to_string();
  ASSERT_TRUE(p.a_rec.wait([&] { return !p.a_rec.answered.empty(); }));
  EXPECT_EQ(p.a_rec.answered[0].media.port, 35000);
  ASSERT_EQ(p.b_rec.incoming.size(), 1u);
  EXPECT_EQ(p.b_rec.incoming[0].transport, "TCP");
  ASSERT_TRUE(p.a->hang_up(*id));
  ASSERT_TRUE(p.b_rec.wait([&] { return !p.b_rec.ended.empty(); }));
}

TEST(UserAgentTcp, ARouteAddressMayNameItsTransport) {
  AgentPair p;
  p.sa.tcp = p.sb.tcp = true;
  ASSERT_NO_FATAL_FAILURE(p.start());
  const std::string address = "127.0.0.1:" + std::to_string(p.sb.port);
  auto id = p.call(address + ";transport=tcp", "+390297865403");
  ASSERT_TRUE(id) << id.error().to_string();
  ASSERT_TRUE(p.b_rec.wait([&] { return !p.b_rec.incoming.empty(); }));
  EXPECT_EQ(p.b_rec.incoming[0].called_number, "+390297865403");
  EXPECT_EQ(p.b_rec.incoming[0].transport, "TCP");
  ASSERT_TRUE(p.a_rec.wait([&] { return !p.a_rec.answered.empty(); }));
  ASSERT_TRUE(p.a->trace(*id));
  EXPECT_EQ((*p.a->trace(*id))[0], "-> INVITE sip:+390297865403@" + address + ";transport=tcp");
  ASSERT_TRUE(p.a->hang_up(*id));
  ASSERT_TRUE(p.b_rec.wait([&] { return !p.b_rec.ended.empty(); }));

  EXPECT_EQ(p.call(address + ";maddr=10.0.0.1", "+390297865403").error().code, Code::k_sip_invalid_target);
}

TEST(UserAgentTls, ACallOverTlsWithASelfSignedCertificateIsAnswered) {
  const auto certs = make_certificate_dir("ok");
  AgentPair p;
  p.use_tls(certs, certs);
  ASSERT_NO_FATAL_FAILURE(p.start());
  auto id = p.call("127.0.0.1:" + std::to_string(p.sb.tls_port) + ";transport=tls", "+390297865403");
  ASSERT_TRUE(id) << id.error().to_string();
  ASSERT_TRUE(p.a_rec.wait([&] { return !p.a_rec.answered.empty() || !p.a_rec.failed.empty(); }));
  ASSERT_TRUE(p.a_rec.failed.empty()) << p.a_rec.failed[0].error.to_string();
  EXPECT_EQ(p.a_rec.answered[0].media.port, 35000);
  ASSERT_EQ(p.b_rec.incoming.size(), 1u);
  EXPECT_EQ(p.b_rec.incoming[0].transport, "TLS");
  ASSERT_TRUE(p.a->hang_up(*id));
  ASSERT_TRUE(p.b_rec.wait([&] { return !p.b_rec.ended.empty(); }));
  std::filesystem::remove_all(certs);
}

TEST(UserAgentTls, AGatewayAddressWithTransportTlsIsPingedOverTls) {
  const auto certs = make_certificate_dir("ping");
  AgentPair p;
  p.use_tls(certs, certs);
  ASSERT_NO_FATAL_FAILURE(p.start());
  // The TLS port answers nothing on UDP: only a TLS ping can find it up.
  const std::string target = "127.0.0.1:" + std::to_string(p.sb.tls_port) + ";transport=tls";
  ASSERT_TRUE(p.a->monitor({target}));
  ASSERT_TRUE(p.a_rec.wait([&] { return !p.a_rec.health.empty(); }));
  EXPECT_EQ(p.a_rec.health[0].target, target);
  EXPECT_TRUE(p.a_rec.health[0].up) << p.a_rec.health[0].last_status;
  EXPECT_EQ(p.a_rec.health[0].last_status, 200);
  EXPECT_EQ(p.a->monitor({"127.0.0.1:5060;maddr=x"}).error().code, Code::k_sip_invalid_target);
  std::filesystem::remove_all(certs);
}

TEST(UserAgentTls, ACertificateTheCallerDoesNotTrustFailsTheCallBeforeAnyInvite) {
  const auto server = make_certificate_dir("server");
  const auto other = make_certificate_dir("other");
  AgentPair p;
  p.use_tls(other, server);  // a trusts only its own certificate
  ASSERT_NO_FATAL_FAILURE(p.start());
  ASSERT_TRUE(p.call("127.0.0.1:" + std::to_string(p.sb.tls_port) + ";transport=tls", "+390297865403"));
  ASSERT_TRUE(p.a_rec.wait([&] { return !p.a_rec.answered.empty() || !p.a_rec.failed.empty(); }));
  ASSERT_EQ(p.a_rec.failed.size(), 1u);
  EXPECT_TRUE(p.a_rec.failed[0].failure.try_next_address) << p.a_rec.failed[0].error.to_string();
  // The refused handshake closes the connection, which fails the INVITE there and then
  // (the stack's 503), not when the transaction times out (408).
  EXPECT_EQ(p.a_rec.failed[0].sip_status, 503) << p.a_rec.failed[0].error.to_string();
  EXPECT_TRUE(p.b_rec.incoming.empty());
  std::filesystem::remove_all(server);
  std::filesystem::remove_all(other);
}

TEST(UserAgentTls, ACertificateDirectoryWithoutItsFilesStopsTheStart) {
  Recorder rec;
  Settings s = test_settings(free_udp_port());
  s.tls_certificate_dir = "/nonexistent/faxbridge-certs";
  auto ua = UserAgent::start(s, rec.handlers());
  ASSERT_FALSE(ua);
  EXPECT_EQ(ua.error().code, Code::k_sip_start_failed);
}

TEST(UserAgentTimeout, ASilentAddressIsARouteFailureAfterTheTransactionTimeout) {
  // A bound socket that never answers: no ICMP, so only timer B ends the INVITE.
  const int silent_port = free_udp_port();
  int silent = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(silent_port));
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  Recorder rec;
  Settings s = test_settings(free_udp_port());
  s.transaction_timeout = 2s;
  auto ua = UserAgent::start(s, rec.handlers());
  ASSERT_TRUE(ua);
  CallRequest r;
  r.target = "127.0.0.1:" + std::to_string(silent_port);
  r.number = "123";
  r.offer = t38_media(30600);
  ASSERT_TRUE((*ua)->place_call(r));
  ASSERT_TRUE(rec.wait([&] { return !rec.failed.empty(); }, 20s));
  EXPECT_EQ(rec.failed[0].sip_status, 408);
  EXPECT_TRUE(rec.failed[0].local);
  EXPECT_EQ(rec.failed[0].failure.code, Code::k_call_route_failed);
  EXPECT_TRUE(rec.failed[0].failure.try_next_address);
  ASSERT_TRUE(rec.wait([&] { return !rec.ended.empty(); }, 20s));
  ::close(silent);
}

}  // namespace
}  // namespace faxbridge::sip
