#pragma once
// Test support for the media gateway's integration tests: the real Postgres harness (a
// database of its own per test), faxbridge-bus as a process, a real router, and two
// gateways in the test process on different SIP ports of 127.0.0.1. Gateway A places the
// queued jobs' calls; gateway B is the default route and answers for the users' numbers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <pqxx/pqxx>
#include <sstream>

#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/routes.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/fax/tiff_pages.hpp"
#include "faxbridge/gateway/gateway.hpp"
#include "faxbridge/router/router.hpp"
#include "faxbridge/testing/bus_database_test.hpp"
#include "faxbridge/testing/process.hpp"
#include "faxbridge/testing/sipp.hpp"

namespace faxbridge::gateway {

using namespace std::chrono_literals;
using faxbridge::testing::eventually;

class GatewayTest : public faxbridge::testing::BusAndDatabaseTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(start_bus_and_database("gateway", FAXBRIDGE_BUS_BIN));
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
  // A G4 document of `pages` pages stored as the job's pages, the job in state ready.
  std::int64_t ready_job(const std::string& number, std::int64_t sender, int pages = 1) {
    const std::string path = (spool_ / "pages.tiff").string();
    fax::TestDocumentSpec spec;
    spec.pages = pages;
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
      d.page_count = pages;
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
    sql("UPDATE fax_jobs SET state = 'ready', page_count = " + std::to_string(pages) +
        ", pages_document_id = " + std::to_string(doc->id) +
        " WHERE id = " + std::to_string(j->id));
    (void)bus::announce_work(*publisher_, router::kReadyStage, j->id);
    return j->id;
  }

  // The SIP port is picked here: free_port() checks TCP, and on a machine where other
  // tests hold many ephemeral UDP ports the one picked may be taken for UDP, so a port
  // the agent cannot bind is replaced by another (a few times).
  // `tweak` adjusts the settings last (channels, timers, metrics, a fixed SIP port, ...).
  Gateway* start_gateway(const std::string& instance, int media_base, bool place_calls,
                         const std::function<void(GatewaySettings&)>& tweak = {}) {
    GatewaySettings s;
    s.instance = instance;
    s.sip.bind_address = "127.0.0.1";
    s.sip.transaction_timeout = 4000ms;
    s.media_address = "127.0.0.1";
    s.media_port_min = media_base;
    s.media_port_max = media_base + 18;
    s.channels = 2;
    s.place_calls = place_calls;
    s.claim_interval = 200ms;
    // Shorter than the ~20 s call: the job only stays ours (and ends sent, not interrupted
    // by the router's tick) because the gateway renews the lease while the call runs.
    // Not much shorter: on a loaded CI machine a renewal may wait seconds for its commit,
    // and a lease of a few seconds then lapses mid-call (the call is hung up, as it must).
    s.lease = 15s;
    s.spool_dir = spool_.string();
    Result<std::unique_ptr<Gateway>> g = Error(Code::k_sip_start_failed, "not started");
    for (int attempt = 0; attempt < 5 && !g && g.error().code == Code::k_sip_start_failed; ++attempt) {
      s.sip.port = faxbridge::testing::free_port();
      if (tweak) tweak(s);
      // Its own connections, as a gateway process has: the router and the other gateway
      // of this test do not take the connections its lease renewals wait for.
      pools_.push_back(std::make_unique<db::Pool>(db::PoolSettings{dsn_, 8}));
      g = Gateway::start(*pools_.back(), *publisher_, ports_.subscribe_endpoint(), s);
    }
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
  std::pair<Gateway*, Gateway*> start_pair(const std::function<void(GatewaySettings&)>& tweak_a = {},
                                           const std::function<void(GatewaySettings&)>& tweak_b = {}) {
    auto* b = start_gateway("gw-b", media_base() + 20, /*place_calls=*/false, tweak_b);
    if (b == nullptr) return {nullptr, nullptr};
    sip_b_ = b->settings().sip.port;
    default_route("127.0.0.1:" + std::to_string(sip_b_));
    start_router();
    auto* a = start_gateway("gw-a", media_base(), /*place_calls=*/true, tweak_a);
    if (a == nullptr) return {nullptr, nullptr};
    EXPECT_TRUE(eventually([&] { return a->connected() && b->connected(); }, 10s));
    return {a, b};
  }
  // A setting as the administrator would change it (versioned; read by the gateways per call).
  void set_setting(const std::string& key, const std::string& value_json) {
    auto r = pool_->transact([&](db::Tx& tx) { return db::settings::set(tx, key, value_json); });
    ASSERT_TRUE(r) << r.error().to_string();
  }
  // Media ports of this test process: below the ephemeral range, apart from other tests'.
  static int media_base() { return 20000 + 40 * (::getpid() % 300); }
  // SIPp with `scenario` (a full path), its logs under the spool.
  faxbridge::testing::SippRun sipp(const std::string& scenario) {
    faxbridge::testing::SippRun run;
    run.binary = FAXBRIDGE_SIPP_BIN;
    run.scenario = scenario;
    run.dir = spool_ / ("sipp-" + std::filesystem::path(scenario).stem().string());
    return run;
  }
  std::string job_state(std::int64_t job) { return field("SELECT state FROM fax_jobs WHERE id = " + std::to_string(job)); }
  // What to print when a job did not end as expected: its state and error and each
  // attempt's outcome, SIP status, error and T.30 code.
  std::string job_story(std::int64_t job) {
    const std::string j = std::to_string(job);
    return field("SELECT state || ' ' || coalesce(error_code, '-') FROM fax_jobs WHERE id = " + j) + "; attempts: " +
           field("SELECT coalesce(string_agg(coalesce(outcome::text, 'open') || '/' || coalesce(sip_status::text, '-') || "
                 "'/' || coalesce(error_code, '-') || '/' || coalesce(t30_code::text, '-'), ', ' ORDER BY id), 'none') "
                 "FROM attempts WHERE job_id = " + j);
  }

  std::unique_ptr<router::Router> router_;
  std::vector<std::unique_ptr<db::Pool>> pools_;  // outlive the gateways that use them
  std::vector<std::unique_ptr<Gateway>> gateways_;
  std::filesystem::path spool_;
  int sip_b_ = 0;  // gateway B's SIP port once start_pair() ran
};

}  // namespace faxbridge::gateway
