#include "faxbridge/http/side_port.hpp"

#include <stdexcept>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "faxbridge/core/metrics.hpp"

using namespace faxbridge;
using nlohmann::json;

namespace {
http::HealthCheck fixed(std::string name, bool ok, std::string detail) {
  return {std::move(name), [ok, detail](std::string& d) {
            d = detail;
            return ok;
          }};
}

int start(http::SidePort& port) {
  auto r = port.start();
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : 0;
}
}  // namespace

TEST(SidePort, HealthzIsReadyWhenEveryProbePasses) {
  http::SidePort port("127.0.0.1", 0, {fixed("db", true, "3 connections")}, nullptr);
  port.add_check(fixed("bus", true, "connected"));
  httplib::Client client("127.0.0.1", start(port));
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  auto body = json::parse(res->body);
  EXPECT_EQ(body["status"], "ready");
  EXPECT_EQ(body["checks"]["db"]["ok"], true);
  EXPECT_EQ(body["checks"]["db"]["detail"], "3 connections");
  EXPECT_EQ(body["checks"]["bus"]["detail"], "connected");
}

TEST(SidePort, HealthzIsNotReadyWhenAProbeFails) {
  http::SidePort port("127.0.0.1", 0, {fixed("db", true, ""), fixed("bus", false, "no bus")}, nullptr);
  httplib::Client client("127.0.0.1", start(port));
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  auto body = json::parse(res->body);
  EXPECT_EQ(body["status"], "not_ready");
  EXPECT_EQ(body["checks"]["bus"]["ok"], false);
  EXPECT_EQ(body["checks"]["bus"]["detail"], "no bus");
}

TEST(SidePort, AThrowingProbeCountsAsFailed) {
  http::SidePort port("127.0.0.1", 0,
                      {{"db", [](std::string&) -> bool { throw std::runtime_error("boom"); }}}, nullptr);
  httplib::Client client("127.0.0.1", start(port));
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  auto body = json::parse(res->body);
  EXPECT_EQ(body["checks"]["db"]["ok"], false);
  EXPECT_NE(body["checks"]["db"]["detail"].get<std::string>().find("boom"), std::string::npos);
}

TEST(SidePort, NoChecksMeansReady) {
  http::SidePort port("127.0.0.1", 0, {}, nullptr);
  httplib::Client client("127.0.0.1", start(port));
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(SidePort, MetricsRendersTheRegistryItWasGiven) {
  metrics::Registry registry;
  auto& counter = registry.counter("faxbridge_side_port_test_total", "A counter only this test bumps.");
  counter.inc(3);
  http::SidePort port("127.0.0.1", 0, {}, &registry);
  httplib::Client client("127.0.0.1", start(port));
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  const std::string line = "faxbridge_side_port_test_total " + std::to_string(counter.value());
  EXPECT_NE(res->body.find(line), std::string::npos) << res->body;
  EXPECT_EQ(res->body, registry.render());  // that registry and nothing else
}

TEST(SidePort, MetricsWithoutARegistryIsAnEmptyExposition) {
  http::SidePort port("127.0.0.1", 0, {}, nullptr);
  httplib::Client client("127.0.0.1", start(port));
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_EQ(res->body, "");
}

TEST(SidePort, UnknownPathIsA404WithAStableCode) {
  http::SidePort port("127.0.0.1", 0, {}, nullptr);
  httplib::Client client("127.0.0.1", start(port));
  auto res = client.Get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  auto body = json::parse(res->body);
  EXPECT_EQ(body["code"], "http.not_found");
  auto post = client.Post("/healthz", "", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
}

TEST(SidePort, BindFailureIsIoFailedWithTheAddress) {
  http::SidePort first("127.0.0.1", 0, {}, nullptr);
  const int taken = start(first);
  http::SidePort second("127.0.0.1", taken, {}, nullptr);
  auto r = second.start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_io_failed);
  EXPECT_NE(r.error().to_string().find("127.0.0.1"), std::string::npos);
}

TEST(SidePort, StopRightAfterStartReturns) {
  for (int i = 0; i < 20; ++i) {
    http::SidePort port("127.0.0.1", 0, {}, nullptr);
    (void)start(port);
    port.stop();
    port.stop();
  }
}
