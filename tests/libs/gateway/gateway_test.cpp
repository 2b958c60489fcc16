// The media gateway end to end on loopback (gateway_fixture.hpp sets it up): gateway A
// places the queued job's call over SIP + T.38 to gateway B (the default route), which
// answers for user 403, receives the fax and hands it to the router's inbound stage.
#include "gateway_fixture.hpp"

namespace faxbridge::gateway {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::eventually;

TEST_F(GatewayTest, AJobIsSentOverSipAndT38AndTheOtherGatewayDeliversItToTheInbox) {
  const auto alice = add_user("alice", std::nullopt);
  const auto bob = add_user("bob", "403");
  auto [a, b] = start_pair();
  ASSERT_TRUE(a != nullptr && b != nullptr);

  const auto job = ready_job("403", alice);
  const std::string j = std::to_string(job);
  ASSERT_TRUE(eventually(
      [&] {
        const auto s = field("SELECT state FROM fax_jobs WHERE id = " + j);
        return s == "sent" || s == "failed";
      },
      180s))
      << job_story(job);
  EXPECT_EQ(field("SELECT state FROM fax_jobs WHERE id = " + j), "sent") << job_story(job);
  EXPECT_EQ(field("SELECT pages_sent FROM fax_jobs WHERE id = " + j), "1");
  EXPECT_EQ(field("SELECT state || '/' || outcome || '/' || gateway_instance || '/' || sip_status || '/' || "
                  "pages_sent FROM attempts WHERE job_id = " + j),
            "applied/sent/gw-a/200/1");
  EXPECT_EQ(field("SELECT count(*) FROM attempts WHERE job_id = " + j + " AND t30_code IS NOT NULL AND "
                  "remote_station_id IS NOT NULL AND phase_reached = 'E'"),
            "1");

  // B's side: one fax for 403 with its TIFF stored, routed into bob's inbox.
  ASSERT_TRUE(eventually(
      [&] { return field("SELECT count(*) FROM received_faxes WHERE state = 'routed'") == "1"; }, 60s))
      << field("SELECT string_agg(state, ',') FROM received_faxes");
  EXPECT_EQ(field("SELECT called_number || '/' || pages || '/' || gateway_instance FROM received_faxes"), "403/1/gw-b");
  // The call's own times: from the INVITE to the end of the call, which lasts seconds.
  EXPECT_EQ(field("SELECT ended_at - started_at > interval '3 seconds' FROM received_faxes"), "t")
      << field("SELECT started_at || ' .. ' || ended_at FROM received_faxes");
  EXPECT_EQ(field("SELECT d.kind || '/' || d.page_count FROM received_faxes f JOIN documents d ON "
                  "d.id = f.tiff_document_id"),
            "received_tiff/1");
  EXPECT_EQ(field("SELECT count(*) FROM inbox_entries WHERE user_id = " + std::to_string(bob)), "1");
  EXPECT_EQ(a->stats().outbound_closed, 1u);
  EXPECT_EQ(a->stats().progress_updates, 1u);  // page 1 confirmed, written while the attempt was open
  EXPECT_EQ(b->stats().inbound_stored, 1u);
}

TEST_F(GatewayTest, ANumberNobodyOwnsIsRefusedWith404AndTheJobFails) {
  const auto alice = add_user("alice", std::nullopt);
  ASSERT_TRUE(start_pair().first != nullptr);
  const auto job = ready_job("499", alice);
  const std::string j = std::to_string(job);
  ASSERT_TRUE(eventually([&] { return field("SELECT count(*) FROM attempts WHERE outcome IS NOT NULL AND job_id = " + j) == "1"; },
                         60s));
  EXPECT_EQ(field("SELECT outcome || '/' || sip_status || '/' || error_code FROM attempts WHERE job_id = " + j),
            "rejected/404/call.invalid_number");
  EXPECT_EQ(field("SELECT count(*) FROM received_faxes"), "0");
}

TEST_F(GatewayTest, ARouteFailureMovesToTheNextAddressThenTheDefaultRoute) {
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  ASSERT_TRUE(start_pair().first != nullptr);
  // A route for "4" whose only address answers nothing: the call times out there (a local
  // 408, a route failure) and goes on to the default route, gateway B.
  const int dead = faxbridge::testing::free_port();
  db::Route route;
  route.prefix = "4";
  route.gateways.push_back({"127.0.0.1:" + std::to_string(dead)});
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) { return db::routes::create(tx, route); }));
  const auto job = ready_job("403", alice);
  ASSERT_TRUE(eventually([&] { return job_state(job) == "sent" || job_state(job) == "failed"; }, 180s));
  EXPECT_EQ(job_state(job), "sent") << job_story(job);
  EXPECT_EQ(field("SELECT count(*) || '/' || max(outcome) FROM attempts WHERE job_id = " + std::to_string(job)),
            "1/sent");
}

TEST_F(GatewayTest, ACancelDuringTheCallHangsUpAndClosesTheAttemptAsCancelled) {
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  ASSERT_TRUE(start_pair().first != nullptr);
  const auto job = ready_job("403", alice);
  ASSERT_TRUE(eventually([&] { return job_state(job) == "dialing" || job_state(job) == "sending"; }, 60s));
  auto r = router::cancel_job(*pool_, *publisher_, job, "test");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(eventually([&] { return job_state(job) == "cancelled"; }, 60s)) << job_state(job);
  EXPECT_EQ(field("SELECT outcome FROM attempts WHERE job_id = " + std::to_string(job)), "cancelled");
}

}  // namespace
}  // namespace faxbridge::gateway

namespace faxbridge::gateway {
namespace {

// Routing is one way: the router wrote the addresses to dial on the job when it queued
// it, and the gateway dials those. A route edited while the job waits changes the next
// routing, not this call (the gateway never reads the routes table for a call).
TEST_F(GatewayTest, TheGatewayDialsTheAddressesTheRouterChoseEvenIfTheRouteChangesAfterwards) {
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  auto* b = start_gateway("gw-b", media_base() + 20, /*place_calls=*/false);
  ASSERT_TRUE(b != nullptr);
  const std::string b_address = "127.0.0.1:" + std::to_string(b->settings().sip.port);
  default_route(b_address);
  start_router();
  const auto job = ready_job("403", alice);
  const std::string j = std::to_string(job);
  ASSERT_TRUE(eventually([&] { return job_state(job) == "queued"; }, 60s)) << job_state(job);
  EXPECT_EQ(field("SELECT array_to_string(gateway_addresses, ',') || '/' || t38_policy FROM fax_jobs WHERE id = " + j),
            b_address + "/auto");
  sql("UPDATE route_gateways SET address = '127.0.0.1:9'");  // nothing answers there

  auto* a = start_gateway("gw-a", media_base(), /*place_calls=*/true);
  ASSERT_TRUE(a != nullptr);
  ASSERT_TRUE(eventually([&] { return job_state(job) == "sent" || job_state(job) == "failed"; }, 180s))
      << job_state(job);
  EXPECT_EQ(job_state(job), "sent") << field("SELECT error_code FROM fax_jobs WHERE id = " + j);
  EXPECT_EQ(field("SELECT gateway_address FROM attempts WHERE job_id = " + j), b_address);
}

}  // namespace
}  // namespace faxbridge::gateway
