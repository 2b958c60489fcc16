// The media gateway end to end on loopback: the real Postgres harness, faxbridge-bus as a
// process, a real router, and two gateways in this process on different SIP ports.
// Gateway A places the queued job's call over SIP + T.38 to gateway B (the default route),
// which answers for user 403, receives the fax and hands it to the router's inbound stage.
#include "faxbridge/gateway/gateway.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/routes.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/fax/tiff_pages.hpp"
#include "faxbridge/router/router.hpp"
#include "faxbridge/testing/process.hpp"

namespace faxbridge::gateway {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::eventually;

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = db::testing::migrated_database("gateway");
    bus_ = faxbridge::testing::start_bus(FAXBRIDGE_BUS_BIN, ports_);
    pool_ = std::make_unique<db::Pool>(db::PoolSettings{dsn_, 8});
    publisher_ = std::make_unique<bus::Publisher>(ports_.publish_endpoint(), "test", "gateway-test");
    ASSERT_TRUE(eventually([&] { return publisher_->connected(); }, 10s));
    spool_ = std::filesystem::temp_directory_path() / ("gw-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(spool_);
  }
  void TearDown() override {
    gateways_.clear();
    if (router_) router_->stop();
    router_.reset();
    std::error_code ec;
    std::filesystem::remove_all(spool_, ec);
  }

  pqxx::result sql(const std::string& q) {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    auto r = w.exec(q);
    w.commit();
    return r;
  }
  std::string field(const std::string& q) {
    auto f = sql(q)[0][0];
    return f.is_null() ? "(null)" : f.as<std::string>();
  }
  std::int64_t add_user(const std::string& name, std::optional<std::string> fax) {
    db::User u;
    u.username = name;
    u.email = name + "@example.test";
    u.fax_number = std::move(fax);
    auto r = pool_->transact([&](db::Tx& tx) { return db::users::create(tx, u); });
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? r->id : 0;
  }
  void default_route(const std::string& address) {
    db::Route route;
    route.is_default = true;
    route.gateways.push_back({address});
    auto r = pool_->transact([&](db::Tx& tx) { return db::routes::create(tx, route); });
    ASSERT_TRUE(r) << r.error().to_string();
  }
  // A one-page G4 document stored as the job's pages, the job in state ready.
  std::int64_t ready_job(const std::string& number, std::int64_t sender) {
    const std::string path = (spool_ / "pages.tiff").string();
    fax::TestDocumentSpec spec;
    spec.pages = 1;
    spec.rows = 400;
    auto w = fax::write_test_document(path, spec);
    EXPECT_TRUE(w) << w.error().to_string();
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    auto doc = pool_->transact([&](db::Tx& tx) {
      db::Document d;
      d.kind = "fax_pages";
      d.media_type = "image/tiff";
      d.filename = "pages.tiff";
      d.page_count = 1;
      d.bytes = bytes.str();
      return db::documents::put(tx, d);
    });
    EXPECT_TRUE(doc) << doc.error().to_string();
    auto j = pool_->transact([&](db::Tx& tx) {
      db::NewJob n;
      n.recipient_number = number;
      n.recipient_canonical = number;
      n.sender_user_id = sender;
      return db::jobs::create(tx, n, "test");
    });
    EXPECT_TRUE(j);
    sql("UPDATE fax_jobs SET state = 'ready', page_count = 1, pages_document_id = " + std::to_string(doc->id) +
        " WHERE id = " + std::to_string(j->id));
    (void)bus::announce_work(*publisher_, router::kReadyStage, j->id);
    return j->id;
  }

  Gateway* start_gateway(const std::string& instance, int sip_port, int media_base, bool place_calls) {
    GatewaySettings s;
    s.instance = instance;
    s.sip.bind_address = "127.0.0.1";
    s.sip.port = sip_port;
    s.sip.transaction_timeout = 4000ms;
    s.media_address = "127.0.0.1";
    s.media_port_min = media_base;
    s.media_port_max = media_base + 18;
    s.channels = 2;
    s.place_calls = place_calls;
    s.claim_interval = 200ms;
    // Shorter than the ~20 s call: the job only stays ours (and ends sent, not interrupted
    // by the router's tick) because the gateway renews the lease while the call runs.
    s.lease = 6s;
    s.spool_dir = spool_.string();
    auto g = Gateway::start(*pool_, *publisher_, ports_.subscribe_endpoint(), s);
    if (!g) {
      ADD_FAILURE() << g.error().to_string();
      return nullptr;
    }
    gateways_.push_back(std::move(*g));
    return gateways_.back().get();
  }
  void start_router() {
    router::RouterSettings rs;
    rs.instance = "router-1";
    rs.sweep_interval = 300ms;
    rs.tick = 100ms;
    router_ = std::make_unique<router::Router>(*pool_, *publisher_, ports_.subscribe_endpoint(), rs);
    router_->start();
  }

  // Router, gateway A (places calls) and gateway B (answers, default route), connected.
  std::pair<Gateway*, Gateway*> start_pair() {
    const int sip_a = faxbridge::testing::free_port();
    const int sip_b = faxbridge::testing::free_port();
    const int media_base = 20000 + 40 * (::getpid() % 300);  // below the ephemeral range
    default_route("127.0.0.1:" + std::to_string(sip_b));
    start_router();
    auto* a = start_gateway("gw-a", sip_a, media_base, /*place_calls=*/true);
    auto* b = start_gateway("gw-b", sip_b, media_base + 20, /*place_calls=*/false);
    if (a == nullptr || b == nullptr) return {nullptr, nullptr};
    EXPECT_TRUE(eventually([&] { return a->connected() && b->connected(); }, 10s));
    return {a, b};
  }
  std::string job_state(std::int64_t job) { return field("SELECT state FROM fax_jobs WHERE id = " + std::to_string(job)); }

  std::string dsn_;
  faxbridge::testing::Ports ports_;
  std::unique_ptr<faxbridge::testing::Child> bus_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<bus::Publisher> publisher_;
  std::unique_ptr<router::Router> router_;
  std::vector<std::unique_ptr<Gateway>> gateways_;
  std::filesystem::path spool_;
};

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
      << field("SELECT state FROM fax_jobs WHERE id = " + j);
  EXPECT_EQ(field("SELECT state FROM fax_jobs WHERE id = " + j), "sent")
      << field("SELECT error_code FROM fax_jobs WHERE id = " + j);
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
  EXPECT_EQ(field("SELECT d.kind || '/' || d.page_count FROM received_faxes f JOIN documents d ON "
                  "d.id = f.tiff_document_id"),
            "received_tiff/1");
  EXPECT_EQ(field("SELECT count(*) FROM inbox_entries WHERE user_id = " + std::to_string(bob)), "1");
  EXPECT_EQ(a->stats().outbound_closed, 1u);
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
  EXPECT_EQ(job_state(job), "sent");
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
