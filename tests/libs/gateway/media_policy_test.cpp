// The gateway's media decisions, row by row (media_policy.hpp is the table).
#include "faxbridge/gateway/media_policy.hpp"

#include <gtest/gtest.h>

namespace faxbridge::gateway {
namespace {

using namespace std::chrono_literals;

OutboundMediaPlan outbound(T38Policy policy, bool allow_g711, bool prefers_g711) {
  return decide_outbound({policy, allow_g711, prefers_g711});
}

TEST(MediaPolicy, ParsesTheRoutePolicies) {
  EXPECT_EQ(parse_t38_policy("auto"), T38Policy::kAuto);
  EXPECT_EQ(parse_t38_policy("require"), T38Policy::kRequire);
  EXPECT_EQ(parse_t38_policy("off"), T38Policy::kOff);
  EXPECT_FALSE(parse_t38_policy("Auto"));
  EXPECT_FALSE(parse_t38_policy(""));
  for (auto p : {T38Policy::kAuto, T38Policy::kRequire, T38Policy::kOff}) {
    EXPECT_EQ(parse_t38_policy(t38_policy_name(p)), p);
  }
}

TEST(MediaPolicy, RequireOffersT38AloneWhateverTheSettingsAndTheNumberSay) {
  for (bool allow : {false, true}) {
    for (bool prefers : {false, true}) {
      const auto p = outbound(T38Policy::kRequire, allow, prefers);
      EXPECT_EQ(p.offer, FirstOffer::kT38);
      EXPECT_FALSE(p.audio_allowed);
      EXPECT_FALSE(p.reinvite_on_tone);
    }
  }
}

TEST(MediaPolicy, OffStaysOnAudioAndRefusesTheFarEndsT38) {
  for (bool allow : {false, true}) {
    const auto p = outbound(T38Policy::kOff, allow, false);
    EXPECT_EQ(p.offer, FirstOffer::kAudio);
    EXPECT_TRUE(p.audio_allowed);
    EXPECT_FALSE(p.reinvite_on_tone);
    EXPECT_FALSE(p.accept_remote_t38);
  }
}

TEST(MediaPolicy, AutoWithoutG711OffersT38AloneEvenToANumberThatFailedT38) {
  for (bool prefers : {false, true}) {
    const auto p = outbound(T38Policy::kAuto, false, prefers);
    EXPECT_EQ(p.offer, FirstOffer::kT38);
    EXPECT_FALSE(p.audio_allowed);
  }
}

TEST(MediaPolicy, AutoWithG711StartsOnAudioAndSwitchesOnTheFaxTones) {
  const auto p = outbound(T38Policy::kAuto, true, false);
  EXPECT_EQ(p.offer, FirstOffer::kAudio);
  EXPECT_TRUE(p.audio_allowed);
  EXPECT_TRUE(p.reinvite_on_tone);
  EXPECT_TRUE(p.accept_remote_t38);
}

TEST(MediaPolicy, ANumberThatFailedT38StaysOnG711ButMayStillBeAskedForT38) {
  const auto p = outbound(T38Policy::kAuto, true, true);
  EXPECT_EQ(p.offer, FirstOffer::kAudio);
  EXPECT_TRUE(p.audio_allowed);
  EXPECT_FALSE(p.reinvite_on_tone);
  EXPECT_TRUE(p.accept_remote_t38);
  EXPECT_FALSE(p.why.empty());
}

TEST(MediaPolicy, InboundT38IsAnsweredWithT38AndAudioOnlyWithAudioThenSwitched) {
  auto p = decide_inbound({false, true, true});
  EXPECT_EQ(p.answer, InboundAnswer::kT38);
  p = decide_inbound({false, true, false});
  EXPECT_EQ(p.answer, InboundAnswer::kT38);
  p = decide_inbound({false, false, true});
  EXPECT_EQ(p.answer, InboundAnswer::kAudio);
  EXPECT_TRUE(p.reinvite_on_tone);
  EXPECT_TRUE(p.accept_remote_t38);
}

TEST(MediaPolicy, DisabledT38ForIncomingAnswersAudioAndStaysThere) {
  for (bool t38 : {false, true}) {
    const auto p = decide_inbound({true, t38, true});
    EXPECT_EQ(p.answer, InboundAnswer::kAudio);
    EXPECT_FALSE(p.reinvite_on_tone);
    EXPECT_FALSE(p.accept_remote_t38);
  }
}

TEST(MediaPolicy, DisabledT38ForIncomingRefusesAT38OnlyOfferWith488AndSaysWhy) {
  const auto p = decide_inbound({true, true, false});
  EXPECT_EQ(p.answer, InboundAnswer::kRefuse);
  EXPECT_EQ(p.refuse_status, 488);
  EXPECT_NE(p.refuse_reason.find("T.38 is disabled for incoming faxes"), std::string::npos) << p.refuse_reason;
}

TEST(MediaPolicy, AnOfferWithNeitherT38NorAudioIsRefusedWith488) {
  for (bool disabled : {false, true}) {
    const auto p = decide_inbound({disabled, false, false});
    EXPECT_EQ(p.answer, InboundAnswer::kRefuse);
    EXPECT_EQ(p.refuse_status, 488);
    EXPECT_FALSE(p.refuse_reason.empty());
  }
}

TEST(MediaPolicy, ReinviteRefusalsAreClassifiedAsRfc3261Says) {
  EXPECT_EQ(classify_reinvite_refusal(491), ReinviteRefusal::kGlare);
  for (int s : {488, 606, 415, 501, 403, 603}) {
    EXPECT_EQ(classify_reinvite_refusal(s), ReinviteRefusal::kT38Refused) << s;
  }
  EXPECT_EQ(classify_reinvite_refusal(408), ReinviteRefusal::kDialogGone);
  EXPECT_EQ(classify_reinvite_refusal(481), ReinviteRefusal::kDialogGone);
  EXPECT_EQ(classify_reinvite_refusal(500), ReinviteRefusal::kKeepMedia);
  EXPECT_EQ(classify_reinvite_refusal(503), ReinviteRefusal::kKeepMedia);
}

TEST(MediaPolicy, OnlyMediaRefusalsOfAT38OfferCountAsT38Failures) {
  for (int s : {488, 606, 415}) EXPECT_TRUE(is_t38_offer_refused(s)) << s;
  for (int s : {404, 486, 480, 503, 408, 603}) EXPECT_FALSE(is_t38_offer_refused(s)) << s;
}

TEST(MediaPolicy, GlareRetryTimersKeepTheTwoSidesApart) {
  for (std::uint32_t r : {0u, 1u, 189u, 190u, 200u, 201u, 4000000000u}) {
    const auto owner = glare_retry_delay(true, r);
    const auto other = glare_retry_delay(false, r);
    EXPECT_GE(owner, 2100ms);
    EXPECT_LE(owner, 4000ms);
    EXPECT_EQ(owner.count() % 10, 0);
    EXPECT_GE(other, 0ms);
    EXPECT_LE(other, 2000ms);
    EXPECT_EQ(other.count() % 10, 0);
  }
  EXPECT_EQ(glare_retry_delay(true, 0), 2100ms);
  EXPECT_EQ(glare_retry_delay(true, 189), 3990ms);
  EXPECT_EQ(glare_retry_delay(false, 200), 2000ms);
}

TEST(MediaPolicy, TheSendersFaxNumberIsTheCallerIdAndTheTsid) {
  const auto id = caller_identity("", "+39 02 9786-5403", "+39 02 1111", "Faxbridge");
  EXPECT_EQ(id.from_user, "+390297865403");
  EXPECT_EQ(id.tsid, "+390297865403");
}

TEST(MediaPolicy, TheCompanyFaxNumberStandsInForASenderWithoutOne) {
  const auto id = caller_identity("", "", "(02) 1111-222", "Faxbridge");
  EXPECT_EQ(id.from_user, "021111222");
  EXPECT_EQ(id.tsid, "021111222");
}

TEST(MediaPolicy, TheCompanyTsidOverridesTheCallingNumberAsTsidOnly) {
  const auto id = caller_identity("ACME Milano +39 02 1234 5678", "403", "+39021111", "Faxbridge");
  EXPECT_EQ(id.from_user, "403");
  EXPECT_EQ(id.tsid, "ACME Milano +39 02 1");  // 20 characters, T.30 section 5.3.6.2.4
}

TEST(MediaPolicy, WithNothingConfiguredTheGatewaysIdentApplies) {
  const auto id = caller_identity("", "", "", "Faxbridge");
  EXPECT_EQ(id.from_user, "");
  EXPECT_EQ(id.tsid, "Faxbridge");
  EXPECT_EQ(caller_identity("", "+", "", "Faxbridge").from_user, "");
}

TEST(MediaPolicy, TheCsidIsTheNumberTheCallerDialled) {
  EXPECT_EQ(receiving_ident("+390297865403", "Faxbridge"), "+390297865403");
  EXPECT_EQ(receiving_ident("", "Faxbridge"), "Faxbridge");
}

}  // namespace
}  // namespace faxbridge::gateway
