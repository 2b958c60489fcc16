// The media gateway's operations on loopback: route health from OPTIONS pings
// (written to gateway_health, used for the dialling order, following route edits without
// a restart), busy from a receiving gateway with no free channel, no answer from a SIPp
// that rings forever, and the SIP messages and media events kept on failed attempts.
#include <nlohmann/json.hpp>

#include "faxbridge/core/metrics.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/testing/sipp.hpp"
#include "gateway_fixture.hpp"

namespace faxbridge::gateway {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::eventually;

class GatewayOpsTest : public GatewayTest {
 protected:
  void set(const std::string& key, const std::string& json) {
    auto r = pool_->transact([&](db::Tx& tx) { return db::settings::set(tx, key, json); });
    ASSERT_TRUE(r) << r.error().to_string();
  }
  std::string attempt(std::int64_t job, const std::string& columns) {
    return field("SELECT " + columns + " FROM attempts WHERE job_id = " + std::to_string(job) +
                 " ORDER BY attempt_no LIMIT 1");
  }
  bool attempt_closed(std::int64_t job) {
    return field("SELECT count(*) FROM attempts WHERE outcome IS NOT NULL AND job_id = " + std::to_string(job)) != "0";
  }
  // Members, not locals: the fixture stops the gateways after the test body, and a
  // running gateway writes its series until then.
  metrics::Registry registry_a_, registry_b_;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(GatewayOpsTest, EveryRouteAddressGetsHealthAndAnAddressThatIsDownIsDialledLast) {
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  auto [a, b] = start_pair([&](GatewaySettings& s) {
    s.sip.options_interval = 500ms;
    s.routes_refresh = 200ms;
    s.metrics = &registry_a_;
  });
  ASSERT_TRUE(a != nullptr && b != nullptr);
  const std::string b_address = "127.0.0.1:" + std::to_string(sip_b_);
  ASSERT_TRUE(eventually([&] { return field("SELECT state FROM gateway_health WHERE address = '" + b_address + "'") == "up"; },
                         30s));
  EXPECT_EQ(field("SELECT (rtt_ms >= 0) || '/' || last_status || '/' || (last_ok_at IS NOT NULL) FROM gateway_health "
                  "WHERE address = '" + b_address + "'"),
            "true/200/true");

  // A route added while the gateways run, whose first address answers nothing: it is
  // pinged without a restart, found down, and dialled after B, so the call never waits
  // for its timeout (no failover happens).
  const std::string dead = "127.0.0.1:" + std::to_string(faxbridge::testing::free_port());
  db::Route route;
  route.prefix = "4";
  route.gateways = {{dead}, {b_address}};
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) { return db::routes::create(tx, route); }));
  ASSERT_TRUE(eventually([&] { return field("SELECT state FROM gateway_health WHERE address = '" + dead + "'") == "down"; },
                         60s))
      << field("SELECT string_agg(address || '=' || state, ',') FROM gateway_health");
  EXPECT_EQ(field("SELECT (last_fail_at IS NOT NULL) || '/' || (last_ok_at IS NULL) || '/' || (last_status >= 400) "
                  "FROM gateway_health WHERE address = '" + dead + "'"),
            "true/true/true");
  ASSERT_TRUE(eventually([&] { return contains(registry_a_.render(), "faxbridge_gateway_address_up{address=\"" + dead + "\"} 0"); },
                         30s))
      << registry_a_.render();
  EXPECT_TRUE(contains(registry_a_.render(), "faxbridge_gateway_address_up{address=\"" + b_address + "\"} 1"));

  const auto job = ready_job("403", alice);
  ASSERT_TRUE(eventually([&] { return job_state(job) == "sent" || job_state(job) == "failed"; }, 180s));
  EXPECT_EQ(job_state(job), "sent") << job_story(job);
  EXPECT_EQ(attempt(job, "outcome || '/' || gateway_address"), "sent/" + b_address);
  EXPECT_TRUE(contains(registry_a_.render(), "faxbridge_gateway_route_failovers_total 0")) << registry_a_.render();
}

TEST_F(GatewayOpsTest, AnAddressThatIsDownIsStillDialledWhenNothingElseIsLeft) {
  // Health only reorders. The default route's one address is down when pinged; the
  // gateway there comes up before the next ping, and the job still goes through it.
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  const int sip_b = faxbridge::testing::free_port();
  const std::string b_address = "127.0.0.1:" + std::to_string(sip_b);
  default_route(b_address);
  start_router();
  ASSERT_TRUE(start_gateway("gw-a", media_base(), true, [](GatewaySettings& s) {
    s.sip.options_interval = 10min;  // one ping, at the start
    s.routes_refresh = 200ms;
  }));
  ASSERT_TRUE(eventually([&] { return field("SELECT count(*) FROM gateway_health WHERE state = 'down'") == "1"; }, 60s));
  ASSERT_TRUE(start_gateway("gw-b", media_base() + 20, false, [&](GatewaySettings& s) {
    s.sip.port = sip_b;  // the address the route named before B existed
    s.routes_refresh = 0ms;
  }));
  const auto job = ready_job("403", alice);
  ASSERT_TRUE(eventually([&] { return job_state(job) == "sent" || job_state(job) == "failed"; }, 180s));
  EXPECT_EQ(job_state(job), "sent") << job_story(job);
  EXPECT_EQ(field("SELECT state FROM gateway_health"), "down");  // no ping since: the data was stale
}

TEST_F(GatewayOpsTest, AReceivingGatewayWithEveryChannelInUseAnswersBusyAndTheJobIsRetried) {
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  add_user("carol", "405");
  set("fax.retry_busy_s", "10");
  set("fax.max_attempts", "10");  // retries come every 10 s while the first call takes ~20 s
  auto [a, b] = start_pair({}, [&](GatewaySettings& s) {
    s.channels = 1;
    s.metrics = &registry_b_;
  });
  ASSERT_TRUE(a != nullptr && b != nullptr);
  // Two destinations, so the per-destination limit lets A dial both at once; B has one
  // channel, so whichever call comes second finds it in use.
  const auto first = ready_job("403", alice);
  const auto second = ready_job("405", alice);
  ASSERT_TRUE(eventually(
      [&] { return field("SELECT count(*) FROM attempts WHERE outcome = 'busy'") != "0"; }, 120s))
      << field("SELECT string_agg(coalesce(outcome, '-') || '/' || coalesce(sip_status, 0), ',') FROM attempts");
  EXPECT_EQ(field("SELECT sip_status || '/' || error_code || '/' || retryable || '/' || gateway_address FROM attempts "
                  "WHERE outcome = 'busy' LIMIT 1"),
            "486/call.busy/true/127.0.0.1:" + std::to_string(sip_b_));
  // Busy is retried: both faxes end sent.
  ASSERT_TRUE(eventually(
      [&] {
        for (auto j : {first, second}) {
          const auto s = job_state(j);
          if (s != "sent" && s != "failed") return false;
        }
        return true;
      },
      300s));
  EXPECT_EQ(job_state(first), "sent");
  EXPECT_EQ(job_state(second), "sent");
  // As many refusals as busy attempts (how many depends on when the retries fall).
  const std::string busy = field("SELECT count(*) FROM attempts WHERE outcome = 'busy'");
  EXPECT_TRUE(contains(registry_b_.render(),
                       "faxbridge_gateway_calls_total{direction=\"inbound\",outcome=\"refused\"} " + busy))
      << registry_b_.render();
  EXPECT_TRUE(contains(registry_b_.render(), "faxbridge_gateway_calls_total{direction=\"inbound\",outcome=\"received\"} 2"));
  // Each refusal is a failed incoming call for the number it was meant for.
  ASSERT_TRUE(eventually([&] {
    return field("SELECT count(*) FROM received_faxes WHERE pages = 0 AND error_code = 'call.busy'") == busy;
  }, 30s));
  EXPECT_EQ(field("SELECT count(*) FROM received_faxes WHERE pages > 0"), "2");
}

TEST_F(GatewayOpsTest, ACallNobodyAnswersEndsNoAnswerWithItsSipMessagesOnTheAttempt) {
  const auto alice = add_user("alice", std::nullopt);
  auto run = sipp(std::string(FAXBRIDGE_GATEWAY_SCENARIOS) + "/uas_ring_no_answer.xml");
  auto peer = run.start();
  ASSERT_TRUE(peer->running());
  const std::string peer_address = "127.0.0.1:" + std::to_string(run.port);
  default_route(peer_address);
  start_router();
  ASSERT_TRUE(start_gateway("gw-a", media_base(), true,
                            [&](GatewaySettings& s) {
                              s.sip.no_answer_timeout = 3s;
                              s.routes_refresh = 0ms;  // SIPp takes no OPTIONS in this scenario
                              s.metrics = &registry_a_;
                            }));
  const auto job = ready_job("403", alice);
  ASSERT_TRUE(eventually([&] { return attempt_closed(job); }, 60s));
  EXPECT_EQ(attempt(job, "outcome || '/' || error_code || '/' || retryable || '/' || gateway_address"),
            "no_answer/call.no_answer/true/" + peer_address);
  std::string report;
  EXPECT_EQ(run.finish(*peer, 30s, &report), 0) << report;

  const auto diagnostics = nlohmann::json::parse(attempt(job, "diagnostics"));
  ASSERT_EQ(diagnostics["sip"].size(), 1u) << diagnostics.dump();
  EXPECT_EQ(diagnostics["sip"][0]["target"], peer_address);
  const std::string messages = diagnostics["sip"][0]["messages"].dump();
  EXPECT_TRUE(contains(messages, "INVITE")) << messages;
  EXPECT_TRUE(contains(messages, "180")) << messages;
  EXPECT_TRUE(contains(messages, "CANCEL")) << messages;
  EXPECT_TRUE(diagnostics["media"].empty());
  EXPECT_TRUE(contains(registry_a_.render(), "faxbridge_gateway_calls_total{direction=\"outbound\",outcome=\"no_answer\"} 1"))
      << registry_a_.render();
}

TEST_F(GatewayOpsTest, ADeadAddressFailsOverAndBothDialogsAreKeptWhenTheCallFails) {
  // Route "4": a dead address (a route failure after the transaction timeout), then the
  // default route, gateway B, where nobody owns 499: the attempt fails as an invalid
  // number and keeps both dialogs, the dead one first.
  const auto alice = add_user("alice", std::nullopt);
  auto [a, b] = start_pair([&](GatewaySettings& s) {
    s.routes_refresh = 0ms;  // no health: the dead address is dialled first
    s.metrics = &registry_a_;
  });
  ASSERT_TRUE(a != nullptr && b != nullptr);
  const std::string dead = "127.0.0.1:" + std::to_string(faxbridge::testing::free_port());
  db::Route route;
  route.prefix = "4";
  route.gateways = {{dead}};
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) { return db::routes::create(tx, route); }));
  const auto job = ready_job("499", alice);
  ASSERT_TRUE(eventually([&] { return attempt_closed(job); }, 90s));
  EXPECT_EQ(attempt(job, "outcome || '/' || sip_status || '/' || error_code || '/' || gateway_address"),
            "rejected/404/call.invalid_number/127.0.0.1:" + std::to_string(sip_b_));
  const auto diagnostics = nlohmann::json::parse(attempt(job, "diagnostics"));
  ASSERT_EQ(diagnostics["sip"].size(), 2u) << diagnostics.dump();
  EXPECT_EQ(diagnostics["sip"][0]["target"], dead);
  EXPECT_TRUE(contains(diagnostics["sip"][1]["messages"].dump(), "404")) << diagnostics.dump();
  EXPECT_TRUE(contains(registry_a_.render(), "faxbridge_gateway_route_failovers_total 1")) << registry_a_.render();
}

}  // namespace
}  // namespace faxbridge::gateway

namespace faxbridge::gateway {
namespace {

// A trunk registrar that is not there when the gateway starts: the gateway says why it is
// not ready, the fax administrator is alerted once, and once the registrar is up the
// gateway registers by itself (its agent retries) and is ready again.
TEST_F(GatewayOpsTest, AGatewayNotRegisteredWithItsTrunkIsNotReadyAlertsOnceAndRegistersWhenTheRegistrarComesUp) {
  set_setting("company.admin_email", "\"faxadmin@example.test\"");
  faxbridge::testing::SippRun run = sipp(std::string(FAXBRIDGE_SIP_SCENARIOS) + "/uas_registrar_digest.xml");
  run.timeout = 60s;
  Gateway* g = start_gateway("gw-reg", media_base(), /*place_calls=*/false, [&](GatewaySettings& s) {
    sip::Registration r;
    r.registrar = "127.0.0.1:" + std::to_string(run.port);
    r.user = "faxtrunk";
    r.password = "s3cret";
    r.retry_base = 1s;
    r.retry_max = 4s;
    s.registration = r;
    s.routes_refresh = 0ms;
    s.metrics = &registry_a_;
  });
  ASSERT_TRUE(g != nullptr);
  ASSERT_TRUE(eventually([&] { return g->unregistered() && contains(*g->unregistered(), "not registered"); }, 30s));
  EXPECT_TRUE(contains(*g->unregistered(), "127.0.0.1:" + std::to_string(run.port))) << *g->unregistered();
  ASSERT_TRUE(eventually([&] { return field("SELECT count(*) FROM notifications WHERE kind = 'admin_alert'") == "1"; }, 30s));
  EXPECT_EQ(field("SELECT recipient || '/' || (payload->'error'->>'code') FROM notifications"),
            "faxadmin@example.test/sip.registration_failed");
  // More failed tries (the agent retries every few seconds) alert nobody again.
  ASSERT_TRUE(eventually([&] { return contains(*g->unregistered(), "3 failures"); }, 30s)) << *g->unregistered();
  EXPECT_EQ(field("SELECT count(*) FROM notifications WHERE kind = 'admin_alert'"), "1");

  auto registrar = run.start();
  ASSERT_TRUE(registrar->running());
  ASSERT_TRUE(eventually([&] { return !g->unregistered().has_value(); }, 30s)) << g->unregistered().value_or("");
  EXPECT_TRUE(contains(registry_a_.render(), "faxbridge_gateway_registered 1")) << registry_a_.render();
  std::string report;
  EXPECT_EQ(run.finish(*registrar, 30s, &report), 0) << report;
}

}  // namespace
}  // namespace faxbridge::gateway
