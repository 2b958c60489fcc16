// faxbridge-media-gateway as a real process against SIPp (an independent SIP stack), the
// Postgres harness, the bus and a router: an inbound T.38 INVITE hung up before any page
// is recorded as a failed received fax the router reports; SIPp answering busy, and
// answering T.38 without ever sending fax media, give the right attempt results; a flood
// of malformed datagrams and garbage SDP leaves the service placing a real fax call; and
// /metrics on its side port counts all of it.
#include <netinet/in.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <random>

#include "../../libs/gateway/gateway_fixture.hpp"
#include "../../libs/sip/sip_test_support.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/testing/sipp.hpp"

namespace faxbridge::gateway {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::Child;
using faxbridge::testing::eventually;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// GET over plain HTTP/1.0 on loopback; the whole response, "" when nothing answers.
std::string http_get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    (void)::send(fd, req.data(), req.size(), 0);
    char buf[8192];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

class MediaGatewayService : public GatewayTest {
 protected:
  void TearDown() override {
    service_.reset();
    GatewayTest::TearDown();
  }

  void start_service() {
    sip_port_ = faxbridge::testing::free_port();
    http_port_ = faxbridge::testing::free_port();
    // The fixture's in-process gateway B uses the range below.
    service_ = start_instance("gw-service", sip_port_, http_port_, media_base() + 20, true);
  }

  std::unique_ptr<Child> start_instance(const std::string& instance, int sip_port, int http_port, int media,
                                        bool place_calls) {
    std::map<std::string, std::string> env{{"FAXBRIDGE_DB_DSN", dsn_},
                                           {"FAXBRIDGE_INSTANCE_ID", instance},
                                           {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", ports_.publish_endpoint()},
                                           {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", ports_.subscribe_endpoint()},
                                           {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
                                           {"FAXBRIDGE_HTTP_PORT", std::to_string(http_port)},
                                           {"FAXBRIDGE_GATEWAY_SIP_BIND", "127.0.0.1"},
                                           {"FAXBRIDGE_GATEWAY_SIP_PORT", std::to_string(sip_port)},
                                           {"FAXBRIDGE_GATEWAY_PLACE_CALLS", place_calls ? "true" : "false"},
                                           {"FAXBRIDGE_GATEWAY_MEDIA_PORT_MIN", std::to_string(media)},
                                           {"FAXBRIDGE_GATEWAY_MEDIA_PORT_MAX", std::to_string(media + 18)},
                                           {"FAXBRIDGE_GATEWAY_CHANNELS", "4"},
                                           {"FAXBRIDGE_GATEWAY_SPOOL_DIR", spool_.string()},
                                           {"FAXBRIDGE_GATEWAY_TRANSACTION_TIMEOUT_MS", "4000"},
                                           // SIPp scenarios take no OPTIONS: no pings at them.
                                           {"FAXBRIDGE_GATEWAY_ROUTES_REFRESH_MS", "0"}};
    for (const auto& [k, v] : extra_env_) env[k] = v;
    auto child = std::make_unique<Child>(FAXBRIDGE_MEDIA_GATEWAY_BIN, std::vector<std::string>{}, env,
                                         (spool_ / (instance + ".log")).string());
    EXPECT_TRUE(eventually([&] { return contains(http_get(http_port, "/healthz"), "200 OK") || !child->running(); },
                           60s));
    EXPECT_TRUE(child->running()) << "the service exited; see " << (spool_ / (instance + ".log"));
    EXPECT_TRUE(eventually([&] { return faxbridge::testing::udp_port_bound(sip_port); }, 10s));
    return child;
  }
  std::string metrics() { return http_get(http_port_, "/metrics"); }
  std::string attempt(std::int64_t job, const std::string& columns) {
    return field("SELECT " + columns + " FROM attempts WHERE job_id = " + std::to_string(job) +
                 " ORDER BY attempt_no LIMIT 1");
  }
  bool attempt_closed(std::int64_t job) {
    return field("SELECT count(*) FROM attempts WHERE outcome IS NOT NULL AND job_id = " + std::to_string(job)) != "0";
  }
  faxbridge::testing::SippRun sipp(const std::string& scenario) {
    faxbridge::testing::SippRun run;
    run.binary = FAXBRIDGE_SIPP_BIN;
    run.scenario = std::string(FAXBRIDGE_SIP_SCENARIOS) + "/" + scenario;
    run.dir = spool_ / ("sipp-" + std::filesystem::path(scenario).stem().string());
    run.timeout = 120s;
    return run;
  }

  // SIPp calls 403 at the service with `scenario` (over `transport`, SIPp's -t) and must
  // end it as scripted; `done` gets the run (its logs) when given.
  void sipp_calls_403(const std::string& scenario, const std::string& transport = "u1",
                      faxbridge::testing::SippRun* done = nullptr) {
    auto run = sipp(scenario);
    run.remote = "127.0.0.1:" + std::to_string(sip_port_);
    run.service = "403";
    run.transport = transport;
    auto caller = run.start();
    std::string report;
    ASSERT_EQ(run.finish(*caller, 60s, &report), 0) << report;
    if (done) *done = run;
  }

  std::unique_ptr<Child> service_;
  std::map<std::string, std::string> extra_env_;  // more variables for the next instance
  int sip_port_ = 0;
  int http_port_ = 0;
};

TEST_F(MediaGatewayService, AnInboundT38CallHungUpBeforeAnyPageIsAFailedFaxTheRouterReports) {
  add_user("bob", "403");
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) { return db::settings::set(tx, "incoming.notify_failed_calls", "true"); }));
  start_router();
  start_service();
  ASSERT_NO_FATAL_FAILURE(sipp_calls_403("uac_t38_invite_bye.xml"));
  ASSERT_TRUE(eventually([&] { return field("SELECT count(*) FROM received_faxes WHERE state = 'routed'") == "1"; }, 60s))
      << field("SELECT string_agg(state, ',') FROM received_faxes");
  EXPECT_EQ(field("SELECT called_number || '/' || caller_number || '/' || pages || '/' || (tiff_document_id IS NULL) || "
                  "'/' || (error_code IS NOT NULL) || '/' || gateway_instance FROM received_faxes"),
            "403/+3902111222/0/true/true/gw-service");
  ASSERT_TRUE(eventually(
      [&] { return field("SELECT count(*) FROM notifications WHERE kind = 'failed_incoming_call'") == "1"; }, 30s));
  EXPECT_TRUE(contains(metrics(), "faxbridge_gateway_calls_total{direction=\"inbound\",outcome=\"failed\"} 1"))
      << metrics();
}

TEST_F(MediaGatewayService, AT38OnlyOfferIsRefusedWith488AndAWarningWhenIncomingT38IsDisabled) {
  add_user("bob", "403");
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) { return db::settings::set(tx, "sip.disable_t38_incoming", "true"); }));
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) { return db::settings::set(tx, "incoming.notify_failed_calls", "true"); }));
  start_router();
  start_service();
  ASSERT_NO_FATAL_FAILURE(sipp_calls_403("uac_t38_only_refused.xml"));  // checks the 488 and its Warning
  // A refused call for a number we serve is a failed incoming call bob hears of.
  ASSERT_TRUE(eventually([&] { return field("SELECT count(*) FROM received_faxes WHERE state = 'routed'") == "1"; }, 60s));
  EXPECT_EQ(field("SELECT called_number || '/' || pages || '/' || error_code FROM received_faxes"),
            "403/0/call.media_refused");
  ASSERT_TRUE(eventually(
      [&] { return field("SELECT count(*) FROM notifications WHERE kind = 'failed_incoming_call'") == "1"; }, 30s));
  EXPECT_TRUE(contains(metrics(), "faxbridge_gateway_calls_total{direction=\"inbound\",outcome=\"refused\"} 1"))
      << metrics();
}

TEST_F(MediaGatewayService, AnAudioCallIsAnsweredOnG711AndSippsReinviteToT38IsAccepted) {
  add_user("bob", "403");
  start_router();
  start_service();
  // SIPp checks: a PCMA answer, an unchanged answer to its refresh, a T.38 answer (o=
  // version 2) to its re-INVITE; then it hangs up.
  ASSERT_NO_FATAL_FAILURE(sipp_calls_403("uac_audio_refresh_reinvite_t38.xml"));
  // No page came (SIPp sends no fax): a failed call, on the media it had moved to.
  ASSERT_TRUE(eventually([&] { return field("SELECT count(*) FROM received_faxes") == "1"; }, 60s));
  EXPECT_EQ(field("SELECT pages || '/' || media FROM received_faxes"), "0/t38");
}

TEST_F(MediaGatewayService, WithSipOverTcpOnSippCallsOverTcp) {
  add_user("bob", "403");
  start_router();
  extra_env_ = {{"FAXBRIDGE_GATEWAY_SIP_TCP", "true"}};
  start_service();
  faxbridge::testing::SippRun run;
  ASSERT_NO_FATAL_FAILURE(sipp_calls_403("uac_t38_invite_bye.xml", "t1", &run));
  std::ifstream messages(run.dir / "messages.log");
  std::stringstream text;
  text << messages.rdbuf();
  EXPECT_TRUE(contains(text.str(), "SIP/2.0/TCP")) << text.str().substr(0, 2000);
  ASSERT_TRUE(eventually([&] { return field("SELECT count(*) FROM received_faxes") == "1"; }, 60s));
}

TEST_F(MediaGatewayService, WithACertificateFolderTheServiceAnswersACallOverTls) {
  namespace st = faxbridge::sip::testing;
  add_user("bob", "403");
  start_router();
  // One self-signed certificate for both ends, made now: each trusts the other.
  const auto certs = st::make_certificate_dir("service");
  const int tls_port = st::free_udp_port();
  extra_env_ = {{"FAXBRIDGE_GATEWAY_SIP_TLS_CERT_DIR", certs.string()},
                {"FAXBRIDGE_GATEWAY_SIP_TLS_PORT", std::to_string(tls_port)}};
  start_service();
  st::Recorder rec;
  auto settings = st::test_settings(st::free_udp_port());
  settings.tls_certificate_dir = certs.string();
  settings.tls_port = st::free_udp_port();
  auto ua = sip::UserAgent::start(settings, rec.handlers());
  ASSERT_TRUE(ua) << ua.error().to_string();
  sip::CallRequest r;
  r.target = "127.0.0.1:" + std::to_string(tls_port) + ";transport=tls";
  r.number = "403";
  r.offer = st::t38_media(st::free_udp_port());
  auto id = (*ua)->place_call(r);
  ASSERT_TRUE(id) << id.error().to_string();
  ASSERT_TRUE(rec.wait([&] { return !rec.answered.empty() || !rec.failed.empty(); }, 30s));
  ASSERT_TRUE(rec.failed.empty()) << rec.failed[0].error.to_string();
  EXPECT_EQ(rec.answered[0].media.kind, sip::MediaKind::kT38);
  ASSERT_TRUE((*ua)->hang_up(*id));
  ASSERT_TRUE(rec.wait([&] { return !rec.ended.empty(); }, 30s));
  ASSERT_TRUE(eventually([&] { return field("SELECT count(*) FROM received_faxes") == "1"; }, 60s));
  EXPECT_EQ(field("SELECT called_number || '/' || pages FROM received_faxes"), "403/0");
  std::filesystem::remove_all(certs);
}

TEST_F(MediaGatewayService, SippAnsweringBusyMakesTheAttemptBusy) {
  const auto alice = add_user("alice", std::nullopt);
  auto run = sipp("uas_busy.xml");
  auto callee = run.start();
  default_route("127.0.0.1:" + std::to_string(run.port));
  start_router();
  start_service();
  const auto job = ready_job("403", alice);
  ASSERT_TRUE(eventually([&] { return attempt_closed(job); }, 60s));
  EXPECT_EQ(attempt(job, "outcome || '/' || sip_status || '/' || error_code || '/' || retryable"),
            "busy/486/call.busy/true");
  std::string report;
  EXPECT_EQ(run.finish(*callee, 30s, &report), 0) << report;
  ASSERT_TRUE(eventually([&] { return job_state(job) == "retry_wait"; }, 30s)) << job_state(job);
  EXPECT_TRUE(contains(metrics(), "faxbridge_gateway_calls_total{direction=\"outbound\",outcome=\"busy\"} 1"));
}

TEST_F(MediaGatewayService, SippAnsweringT38WithoutFaxMediaEndsWithAT30FailureNotAHang) {
  const auto alice = add_user("alice", std::nullopt);
  auto run = sipp("uas_t38_answer.xml");
  auto callee = run.start();
  default_route("127.0.0.1:" + std::to_string(run.port));
  start_router();
  start_service();
  const auto job = ready_job("403", alice);
  // SIPp answers with T.38 and sends nothing: T.30 gives up on its own timers (T1,
  // 35 s; spandsp 0.0.6 section 5.4.3.1) and the gateway hangs up with BYE.
  ASSERT_TRUE(eventually([&] { return attempt_closed(job); }, 180s));
  EXPECT_EQ(attempt(job, "outcome || '/' || sip_status || '/' || (t30_code IS NOT NULL) || '/' || phase_reached"),
            "failed/200/true/B");
  EXPECT_TRUE(contains(attempt(job, "error_code"), "fax.")) << attempt(job, "error_code");
  std::string report;
  EXPECT_EQ(run.finish(*callee, 30s, &report), 0) << report;  // it got our BYE
  const auto diagnostics = nlohmann::json::parse(attempt(job, "diagnostics"));
  const std::string media = diagnostics["media"].dump();
  EXPECT_TRUE(contains(media, "answered: t38 127.0.0.1:")) << media;
  EXPECT_TRUE(contains(media, "ended: ")) << media;
  EXPECT_TRUE(contains(diagnostics["sip"].dump(), "200")) << diagnostics.dump();
  const std::string m = metrics();
  EXPECT_TRUE(contains(m, "faxbridge_gateway_call_setup_seconds_count 1")) << m;
}

TEST_F(MediaGatewayService, AFloodOfMalformedSipLeavesTheServicePlacingARealFaxCall) {
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  start_router();
  start_service();
  sip::testing::RawUdp raw(sip_port_);
  std::mt19937 rng(20261125);  // fixed seed: a failure replays
  for (int i = 0; i < 500; ++i) {
    std::string junk(1 + rng() % 1400, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    raw.send(junk);
  }
  raw.send("INVITE sip:403@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;bran");
  raw.send(std::string(60000, 'A'));
  int n = 0;
  for (const std::string& body : {std::string("this is not sdp at all"), std::string("v=0\r\nm=image 5 udptl t38\r\n"),
                                  std::string("v=0\r\nc=IN IP4 127.0.0.1\r\nm=image 99999 udptl t38\r\n"),
                                  std::string(3000, '\x01')}) {
    const std::string reply =
        raw.request(sip::testing::invite(sip_port_, raw.port(), "garbage" + std::to_string(++n), body), "SIP/2.0 4", 15s);
    EXPECT_FALSE(reply.empty()) << "no refusal for body: " << body.substr(0, 40);
  }
  ASSERT_TRUE(service_->running());
  EXPECT_EQ(field("SELECT count(*) FROM received_faxes"), "0");  // none of it became a call

  // A real fax: the service dials gateway B (in this process, the default route).
  auto* b = start_gateway("gw-b", media_base(), false);
  ASSERT_TRUE(b != nullptr);
  default_route("127.0.0.1:" + std::to_string(b->settings().sip.port));
  const auto job = ready_job("403", alice);
  ASSERT_TRUE(eventually([&] { return job_state(job) == "sent" || job_state(job) == "failed"; }, 180s));
  EXPECT_EQ(job_state(job), "sent") << attempt(job, "error_code");
  EXPECT_TRUE(contains(metrics(), "faxbridge_gateway_calls_total{direction=\"outbound\",outcome=\"sent\"} 1"));
  EXPECT_TRUE(contains(metrics(), "faxbridge_gateway_channels_in_use{direction=\"outbound\"} 0"));
}

TEST_F(MediaGatewayService, TwoInstancesSeededAsScriptsRunDoesAreALoopbackPbx) {
  // What scripts/run does with an empty database: the CLI adds a default route to the
  // answer-only instance, and a fax to a user's own number arrives in that user's inbox.
  const auto bob = add_user("bob", "403");
  const int loop_sip = faxbridge::testing::free_port();
  for (int round = 0; round < 2; ++round) {  // the second run must add nothing
    Child cli(FAXBRIDGE_CLI_BIN, {"routes", "add", "--default", "--if-none", "127.0.0.1:" + std::to_string(loop_sip)},
              {{"FAXBRIDGE_DB_DSN", dsn_}}, (spool_ / "cli.log").string());
    auto status = cli.wait(30s);
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  }
  ASSERT_EQ(field("SELECT count(*) || '/' || string_agg(g.address, ',') FROM routes r JOIN route_gateways g ON "
                  "g.route_id = r.id WHERE r.is_default"),
            "1/127.0.0.1:" + std::to_string(loop_sip));
  start_router();
  const int media = media_base();
  service_ = start_instance("media-gateway", faxbridge::testing::free_port(), faxbridge::testing::free_port(), media,
                            true);
  auto loop = start_instance("media-gateway-loop", loop_sip, faxbridge::testing::free_port(), media + 20, false);
  const auto job = ready_job("403", bob);  // bob faxes himself
  ASSERT_TRUE(eventually([&] { return job_state(job) == "sent" || job_state(job) == "failed"; }, 180s));
  EXPECT_EQ(job_state(job), "sent") << attempt(job, "error_code");
  ASSERT_TRUE(eventually(
      [&] { return field("SELECT count(*) FROM inbox_entries WHERE user_id = " + std::to_string(bob)) == "1"; }, 60s));
  EXPECT_EQ(field("SELECT gateway_instance || '/' || pages FROM received_faxes"), "media-gateway-loop/1");
}

}  // namespace
}  // namespace faxbridge::gateway
