// The service skeleton as a real process (bus_queue_worker runs on service::Runtime):
// what an operator sees when the database or the bus is missing, and bad configuration.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/testing/process.hpp"

namespace faxbridge {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::eventually;

struct Health {
  int status = 0;
  std::string body;
};

Health healthz(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1);
  c.set_read_timeout(3);
  auto r = c.Get("/healthz");
  if (!r) return {};
  return {r->status, r->body};
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/faxbridge-rt-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
    else std::cerr << "logs kept in " << dir_ << "\n";
  }
  std::unique_ptr<Child> start_service(const std::string& dsn, std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env{
        {"FAXBRIDGE_DB_DSN", dsn},
        {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", ports_.publish_endpoint()},
        {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", ports_.subscribe_endpoint()},
        {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
        {"FAXBRIDGE_HTTP_PORT", std::to_string(http_port_)}};
    for (auto& [k, v] : extra) env[k] = v;
    return std::make_unique<Child>(FAXBRIDGE_QUEUE_WORKER_BIN, std::vector<std::string>{}, env, log_file());
  }
  std::string log_file() const { return dir_ + "/service.log"; }

  std::string dir_;
  testing::Ports ports_;
  int http_port_ = testing::free_port();
};

TEST_F(RuntimeTest, ADatabaseDownAtStartIsWaitedForAndHealthzTellsUntilItRecovers) {
  auto cluster = db::testing::PgCluster::start();
  ASSERT_TRUE(cluster) << cluster.error().to_string();
  auto dsn = (*cluster)->create_database("rt");
  ASSERT_TRUE(dsn);
  ASSERT_TRUE((*cluster)->stop());
  auto bus = testing::start_bus(FAXBRIDGE_BUS_BIN, ports_);
  auto svc = start_service(*dsn);

  ASSERT_TRUE(eventually([&] { return healthz(http_port_).status == 503; }, 20s));
  EXPECT_NE(healthz(http_port_).body.find("\"db\""), std::string::npos);
  ASSERT_TRUE(eventually([&] { return slurp(log_file()).find("\"event\":\"db.waiting\"") != std::string::npos; }, 20s));
  EXPECT_NE(slurp(log_file()).find("\"code\":\"db.unavailable\""), std::string::npos);
  EXPECT_TRUE(svc->running());

  ASSERT_TRUE((*cluster)->restart());
  ASSERT_TRUE(eventually([&] { return healthz(http_port_).status == 200; }, 60s)) << healthz(http_port_).body;
  EXPECT_NE(slurp(log_file()).find("\"event\":\"db.migration_applied\""), std::string::npos);

  // Lost while running: not ready, then ready again, with no restart.
  ASSERT_TRUE((*cluster)->stop());
  ASSERT_TRUE(eventually([&] { return healthz(http_port_).status == 503; }, 30s));
  ASSERT_TRUE((*cluster)->restart());
  ASSERT_TRUE(eventually([&] { return healthz(http_port_).status == 200; }, 60s));
  EXPECT_TRUE(svc->running());

  svc->signal(SIGTERM);
  auto status = svc->wait(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
}

TEST_F(RuntimeTest, HealthzFollowsTheBus) {
  const std::string dsn = db::testing::migrated_database("rtbus");
  auto svc = start_service(dsn);
  ASSERT_TRUE(eventually([&] { return healthz(http_port_).status == 503; }, 20s));
  EXPECT_NE(healthz(http_port_).body.find("not connected"), std::string::npos);
  auto bus = testing::start_bus(FAXBRIDGE_BUS_BIN, ports_);
  ASSERT_TRUE(eventually([&] { return healthz(http_port_).status == 200; }, 30s)) << healthz(http_port_).body;
  bus.reset();  // SIGKILL
  ASSERT_TRUE(eventually([&] { return healthz(http_port_).status == 503; }, 30s));
  bus = testing::start_bus(FAXBRIDGE_BUS_BIN, ports_);
  ASSERT_TRUE(eventually([&] { return healthz(http_port_).status == 200; }, 30s));
}

TEST_F(RuntimeTest, MetricsShowsTheRegistryTheMainHandsToItsParts) {
  // The worker gives &rt.metrics() to its consumer, whose first sweep (no rows) makes
  // the claims series: the side port renders the runtime's registry.
  const std::string dsn = db::testing::migrated_database("rtmetrics");
  auto bus = testing::start_bus(FAXBRIDGE_BUS_BIN, ports_);
  auto svc = start_service(dsn);
  std::string body;
  EXPECT_TRUE(eventually([&] {
    httplib::Client c("127.0.0.1", http_port_);
    c.set_connection_timeout(1);
    auto r = c.Get("/metrics");
    if (r) body = r->body;
    return body.find("faxbridge_queue_claims_total{stage=\"test\",via=\"sweep\"}") != std::string::npos;
  }, 30s)) << body;
}

TEST_F(RuntimeTest, InvalidConfigurationStopsStartUpNamingEachVariable) {
  auto svc = start_service("", {{"FAXBRIDGE_DB_POOL_SIZE", "many"}, {"FAXBRIDGE_LOG_LEVEL", "chatty"}});
  auto status = svc->wait(20s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2);
  const std::string out = slurp(log_file());
  EXPECT_NE(out.find("[config.invalid]"), std::string::npos) << out;
  EXPECT_NE(out.find("FAXBRIDGE_DB_DSN is not set"), std::string::npos) << out;
  EXPECT_NE(out.find("FAXBRIDGE_DB_POOL_SIZE=\"many\" is invalid; expected an integer from 1 to 200"),
            std::string::npos) << out;
  EXPECT_NE(out.find("FAXBRIDGE_LOG_LEVEL=\"chatty\" is invalid"), std::string::npos) << out;
}

}  // namespace
}  // namespace faxbridge
