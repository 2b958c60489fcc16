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

// Transport and format names are case-insensitive (RFC 4566 section 5.14), as attribute
// names already are: several gateways write "UDPTL T38".
TEST(Sdp, AT38StreamWrittenInCapitalsIsT38AndIsAnswered) {
  auto sdp = parse_sdp(
      "v=0\r\no=gw 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=IMAGE 40000 UDPTL T38\r\na=T38FaxVersion:0\r\n");
  ASSERT_TRUE(sdp) << sdp.error().to_string();
  auto m = select_media(*sdp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MediaKind::kT38);
  EXPECT_EQ(m->port, 40000);
  MediaOffer answer;
  answer.t38 = T38Offer{4010, {"T38FaxVersion:0"}};
  const std::string text = build_answer_sdp(answer, *sdp, "192.0.2.1", 7, 1);
  EXPECT_NE(text.find("m=image 4010 udptl t38\r\n"), std::string::npos) << text;
  EXPECT_EQ(text.find(" 0 UDPTL"), std::string::npos) << text;  // not refused with port 0
}

TEST(Sdp, AT38StreamOverAnotherTransportIsNotTaken) {
  auto sdp = parse_sdp("v=0\r\nc=IN IP4 192.0.2.10\r\nm=image 40000 tcptl t38\r\n");
  ASSERT_TRUE(sdp) << sdp.error().to_string();
  EXPECT_FALSE(select_media(*sdp));
}

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

// RFC 2198 redundancy. A far end's audio section with the given m= formats and a= lines.
std::optional<NegotiatedMedia> audio_with(const std::string& formats, const std::string& attributes) {
  auto sdp = parse_sdp("v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n"
                       "m=audio 7000 RTP/AVP " + formats + "\r\n" + attributes);
  EXPECT_TRUE(sdp) << sdp.error().to_string();
  if (!sdp) return std::nullopt;
  return select_media(*sdp, false);
}

TEST(SdpRed, AnOfferListsRedFirstWithItsFmtpNamingTheFirstCodec) {
  MediaOffer offer;
  offer.audio = AudioOffer{4020};
  offer.audio->redundancy = 2;
  const std::string text = build_sdp(offer, "127.0.0.1", 1, 1);
  EXPECT_NE(text.find("m=audio 4020 RTP/AVP 99 8 0 101\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=rtpmap:99 red/8000\r\na=fmtp:99 8/8/8\r\n"), std::string::npos) << text;
  // u-law alone: RED repeats u-law.
  offer.audio->pcma = false;
  offer.audio->red_payload_type = 100;
  offer.audio->redundancy = 1;
  const std::string ulaw = build_sdp(offer, "127.0.0.1", 1, 2);
  EXPECT_NE(ulaw.find("m=audio 4020 RTP/AVP 100 0 101\r\n"), std::string::npos) << ulaw;
  EXPECT_NE(ulaw.find("a=fmtp:100 0/0\r\n"), std::string::npos) << ulaw;
  // Our own offer, read back as a far end would: RED under 100, u-law primary.
  auto parsed = parse_sdp(ulaw);
  ASSERT_TRUE(parsed);
  auto m = select_media(*parsed, false);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MediaKind::kPcmu);
  EXPECT_EQ(m->red_payload_type, 100);
}

TEST(SdpRed, WithoutRedundancyTheOfferIsPlainG711) {
  MediaOffer offer;
  offer.audio = AudioOffer{4020};
  const std::string text = build_sdp(offer, "127.0.0.1", 1, 1);
  EXPECT_EQ(text.find("red/8000"), std::string::npos) << text;
  EXPECT_EQ(select_media(*parse_sdp(text), false)->red_payload_type, -1);
}

TEST(SdpRed, RecognisesRedUnderTheFarEndsOwnPayloadType) {
  auto m = audio_with("97 8 0", "a=rtpmap:97 RED/8000/1\r\na=fmtp:97 8/8\r\na=rtpmap:8 PCMA/8000\r\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MediaKind::kPcma);
  EXPECT_EQ(m->payload_type, 8);
  EXPECT_EQ(m->red_payload_type, 97);
}

TEST(SdpRed, AcceptsRedWithoutFmtpForTheCodecWeSettleOn) {
  auto m = audio_with("0 121", "a=rtpmap:121 red/8000\r\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MediaKind::kPcmu);
  EXPECT_EQ(m->red_payload_type, 121);
}

TEST(SdpRed, IgnoresRedWhoseFmtpNamesAnotherCodec) {
  // RED over PCMA, but the far end's first G.711 codec (the one we run) is PCMU.
  auto m = audio_with("98 0 8", "a=rtpmap:98 red/8000\r\na=fmtp:98 8/8\r\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MediaKind::kPcmu);
  EXPECT_EQ(m->red_payload_type, -1);
  // RFC 2198's own example: PCMU primary, GSM (3) redundant: not ours to rebuild.
  EXPECT_EQ(audio_with("121 0 3", "a=rtpmap:121 red/8000/1\r\na=fmtp:121 0/3\r\n")->red_payload_type, -1);
}

TEST(SdpRed, TakesTheRedTypeThatCarriesOurCodecWhenThereAreSeveral) {
  auto m = audio_with("96 97 0 8", "a=rtpmap:96 red/8000\r\na=fmtp:96 8/8\r\n"
                                   "a=rtpmap:97 red/8000\r\na=fmtp:97 0/0/0\r\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MediaKind::kPcmu);
  EXPECT_EQ(m->red_payload_type, 97);
}

TEST(SdpRed, MalformedRedLinesAreIgnoredAndTheCallIsPlainG711) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"99 8", ""},                                                   // no rtpmap at all
      {"99 8", "a=fmtp:99 8/8\r\n"},                                  // fmtp without rtpmap
      {"99 8", "a=rtpmap:99 red/16000\r\n"},                          // wrong clock rate
      {"99 8", "a=rtpmap:99 redundant/8000\r\n"},                     // not RED
      {"99 8", "a=rtpmap:99 red/8000\r\na=fmtp:99 \r\n"},             // empty fmtp
      {"99 8", "a=rtpmap:99 red/8000\r\na=fmtp:99 8//8\r\n"},         // empty block
      {"99 8", "a=rtpmap:99 red/8000\r\na=fmtp:99 8/8/\r\n"},         // trailing slash
      {"99 8", "a=rtpmap:99 red/8000\r\na=fmtp:99 garbage\r\n"},
      {"99 8", "a=rtpmap:99 red/8000\r\na=fmtp:99 8/999\r\n"},        // not a payload type
      {"99 8", "a=rtpmap:99 red/8000\r\na=fmtp:99 8/-8\r\n"},
      {"99 8", "a=rtpmap:99 red/8000\r\na=fmtp:99 8/8;level=2\r\n"},
      {"8", "a=rtpmap:99 red/8000\r\n"},                              // rtpmap for a type not listed
      {"abc 8", "a=rtpmap:abc red/8000\r\n"},                         // not a number
      {"200 8", "a=rtpmap:200 red/8000\r\n"},                         // beyond 7 bits
      {"8 0", "a=rtpmap:0 red/8000\r\n"},                             // a static G.711 type
      {"99 8", "a=rtpmap:99\r\na=rtpmap:\r\na=rtpmap\r\na=fmtp:99\r\n"},  // truncated lines
      {"99 8", std::string("a=rtpmap:99 red/8000\r\na=fmtp:99 8/8") + std::string(1, '\0') + "\r\n"},
  };
  for (const auto& [formats, attributes] : cases) {
    auto m = audio_with(formats, attributes);
    ASSERT_TRUE(m) << formats << " | " << attributes;
    EXPECT_EQ(m->kind, MediaKind::kPcma) << attributes;
    EXPECT_EQ(m->payload_type, 8) << attributes;
    EXPECT_EQ(m->red_payload_type, -1) << formats << " | " << attributes;
  }
}

TEST(SdpRed, AnAnswerKeepsTheOfferersRedNumberAndDropsRedTheOfferLacked) {
  auto offer = parse_sdp("v=0\r\nc=IN IP4 192.0.2.5\r\nm=audio 7000 RTP/AVP 97 8 0\r\n"
                         "a=rtpmap:97 red/8000\r\na=fmtp:97 8/8\r\n");
  ASSERT_TRUE(offer);
  const auto offered = select_media(*offer, false);
  ASSERT_EQ(offered->red_payload_type, 97);
  MediaOffer answer;
  answer.audio = AudioOffer{6000, true, false, false, 3, offered->red_payload_type};
  const std::string text = build_answer_sdp(answer, *offer, "127.0.0.1", 3, 1);
  EXPECT_NE(text.find("m=audio 6000 RTP/AVP 97 8\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=rtpmap:97 red/8000\r\na=fmtp:97 8/8/8/8\r\n"), std::string::npos) << text;
  EXPECT_EQ(select_media(*parse_sdp(text), false)->red_payload_type, 97);

  // The same answer to an offer without RED (RFC 3264 6.1: nothing the offer lacked).
  auto plain = parse_sdp("v=0\r\nc=IN IP4 192.0.2.5\r\nm=audio 7000 RTP/AVP 8 0\r\n");
  ASSERT_TRUE(plain);
  const std::string no_red = build_answer_sdp(answer, *plain, "127.0.0.1", 3, 1);
  EXPECT_NE(no_red.find("m=audio 6000 RTP/AVP 8\r\n"), std::string::npos) << no_red;
  EXPECT_EQ(no_red.find("red/8000"), std::string::npos) << no_red;
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
