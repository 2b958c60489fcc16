// RouteHealth: which address a ping goes to, what a ping result means, and the dialling
// order that moves addresses known to be down to the end without ever dropping one.
#include "faxbridge/gateway/route_health.hpp"

#include <gtest/gtest.h>

namespace faxbridge::gateway {
namespace {

sip::GatewayHealth ping(const std::string& target, bool up, int status, std::int64_t rtt = 3) {
  sip::GatewayHealth h;
  h.target = target;
  h.up = up;
  h.last_status = status;
  h.round_trip_ms = rtt;
  return h;
}

TEST(RouteHealth, PingTargetsAreHostAndPortOfAnyAddressSpelling) {
  EXPECT_EQ(RouteHealth::ping_target("pbx.example.test"), "pbx.example.test");
  EXPECT_EQ(RouteHealth::ping_target("10.0.0.5:5080"), "10.0.0.5:5080");
  EXPECT_EQ(RouteHealth::ping_target("sip:10.0.0.5:5080"), "10.0.0.5:5080");
  EXPECT_EQ(RouteHealth::ping_target("sip:trunk@gw.example.test:5060;transport=tcp"), "gw.example.test:5060;transport=tcp");
  EXPECT_EQ(RouteHealth::ping_target("gw.example.test:5061;transport=tls"), "gw.example.test:5061;transport=tls");
  EXPECT_EQ(RouteHealth::ping_target("sips:gw.example.test:5061"), "gw.example.test:5061;transport=tls");
  EXPECT_EQ(RouteHealth::ping_target("gw.example.test;transport=udp"), "gw.example.test");
  EXPECT_EQ(RouteHealth::ping_target("<sip:gw.example.test>"), "gw.example.test");
  EXPECT_EQ(RouteHealth::ping_target("gw example"), "");  // nothing the agent could ping
}

TEST(RouteHealth, AnAddressKnownDownIsDialledLastAndNeverDropped) {
  RouteHealth h;
  EXPECT_TRUE(h.set_addresses({"a:5060", "b:5060", "c:5060"}));
  EXPECT_EQ(h.order({"a:5060", "b:5060", "c:5060"}), (std::vector<std::string>{"a:5060", "b:5060", "c:5060"}));
  (void)h.record(ping("a:5060", false, 408));
  (void)h.record(ping("b:5060", true, 200));
  EXPECT_TRUE(h.is_down("a:5060"));
  EXPECT_FALSE(h.is_down("b:5060"));
  EXPECT_FALSE(h.is_down("c:5060"));  // never pinged yet: unknown is not down
  EXPECT_EQ(h.order({"a:5060", "b:5060", "c:5060"}), (std::vector<std::string>{"b:5060", "c:5060", "a:5060"}));
  // Back up: back in its place.
  (void)h.record(ping("a:5060", true, 200));
  EXPECT_EQ(h.order({"a:5060", "b:5060", "c:5060"}), (std::vector<std::string>{"a:5060", "b:5060", "c:5060"}));
  // Everything down: the configured order, all still there.
  for (const char* t : {"a:5060", "b:5060", "c:5060"}) (void)h.record(ping(t, false, 503));
  EXPECT_EQ(h.order({"a:5060", "b:5060", "c:5060"}), (std::vector<std::string>{"a:5060", "b:5060", "c:5060"}));
}

TEST(RouteHealth, ARouteEditChangesTheTargetsAndForgetsRemovedAddresses) {
  RouteHealth h;
  EXPECT_TRUE(h.set_addresses({"a:5060", "sip:a:5060"}));
  EXPECT_EQ(h.ping_targets(), (std::vector<std::string>{"a:5060"}));
  // One ping, one row per spelling of the address in the routes.
  const auto rows = h.record(ping("a:5060", false, 408));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, "down");
  EXPECT_EQ(rows[0].last_status, 408);
  EXPECT_FALSE(h.set_addresses({"sip:a:5060", "a:5060"}));  // same targets: nothing to do
  EXPECT_TRUE(h.set_addresses({"b:5060"}));
  EXPECT_EQ(h.ping_targets(), (std::vector<std::string>{"b:5060"}));
  EXPECT_FALSE(h.is_down("a:5060"));
  EXPECT_TRUE(h.record(ping("a:5060", false, 408)).empty());  // a late ping of a removed target
}

TEST(RouteHealth, RowsSayStateStatusAndRoundTrip) {
  const auto up = health_row("gw:5060", ping("gw:5060", true, 200, 7));
  EXPECT_EQ(up.state, "up");
  EXPECT_EQ(up.rtt_ms, 7);
  EXPECT_EQ(up.last_status, 200);
  const auto down = health_row("gw:5060", ping("gw:5060", false, 503, 4000));
  EXPECT_EQ(down.state, "down");
  EXPECT_EQ(down.detail, "OPTIONS failed with 503");
}

}  // namespace
}  // namespace faxbridge::gateway
