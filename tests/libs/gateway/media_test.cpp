// Audio (G.711) and the switch to T.38 between two real gateways over SIP/UDP on 127.0.0.1
// (gateway_fixture.hpp): gateway A places the calls, gateway B answers for user 403. The
// settings are the administrator's ("Allow G.711 for outgoing faxes", "Disable T.38 for
// incoming faxes"), changed while the gateways run. RFC 2198 redundancy on G.711
// (FAXBRIDGE_GATEWAY_AUDIO_REDUNDANCY) between the two, and offered by SIPp under its own
// payload type.
#include "../sip/sip_test_support.hpp"
#include "gateway_fixture.hpp"

namespace faxbridge::gateway {
namespace {

class GatewayMediaTest : public GatewayTest {
 protected:
  // Waits for the job to end (sent or failed) and returns its state.
  std::string finished_state(std::int64_t job) {
    EXPECT_TRUE(eventually([&] { return job_state(job) == "sent" || job_state(job) == "failed"; }, 180s))
        << job_state(job);
    return job_state(job);
  }
  std::string attempt(std::int64_t job, const std::string& columns) {
    return field("SELECT " + columns + " FROM attempts WHERE job_id = " + std::to_string(job));
  }
  // The job went out whole on `media` (t38, g711a) and B stored the one page it received.
  void expect_sent_and_received(std::int64_t job, const std::string& media) {
    ASSERT_EQ(finished_state(job), "sent") << attempt(job, "error_code");
    EXPECT_EQ(attempt(job, "outcome || '/' || media || '/' || pages_sent"), "sent/" + media + "/1");
    ASSERT_TRUE(eventually([&] { return field("SELECT count(*) FROM received_faxes") == "1"; }, 30s));
    EXPECT_EQ(field("SELECT media || '/' || pages FROM received_faxes"), media + "/1");
  }
  std::string remembered(const std::string& number) {
    return field("SELECT count(*) FROM remote_capabilities WHERE prefer_g711 AND number = '" + number + "'");
  }
  // A fax from A to B on a route without T.38 (G.711 only), each gateway repeating this
  // many earlier frames when the other agrees; the attempt and the received fax checked.
  std::pair<Gateway*, Gateway*> g711_fax_with_redundancy(int on_a, int on_b) {
    const auto alice = add_user("alice", std::nullopt);
    add_user("bob", "403");
    auto [a, b] = start_pair([&](GatewaySettings& s) { s.audio_redundancy = on_a; },
                             [&](GatewaySettings& s) { s.audio_redundancy = on_b; });
    if (a == nullptr || b == nullptr) return {nullptr, nullptr};
    sql("UPDATE routes SET t38_policy = 'off' WHERE is_default");
    expect_sent_and_received(ready_job("403", alice), "g711a");
    return {a, b};
  }
};

TEST_F(GatewayMediaTest, AnAudioCallMovesToT38ByReinviteAndTheFaxIsSent) {
  set_setting("sip.allow_g711_outgoing", "true");
  // Who we say we are: the company number as caller id, company.tsid as TSID.
  set_setting("company.fax", "\"+39 02 1111 222\"");
  set_setting("company.tsid", "\"ACME Fax\"");
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  auto [a, b] = start_pair();
  ASSERT_TRUE(a != nullptr && b != nullptr);

  const auto job = ready_job("403", alice);
  ASSERT_NO_FATAL_FAILURE(expect_sent_and_received(job, "t38"));
  EXPECT_EQ(field("SELECT caller_number || '/' || remote_station_id FROM received_faxes"), "+39021111222/ACME Fax");
  EXPECT_EQ(attempt(job, "remote_station_id"), "403");  // B's CSID: the number A dialled
  // Both ends started on audio and moved to T.38 (whichever side's re-INVITE won).
  EXPECT_EQ(a->stats().t38_switches, 1u);
  EXPECT_EQ(b->stats().t38_switches, 1u);
  EXPECT_GE(a->stats().t38_reinvites + b->stats().t38_reinvites, 1u);
  EXPECT_EQ(remembered("403"), "0");
}

TEST_F(GatewayMediaTest, WithT38DisabledForIncomingTheFaxGoesThroughOnG711AndTheNumberIsRemembered) {
  set_setting("sip.allow_g711_outgoing", "true");
  set_setting("sip.disable_t38_incoming", "true");
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  auto [a, b] = start_pair();
  ASSERT_TRUE(a != nullptr && b != nullptr);

  ASSERT_NO_FATAL_FAILURE(expect_sent_and_received(ready_job("403", alice), "g711a"));
  // A asked for T.38 on the fax tones, B refused it (488) and the call stayed on G.711.
  EXPECT_GE(a->stats().t38_reinvites, 1u);
  EXPECT_EQ(a->stats().t38_switches, 0u);
  EXPECT_EQ(b->stats().t38_switches, 0u);
  EXPECT_EQ(remembered("403"), "1");
}

TEST_F(GatewayMediaTest, ARouteWithT38OffStaysOnG711AndRefusesTheAnsweringGatewaysReinvite) {
  // "Allow G.711" is off: the route's own policy is what puts this call on audio.
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  auto [a, b] = start_pair();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  sql("UPDATE routes SET t38_policy = 'off' WHERE is_default");

  ASSERT_NO_FATAL_FAILURE(expect_sent_and_received(ready_job("403", alice), "g711a"));
  // B heard CNG and asked for T.38; A, on a route without T.38, answered 488.
  EXPECT_GE(b->stats().t38_reinvites, 1u);
  EXPECT_EQ(a->stats().t38_reinvites, 0u);
  EXPECT_EQ(a->stats().t38_switches + b->stats().t38_switches, 0u);
  EXPECT_EQ(remembered("403"), "0");
}

TEST_F(GatewayMediaTest, AT38OnlyCallIsRefusedWhenIncomingT38IsDisabledAndTheNextCallGoesOutOnG711) {
  set_setting("sip.disable_t38_incoming", "true");  // on B; A may not use G.711 yet
  set_setting("incoming.notify_failed_calls", "true");
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  auto [a, b] = start_pair();
  ASSERT_TRUE(a != nullptr && b != nullptr);

  // A offers T.38 alone; B will not take it and has no audio to fall back to: 488.
  const auto first = ready_job("403", alice);
  ASSERT_EQ(finished_state(first), "failed");
  EXPECT_EQ(attempt(first, "outcome || '/' || sip_status || '/' || error_code"), "failed/488/call.media_refused");
  EXPECT_EQ(remembered("403"), "1");
  // B recorded the refused call as a failed incoming call for bob (0 pages, the code),
  // and the router told bob because the administrator asked for that.
  ASSERT_TRUE(eventually([&] { return field("SELECT count(*) FROM received_faxes WHERE state = 'routed'") == "1"; }, 30s));
  EXPECT_EQ(field("SELECT called_number || '/' || pages || '/' || error_code FROM received_faxes"),
            "403/0/call.media_refused");
  ASSERT_TRUE(eventually([&] {
    return field("SELECT count(*) FROM notifications WHERE kind = 'failed_incoming_call' AND recipient = "
                 "'bob@example.test'") == "1";
  }, 30s));

  // The administrator allows G.711 (no restart): the number that failed T.38 is dialled on
  // G.711 straight away, without asking for T.38 again.
  set_setting("sip.allow_g711_outgoing", "true");
  const auto second = ready_job("403", alice);
  ASSERT_EQ(finished_state(second), "sent") << attempt(second, "error_code");
  EXPECT_EQ(attempt(second, "outcome || '/' || media || '/' || pages_sent"), "sent/g711a/1");
  EXPECT_EQ(a->stats().t38_reinvites, 0u);
  EXPECT_EQ(a->stats().t38_switches + b->stats().t38_switches, 0u);
  ASSERT_TRUE(eventually([&] { return field("SELECT count(*) FROM received_faxes WHERE pages > 0") == "1"; }, 30s));
  EXPECT_EQ(field("SELECT media FROM received_faxes WHERE pages > 0"), "g711a");
}

TEST_F(GatewayMediaTest, WithRedundancyOnBothGatewaysAG711FaxIsSentWithRed) {
  auto [a, b] = g711_fax_with_redundancy(2, 2);
  ASSERT_TRUE(a != nullptr && b != nullptr);
  // A offered red/8000, B answered it: both channels sent RFC 2198 packets, and each
  // rebuilt the other's audio from them (the fax above went through).
  EXPECT_EQ(a->stats().audio_redundancy_calls, 1u);
  EXPECT_EQ(b->stats().audio_redundancy_calls, 1u);
}

TEST_F(GatewayMediaTest, WhenTheAnsweringGatewayDoesNotOfferRedTheFaxGoesOutOnPlainG711) {
  auto [a, b] = g711_fax_with_redundancy(2, 0);
  ASSERT_TRUE(a != nullptr && b != nullptr);
  // B's answer left red/8000 out: A did not send it either.
  EXPECT_EQ(a->stats().audio_redundancy_calls, 0u);
  EXPECT_EQ(b->stats().audio_redundancy_calls, 0u);
}

TEST_F(GatewayMediaTest, WhenTheCallerDoesNotOfferRedTheAnswerIsPlainG711) {
  auto [a, b] = g711_fax_with_redundancy(0, 2);
  ASSERT_TRUE(a != nullptr && b != nullptr);
  EXPECT_EQ(a->stats().audio_redundancy_calls, 0u);
  EXPECT_EQ(b->stats().audio_redundancy_calls, 0u);
}

TEST_F(GatewayMediaTest, SippOffersRedAsType97AndTheGatewayAnswersAndSendsRedAs97) {
  add_user("bob", "403");
  auto* b = start_gateway("gw-b", media_base() + 20, /*place_calls=*/false,
                          [](GatewaySettings& s) { s.audio_redundancy = 2; });
  ASSERT_NE(b, nullptr);
  // SIPp's SDP points the audio here, so the test reads what the gateway sends.
  sip::testing::RawUdp rtp(0);
  auto run = sipp(std::string(FAXBRIDGE_GATEWAY_SCENARIOS) + "/uac_audio_red97.xml");
  run.remote = "127.0.0.1:" + std::to_string(b->settings().sip.port);
  run.extra_args = {"-key", "red_port", std::to_string(rtp.port())};
  auto child = run.start();

  std::string packet;
  std::string report;
  for (int i = 0; i < 10; ++i) {
    packet = rtp.receive_starting_with("", 20s);
    if (packet.size() < 12) {
      ADD_FAILURE() << "no RTP from the gateway, packet " << i << "; SIPp exited " << run.finish(*child, 1s, &report)
                    << "\n" << report;
      return;
    }
    EXPECT_EQ(static_cast<std::uint8_t>(packet[1]) & 0x7F, 97) << "packet " << i;
  }
  EXPECT_EQ(run.finish(*child, 60s, &report), 0) << report;  // the answer kept 97 (the scenario's checks)

  // RFC 2198 section 3 on the wire: after the first packets, two redundant blocks (F bit
  // set, PCMA) with 4-byte headers, then the primary's 1-byte header (PCMA), then the audio.
  const std::size_t payload = 12 + 4 * (static_cast<std::uint8_t>(packet[0]) & 0x0F);
  ASSERT_GE(packet.size(), payload + 9 + 3 * 160);
  EXPECT_EQ(static_cast<std::uint8_t>(packet[payload]), 0x80 | 8);
  EXPECT_EQ(static_cast<std::uint8_t>(packet[payload + 4]), 0x80 | 8);
  EXPECT_EQ(static_cast<std::uint8_t>(packet[payload + 8]), 8);
  EXPECT_EQ(b->stats().audio_redundancy_calls, 1u);
}

TEST_F(GatewayMediaTest, FollowsTheFarEndsAudioWhenItsReinviteMovesIt) {
  // SIPp's audio first points at one socket of the test, then its re-INVITE (same codec,
  // new o= version) names another: the gateway's RTP must move there.
  add_user("bob", "403");
  auto* b = start_gateway("gw-b", media_base() + 20, /*place_calls=*/false);
  ASSERT_NE(b, nullptr);
  sip::testing::RawUdp first(0), second(0);
  auto run = sipp(std::string(FAXBRIDGE_GATEWAY_SCENARIOS) + "/uac_audio_moves.xml");
  run.remote = "127.0.0.1:" + std::to_string(b->settings().sip.port);
  run.extra_args = {"-key", "first_port", std::to_string(first.port()), "-key", "second_port",
                    std::to_string(second.port())};
  auto child = run.start();
  std::string report;
  EXPECT_GE(first.receive_starting_with("", 20s).size(), 12u) << "no RTP at the first address";
  EXPECT_GE(second.receive_starting_with("", 20s).size(), 12u) << "no RTP at the address of the re-INVITE";
  EXPECT_EQ(run.finish(*child, 60s, &report), 0) << report;
}

}  // namespace
}  // namespace faxbridge::gateway
