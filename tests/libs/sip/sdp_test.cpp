#include "faxbridge/sip/sdp.hpp"

#include <gtest/gtest.h>

#include "faxbridge/sip/status.hpp"

namespace faxbridge::sip {
namespace {

constexpr const char* kT38Offer =
    "v=0\r\n"
    "o=gw 1234 5678 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=image 40000 udptl t38\r\n"
    "a=T38FaxVersion:0\r\n"
    "a=T38MaxBitRate:14400\r\n"
    "a=T38FaxUdpEC:t38UDPRedundancy\r\n";

TEST(Sdp, ParsesAT38OfferWithItsAttributeLines) {
  auto sdp = parse_sdp(kT38Offer);
  ASSERT_TRUE(sdp) << sdp.error().to_string();
  EXPECT_EQ(sdp->origin_session_id, "1234");
  EXPECT_EQ(sdp->origin_version, "5678");
  EXPECT_EQ(sdp->connection_address, "192.0.2.10");
  ASSERT_EQ(sdp->media.size(), 1u);
  EXPECT_EQ(sdp->media[0].media, "image");
  EXPECT_EQ(sdp->media[0].port, 40000);
  EXPECT_EQ(sdp->media[0].protocol, "udptl");
  auto m = select_media(*sdp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MediaKind::kT38);
  EXPECT_EQ(m->address, "192.0.2.10");
  EXPECT_EQ(m->port, 40000);
  EXPECT_EQ(m->t38_attributes,
            (std::vector<std::string>{"T38FaxVersion:0", "T38MaxBitRate:14400",
                                      "T38FaxUdpEC:t38UDPRedundancy"}));
}

TEST(Sdp, PicksTheFarEndsFirstG711CodecAndAStreamLevelAddress) {
  auto sdp = parse_sdp(
      "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n"
      "m=audio 5004 RTP/AVP 18 0 8 101\nc=IN IP4 198.51.100.7\na=rtpmap:0 PCMU/8000\n");
  ASSERT_TRUE(sdp);
  auto m = select_media(*sdp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MediaKind::kPcmu);
  EXPECT_EQ(m->payload_type, 0);
  EXPECT_EQ(m->address, "198.51.100.7");
}

TEST(Sdp, PrefersT38WhenBothAreOfferedUnlessAudioIsPreferred) {
  MediaOffer both;
  both.t38 = T38Offer{4000, {"T38FaxVersion:0"}};
  both.audio = AudioOffer{4002};
  auto sdp = parse_sdp(build_sdp(both, "127.0.0.1", 7, 1));
  ASSERT_TRUE(sdp);
  EXPECT_EQ(select_media(*sdp, true)->kind, MediaKind::kT38);
  EXPECT_EQ(select_media(*sdp, false)->kind, MediaKind::kPcma);
  EXPECT_EQ(select_media(*sdp, false)->port, 4002);
}

TEST(Sdp, BuildsWhatItParses) {
  MediaOffer t38;
  t38.t38 = T38Offer{4010, {"T38FaxVersion:0", "T38FaxMaxDatagram:400"}};
  const std::string text = build_sdp(t38, "127.0.0.1", 42, 3);
  EXPECT_NE(text.find("m=image 4010 udptl t38\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=T38FaxMaxDatagram:400\r\n"), std::string::npos);
  EXPECT_NE(text.find("o=faxbridge 42 3 IN IP4 127.0.0.1\r\n"), std::string::npos);
  MediaOffer audio;
  audio.audio = AudioOffer{4020};
  EXPECT_NE(build_sdp(audio, "127.0.0.1", 1, 1).find("m=audio 4020 RTP/AVP 8 0 101\r\n"),
            std::string::npos);
}

TEST(Sdp, AnAnswerMirrorsTheOffersLinesAndRejectsWhatItDoesNotTake) {
  // RFC 3264 section 6: as many m= lines as the offer, in its order, port 0 for refusals.
  MediaOffer both;
  both.t38 = T38Offer{4000, {"T38FaxVersion:0"}};
  both.audio = AudioOffer{4002, true, true, false};
  auto offer = parse_sdp(build_sdp(both, "192.0.2.1", 9, 1) + "m=video 5000 RTP/AVP 96\r\n");
  ASSERT_TRUE(offer) << offer.error().to_string();
  MediaOffer audio_only;
  audio_only.audio = AudioOffer{6000, true, false, false};
  auto answer = parse_sdp(build_answer_sdp(audio_only, *offer, "127.0.0.1", 3, 1));
  ASSERT_TRUE(answer) << answer.error().to_string();
  ASSERT_EQ(answer->media.size(), 3u);
  EXPECT_EQ(answer->media[0].media, "image");
  EXPECT_EQ(answer->media[0].port, 0);
  EXPECT_EQ(answer->media[0].formats, std::vector<std::string>{"t38"});
  EXPECT_EQ(answer->media[1].media, "audio");
  EXPECT_EQ(answer->media[1].port, 6000);
  EXPECT_EQ(answer->media[1].formats, std::vector<std::string>{"8"});
  EXPECT_EQ(answer->media[2].media, "video");
  EXPECT_EQ(answer->media[2].port, 0);
  auto chosen = select_media(*answer);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->kind, MediaKind::kPcma);

  MediaOffer t38_only;
  t38_only.t38 = T38Offer{6002, {"T38FaxVersion:0"}};
  answer = parse_sdp(build_answer_sdp(t38_only, *offer, "127.0.0.1", 3, 2));
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->media.size(), 3u);
  EXPECT_EQ(answer->media[0].port, 6002);
  EXPECT_EQ(answer->media[1].port, 0);
  EXPECT_EQ(select_media(*answer)->kind, MediaKind::kT38);
}

TEST(Sdp, RefusesGarbageWithTheSdpCode) {
  for (const char* bad : {"", "garbage", "hello world\r\n", "v=0\r\nc=IN IP4 1.2.3.4\r\n",
                          "v=0\r\nm=image notaport udptl t38\r\n",
                          "v=0\r\nm=image 4000 udptl t38\r\n",  // no c= anywhere
                          "v=0\r\nc=nonsense\r\nm=audio 1 RTP/AVP 0\r\n",
                          "v=0\r\nm=audio 70000 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\n"}) {
    auto r = parse_sdp(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Code::k_fax_sdp_invalid) << bad;
  }
}

TEST(Sdp, FindsNothingUsableInARejectedOrUnknownStream) {
  auto sdp = parse_sdp("v=0\nc=IN IP4 1.2.3.4\nm=image 0 udptl t38\nm=video 5000 RTP/AVP 96\n");
  ASSERT_TRUE(sdp);
  EXPECT_FALSE(select_media(*sdp));
}

TEST(SipStatus, MapsFinalStatusesToTheRoutersClasses) {
  EXPECT_EQ(classify_final_status(486, false).code, Code::k_call_busy);
  EXPECT_EQ(classify_final_status(600, false).code, Code::k_call_busy);
  for (int s : {408, 480, 487}) EXPECT_EQ(classify_final_status(s, false).code, Code::k_call_no_answer);
  for (int s : {404, 484, 604}) {
    EXPECT_EQ(classify_final_status(s, false).code, Code::k_call_invalid_number);
  }
  EXPECT_EQ(classify_final_status(403, false).code, Code::k_call_not_authorised);
  EXPECT_EQ(classify_final_status(488, false).code, Code::k_call_media_refused);
  EXPECT_EQ(classify_final_status(420, false).code, Code::k_call_rejected);
  for (int s : {500, 502, 503, 504}) {
    EXPECT_EQ(classify_final_status(s, false).code, Code::k_call_route_failed);
    EXPECT_TRUE(classify_final_status(s, false).try_next_address);
  }
  EXPECT_FALSE(classify_final_status(486, false).try_next_address);
}

TEST(SipStatus, AStatusTheStackMadeUpIsARouteFailure) {
  auto f = classify_final_status(408, true);
  EXPECT_EQ(f.code, Code::k_call_route_failed);
  EXPECT_TRUE(f.try_next_address);
}

TEST(SipStatus, BusyAndNoAnswerAreRetryableInvalidNumberIsNot) {
  EXPECT_EQ(code_kind(Code::k_call_busy), ErrorKind::kAborted);
  EXPECT_EQ(code_kind(Code::k_call_no_answer), ErrorKind::kAborted);
  EXPECT_EQ(code_kind(Code::k_call_invalid_number), ErrorKind::kFailedPrecondition);
  EXPECT_EQ(code_kind(Code::k_call_not_authorised), ErrorKind::kPermissionDenied);
}

}  // namespace
}  // namespace faxbridge::sip
