// Hostile datagrams at a live agent: raw garbage, truncated and broken INVITEs, INVITEs
// with garbage SDP. The agent must answer what SIP requires (400/488), surface none of
// them as calls, and still complete a valid call afterwards.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "faxbridge/sip/user_agent.hpp"
#include "sip_test_support.hpp"

namespace faxbridge::sip {
namespace {

using namespace testing;

TEST(MalformedSip, AFloodOfBadDatagramsLeavesTheAgentAnsweringCalls) {
  Recorder b_rec;
  b_rec.decide = [](const IncomingCall&) { return InboundDecision::answer_with(t38_media(33000)); };
  Settings sb = test_settings(free_udp_port());
  auto b = UserAgent::start(sb, b_rec.handlers());
  ASSERT_TRUE(b) << b.error().to_string();
  RawUdp raw(sb.port);

  // 1. Raw garbage: random bytes of random sizes, fixed seed so a failure replays.
  std::mt19937 rng(20261125);
  for (int i = 0; i < 300; ++i) {
    std::string junk(1 + rng() % 1400, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    raw.send(junk);
  }
  // 2. Things that look like SIP but are not.
  raw.send("INVITE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;bran");
  raw.send("INVITE\r\n\r\n");
  raw.send("SIP/2.0 200 OK\r\n\r\n");
  raw.send(std::string(60000, 'A'));
  raw.send("OPTIONS sip:x SIP/2.0\r\nVia: " + std::string(8000, 'v') + "\r\n\r\n");
  const std::string good_sdp =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=image 40000 udptl t38\r\na=T38FaxVersion:0\r\n";
  std::string truncated = invite(sb.port, raw.port(), "trunc1", good_sdp);
  raw.send(truncated.substr(0, truncated.size() - 30));  // Content-Length larger than body
  // An INVITE without Call-ID is a request SIP must answer: 400 Bad Request.
  const std::string bad_request =
      raw.request(invite(sb.port, raw.port(), "nocallid1", good_sdp, false), "SIP/2.0 400", 15s);
  EXPECT_FALSE(bad_request.empty());

  // 3. Well-formed INVITEs with bodies that are not usable SDP: 488 each.
  int n = 0;
  for (const std::string& body :
       {std::string("this is not sdp at all"), std::string("v=0\r\nm=image 5 udptl t38\r\n"),
        std::string("v=0\r\nc=IN IP4 127.0.0.1\r\nm=video 5000 RTP/AVP 96\r\n"),
        std::string("v=0\r\nc=IN IP4 127.0.0.1\r\nm=image 99999 udptl t38\r\n"),
        std::string(3000, '\x01')}) {
    const std::string tag = "bad" + std::to_string(++n);
    const std::string reply = raw.request(invite(sb.port, raw.port(), tag, body), "SIP/2.0 488", 15s);
    ASSERT_FALSE(reply.empty()) << "no 488 for body: " << body.substr(0, 40);
    EXPECT_NE(reply.find("Call-ID: " + tag), std::string::npos) << reply;
  }
  EXPECT_TRUE(b_rec.incoming.empty());  // none of it reached the application

  // 4. A valid call still goes through.
  Recorder a_rec;
  auto a = UserAgent::start(test_settings(free_udp_port()), a_rec.handlers());
  ASSERT_TRUE(a);
  CallRequest r;
  r.target = "127.0.0.1:" + std::to_string(sb.port);
  r.number = "+390297865403";
  r.offer = t38_media(31000);
  auto id = (*a)->place_call(r);
  ASSERT_TRUE(id);
  ASSERT_TRUE(a_rec.wait([&] { return !a_rec.answered.empty(); }));
  EXPECT_EQ(a_rec.answered[0].media.kind, MediaKind::kT38);
  EXPECT_EQ(a_rec.answered[0].media.port, 33000);
  ASSERT_TRUE((*a)->hang_up(*id));
  ASSERT_TRUE(b_rec.wait([&] { return !b_rec.ended.empty(); }));
  EXPECT_EQ(b_rec.incoming.size(), 1u);
}

}  // namespace
}  // namespace faxbridge::sip
