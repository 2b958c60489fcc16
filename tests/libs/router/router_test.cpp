// The router against the real Postgres and the real bus (faxbridge-bus as a process),
// with the scripted gateway stand-in of fake_gateway.hpp placing the "calls".
#include "faxbridge/router/router.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "fake_gateway.hpp"
#include "faxbridge/bus.pb.h"
#include "faxbridge/bus/topics.hpp"
#include "faxbridge/core/reference.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/routes.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/testing/bus_database_test.hpp"
#include "faxbridge/testing/process.hpp"

namespace faxbridge::router {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::eventually;
using faxbridge::testing::FakeGateway;
using faxbridge::testing::ScriptedCall;

class RouterTest : public faxbridge::testing::BusAndDatabaseTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(start_bus_and_database("router", FAXBRIDGE_BUS_BIN));
    set("receipts.return_enabled", "true");
    set("company.admin_email", "\"fax-admin@example.test\"");
    sender_ = add_user("alice", "alice@example.test", std::nullopt);
    default_route({"pbx.example.test", "pbx-backup.example.test"});
  }
  void TearDown() override {
    gateways_.clear();
    routers_.clear();
    for (auto& p : router_processes_) {
      p->signal(SIGTERM);
      auto status = p->wait(30s);
      EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "a router did not stop cleanly";
    }
  }

  void set(const std::string& key, const std::string& json) {
    auto r = pool_->transact([&](db::Tx& tx) { return db::settings::set(tx, key, json); });
    ASSERT_TRUE(r) << r.error().to_string();
  }
  std::int64_t add_user(const std::string& name, const std::string& email, std::optional<std::string> fax,
                        bool receive = true, bool send = true, bool to_email = true) {
    db::User u;
    u.username = name;
    u.email = email;
    u.fax_number = std::move(fax);
    u.enable_receive = receive;
    u.enable_send = send;
    u.enable_fax_to_email = to_email;
    u.fax_to_email_address = email;
    auto r = pool_->transact([&](db::Tx& tx) { return db::users::create(tx, u); });
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? r->id : 0;
  }
  std::int64_t add_route(const std::string& prefix, std::vector<std::string> gateways) {
    db::Route route;
    route.prefix = prefix;
    route.is_default = prefix.empty();
    for (auto& g : gateways) route.gateways.push_back({g});
    auto r = pool_->transact([&](db::Tx& tx) { return db::routes::create(tx, route); });
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? r->id : 0;
  }
  std::int64_t default_route(std::vector<std::string> gateways) { return add_route("", std::move(gateways)); }

  // A converted job (state ready, `pages` pages), announced to the routers.
  std::int64_t ready_job(const std::string& number, int pages = 2, std::optional<std::int64_t> sender = {},
                         bool announce = true) {
    auto j = pool_->transact([&](db::Tx& tx) {
      db::NewJob n;
      n.recipient_number = number;
      n.recipient_canonical = number;
      n.sender_user_id = sender ? sender : sender_;
      return db::jobs::create(tx, n, "test");
    });
    EXPECT_TRUE(j);
    sql("UPDATE fax_jobs SET state = 'ready', page_count = " + std::to_string(pages) + " WHERE id = " +
        std::to_string(j->id));
    if (announce) (void)bus::announce_work(*publisher_, kReadyStage, j->id);
    return j->id;
  }

  std::string state(std::int64_t job) {
    return sql("SELECT state FROM fax_jobs WHERE id = " + std::to_string(job))[0][0].as<std::string>();
  }
  std::string field(std::int64_t job, const std::string& column) {
    auto f = sql("SELECT " + column + "::text FROM fax_jobs WHERE id = " + std::to_string(job))[0][0];
    return f.is_null() ? "(null)" : f.as<std::string>();
  }
  bool reaches(std::int64_t job, const std::string& s, std::chrono::seconds limit = 30s) {
    return eventually([&] { return state(job) == s; }, limit);
  }

  Router& start_router(const std::string& name = "router-1") {
    RouterSettings rs;
    rs.instance = name;
    rs.sweep_interval = 300ms;
    rs.tick = 100ms;
    routers_.push_back(std::make_unique<Router>(*pool_, *publisher_, ports_.subscribe_endpoint(), rs));
    routers_.back()->start();
    return *routers_.back();
  }
  // The real faxbridge-router as a separate process.
  void start_router_process(const std::string& name) {
    std::map<std::string, std::string> env{{"FAXBRIDGE_DB_DSN", dsn_},
                                           {"FAXBRIDGE_INSTANCE_ID", name},
                                           {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", ports_.publish_endpoint()},
                                           {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", ports_.subscribe_endpoint()},
                                           {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
                                           {"FAXBRIDGE_HTTP_PORT", "0"},
                                           {"FAXBRIDGE_ROUTER_SWEEP_MS", "300"},
                                           {"FAXBRIDGE_LOG_LEVEL", "warn"}};
    router_processes_.push_back(std::make_unique<faxbridge::testing::Child>(FAXBRIDGE_ROUTER_BIN,
                                                                            std::vector<std::string>{}, env));
  }
  FakeGateway& start_gateway(faxbridge::testing::Script script = faxbridge::testing::sends_everything,
                             const std::string& name = "gw-1", int channels = 4, int max_concurrent = 100) {
    gateways_.push_back(
        std::make_unique<FakeGateway>(dsn_, ports_.publish_endpoint(), name, channels, max_concurrent, std::move(script)));
    gateways_.back()->start();
    return *gateways_.back();
  }

  std::int64_t sender_ = 0;
  std::vector<std::unique_ptr<Router>> routers_;
  std::vector<std::unique_ptr<faxbridge::testing::Child>> router_processes_;
  std::vector<std::unique_ptr<FakeGateway>> gateways_;
};

TEST_F(RouterTest, ASuccessfulSendGoesThroughEveryStateWithAReceipt) {
  set("routing.global_prefix", "\"0\"");
  start_router();
  start_gateway();
  auto job = ready_job("+390297865403", 3);
  ASSERT_TRUE(reaches(job, "sent"));
  auto events = pool_->transact([&](db::Tx& tx) { return db::jobs::events(tx, job); });
  std::vector<std::string> states;
  for (const auto& e : *events) states.push_back(e.to_state);
  // Claims are moves too: the router's (routing) and the gateway's (dialing).
  EXPECT_EQ(states, (std::vector<std::string>{"submitted", "routing", "queued", "dialing", "sending", "sent"}));
  EXPECT_TRUE(ReferenceNumber::parse(field(job, "reference")).has_value());
  EXPECT_EQ(field(job, "dial_number"), "000390297865403");  // global prefix + international form
  EXPECT_EQ(field(job, "pages_sent"), "3");
  EXPECT_EQ(sql("SELECT state || '/' || outcome FROM attempts WHERE job_id = " + std::to_string(job))[0][0].as<std::string>(),
            "applied/sent");
  ASSERT_TRUE(eventually([&] {
    return sql("SELECT count(*) FROM notifications WHERE kind = 'return_receipt' AND recipient = 'alice@example.test' "
               "AND job_id = " + std::to_string(job))[0][0].as<int>() == 1;
  }));
}

// Webhook events are written with the state changes (db::webhook_events): every event
// to a system-wide endpoint, the sender's endpoint its own faxes, another user's none.
TEST_F(RouterTest, AQueuedThenSentFaxWritesTheWebhookEventsOfItsEndpoints) {
  const auto bob = add_user("bob", "bob@example.test", std::nullopt);
  auto hook = [&](std::optional<std::int64_t> owner, std::vector<std::string> events) {
    db::WebhookEndpoint w;
    w.url = "https://hooks.example.test/" + std::to_string(owner.value_or(0)) + "/" + std::to_string(events.size());
    w.secret = "whsec_AAAA";
    w.user_id = owner;
    w.events = std::move(events);
    auto r = pool_->transact([&](db::Tx& tx) { return db::webhooks::create(tx, w); });
    EXPECT_TRUE(r) << r.error().to_string();
    return r->id;
  };
  const auto system = hook(std::nullopt, {});
  const auto mine = hook(sender_, {"fax.sent"});
  hook(bob, {});
  start_router();
  start_gateway();
  auto job = ready_job("+390297865403", 1);
  ASSERT_TRUE(reaches(job, "sent"));
  auto rows = sql("SELECT webhook_id, payload->>'event' FROM notifications WHERE kind = 'webhook' AND job_id = " +
                  std::to_string(job) + " ORDER BY id");
  std::vector<std::string> got;
  for (const auto& r : rows) {
    const auto id = r[0].as<std::int64_t>();
    got.push_back((id == system ? "system:" : id == mine ? "mine:" : "other:") + r[1].as<std::string>());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"system:fax.queued", "system:fax.sent", "mine:fax.sent"}));
}

TEST_F(RouterTest, RouteChoiceTakesTheLongestPrefixThenTheDefault) {
  const auto r06 = add_route("06", {"gw-rome-1", "gw-rome-2"});
  const auto r0612 = add_route("0612", {"gw-special"});
  start_router();
  auto a = ready_job("0612345678", 1, {}, true);
  auto b = ready_job("0655555555", 1, {}, true);
  auto c = ready_job("0299999999", 1, {}, true);
  for (auto j : {a, b, c}) ASSERT_TRUE(reaches(j, "queued"));
  EXPECT_EQ(field(a, "route_id"), std::to_string(r0612));
  EXPECT_EQ(field(b, "route_id"), std::to_string(r06));
  EXPECT_NE(field(c, "route_id"), std::to_string(r06));
  EXPECT_NE(field(c, "route_id"), "(null)");  // the default route
}

TEST_F(RouterTest, NoDefaultRouteFailsTheJobAndAlertsTheAdministrator) {
  sql("DELETE FROM routes");
  start_router();
  auto job = ready_job("0299999999");
  ASSERT_TRUE(reaches(job, "failed"));
  EXPECT_EQ(field(job, "error_code"), "route.no_default");
  EXPECT_EQ(field(job, "error_category"), "policy");
  EXPECT_EQ(sql("SELECT count(*) FROM notifications WHERE kind = 'admin_alert'")[0][0].as<int>(), 1);
}

TEST_F(RouterTest, ARouteWithoutAGatewayAddressFailsTheJobAsSuch) {
  add_route("06", {});
  sql("DELETE FROM route_gateways");  // the default route has no address either
  start_router();
  auto job = ready_job("0612345678");
  ASSERT_TRUE(reaches(job, "failed"));
  EXPECT_EQ(field(job, "error_code"), "route.no_gateway");
  EXPECT_EQ(field(job, "error_category"), "policy");
  EXPECT_EQ(sql("SELECT count(*) FROM notifications WHERE kind = 'admin_alert'")[0][0].as<int>(), 1);
}

TEST_F(RouterTest, BusyThenSuccessWaitsTheBusyIntervalBetweenAttempts) {
  set("fax.retry_busy_s", "45");
  std::atomic<int> tries{0};
  start_router();
  start_gateway([&](const db::outbound::Call& call) {
    ScriptedCall s = faxbridge::testing::sends_everything(call);
    if (tries++ == 0) {
      s.end.outcome = db::Outcome::kBusy;
      s.end.sip_status = 486;
      s.end.pages_sent = 0;
      s.end.phase_reached = "A";
    }
    return s;
  });
  auto job = ready_job("0212345678");
  ASSERT_TRUE(reaches(job, "retry_wait"));
  // The wait is exactly the busy interval from the moment of the decision.
  EXPECT_EQ(sql("SELECT extract(epoch FROM not_before - updated_at)::int FROM fax_jobs WHERE id = " +
                std::to_string(job))[0][0].as<int>(),
            45);
  EXPECT_EQ(field(job, "error_code"), "call.busy");
  EXPECT_EQ(field(job, "error_retryable"), "true");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(state(job), "retry_wait");  // not before its time
  sql("UPDATE fax_jobs SET not_before = now() WHERE id = " + std::to_string(job));  // the clock moves on
  ASSERT_TRUE(reaches(job, "sent"));
  EXPECT_EQ(field(job, "attempts"), "2");
}

TEST_F(RouterTest, AttemptsRunOutAfterTheConfiguredNumber) {
  set("fax.max_attempts", "2");
  start_router();
  start_gateway([](const db::outbound::Call&) {
    ScriptedCall s;
    s.end.outcome = db::Outcome::kNoAnswer;
    s.end.sip_status = 480;
    return s;
  });
  auto job = ready_job("0212345678");
  ASSERT_TRUE(reaches(job, "retry_wait"));
  sql("UPDATE fax_jobs SET not_before = now() WHERE id = " + std::to_string(job));
  ASSERT_TRUE(reaches(job, "failed"));
  EXPECT_EQ(field(job, "error_code"), "call.no_answer");
  EXPECT_EQ(field(job, "attempts"), "2");
  ASSERT_TRUE(eventually([&] {
    return sql("SELECT count(*) FROM notifications WHERE kind = 'failure_receipt'")[0][0].as<int>() == 1;
  }));
}

TEST_F(RouterTest, AnInvalidNumberFailsAtOnce) {
  start_router();
  start_gateway([](const db::outbound::Call&) {
    ScriptedCall s;
    s.end.outcome = db::Outcome::kRejected;
    s.end.sip_status = 404;
    s.end.error_code = "call.invalid_number";
    return s;
  });
  auto job = ready_job("0212345678");
  ASSERT_TRUE(reaches(job, "failed"));
  EXPECT_EQ(field(job, "error_code"), "call.invalid_number");
  EXPECT_EQ(field(job, "error_retryable"), "false");
  EXPECT_EQ(field(job, "attempts"), "1");
}

TEST_F(RouterTest, ASenderNotEnabledToSendIsRefusedWithAMessage) {
  const auto bob = add_user("bob", "bob@example.test", std::nullopt, true, /*send=*/false);
  start_router();
  auto job = ready_job("0212345678", 1, bob);
  ASSERT_TRUE(reaches(job, "failed"));
  EXPECT_EQ(field(job, "error_code"), "auth.send_not_enabled");
  ASSERT_TRUE(eventually([&] {
    return sql("SELECT count(*) FROM notifications WHERE kind = 'send_refused' AND recipient = 'bob@example.test'")[0][0]
               .as<int>() == 1;
  }));
  sql("UPDATE users SET enable_send = true, permission_level = 0 WHERE id = " + std::to_string(bob));
  auto again = ready_job("0212345678", 1, bob);
  ASSERT_TRUE(reaches(again, "failed"));  // level 0 may not send either
}

TEST_F(RouterTest, CancelWorksInEveryStateBeforeSent) {
  // No router or gateway running: the states stay where the test puts them.
  auto place = [&](const std::string& s, const std::string& owner = "") {
    auto job = ready_job("0212345678", 1, {}, false);
    sql("UPDATE fax_jobs SET state = '" + s + "'" + (owner.empty() ? "" : ", owner = '" + owner + "', lease_until = now() + interval '1 minute'") +
        " WHERE id = " + std::to_string(job));
    return job;
  };
  for (const std::string s : {"submitted", "ready", "queued", "retry_wait"}) {
    auto job = place(s);
    auto r = cancel_job(*pool_, *publisher_, job, "test");
    ASSERT_TRUE(r) << s << ": " << r.error().to_string();
    EXPECT_EQ(r->result, db::routing::CancelResult::kCancelled) << s;
    EXPECT_EQ(state(job), "cancelled") << s;
  }
  // Held by a converter or a router: flagged; the holder finishes it as cancelled.
  auto converting = place("converting", "conv-1");
  EXPECT_EQ(cancel_job(*pool_, *publisher_, converting, "test")->result, db::routing::CancelResult::kRequested);
  EXPECT_EQ(field(converting, "cancel_requested"), "true");
  auto routing = place("routing", "router-x");
  ASSERT_TRUE(cancel_job(*pool_, *publisher_, routing, "test"));
  sql("UPDATE fax_jobs SET lease_until = now() - interval '1 second' WHERE id = " + std::to_string(routing));
  start_router();  // takes the expired lease over and honours the request
  ASSERT_TRUE(reaches(routing, "cancelled"));

  // In a call: the gateway holding it is told to hang up over the bus.
  bus::Subscriber cancels(ports_.subscribe_endpoint(), {bus::topics::cancel_topic("gw-9")}, nullptr);
  ASSERT_TRUE(eventually([&] { return cancels.connected(); }, 10s));
  std::this_thread::sleep_for(200ms);
  auto dialing = place("dialing", "gw-9");
  auto r = cancel_job(*pool_, *publisher_, dialing, "test");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->gateway, "gw-9");
  auto msg = cancels.receive(5s);
  ASSERT_TRUE(msg && msg->has_value());
  EXPECT_EQ(bus::decode<bus::v1::CancelJob>(**msg, nullptr)->job_id(), dialing);

  auto sent = place("sent");
  auto refused = cancel_job(*pool_, *publisher_, sent, "test");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::k_job_not_cancellable);
}

TEST_F(RouterTest, ACancelDuringTheCallEndsCancelled) {
  start_router();
  start_gateway([&](const db::outbound::Call& call) {
    ScriptedCall s = faxbridge::testing::sends_everything(call);
    s.duration = 1500ms;
    s.end.outcome = db::Outcome::kCancelled;  // what the gateway reports after hanging up on request
    s.end.pages_sent = 0;
    s.end.phase_reached = "B";
    return s;
  });
  auto job = ready_job("0212345678");
  ASSERT_TRUE(reaches(job, "dialing"));
  ASSERT_TRUE(cancel_job(*pool_, *publisher_, job, "test"));
  ASSERT_TRUE(reaches(job, "cancelled"));
  EXPECT_EQ(sql("SELECT outcome FROM attempts WHERE job_id = " + std::to_string(job))[0][0].as<std::string>(),
            "cancelled");
}

// Two router processes, two gateways of 8 channels each, a global limit of 3
// concurrent calls and 200 jobs to 20 numbers: the attempts' time spans never overlap
// more than allowed.
TEST_F(RouterTest, LimitsHoldWithTwoRoutersAndTwoGateways) {
  constexpr int kJobs = 200;
  constexpr int kMax = 3;
  start_router_process("router-1");
  start_router_process("router-2");
  auto script = [](const db::outbound::Call& call) {
    ScriptedCall s = faxbridge::testing::sends_everything(call);
    s.duration = 15ms;
    return s;
  };
  start_gateway(script, "gw-1", 8, kMax);
  start_gateway(script, "gw-2", 8, kMax);
  for (int i = 0; i < kJobs; ++i) ready_job("02000000" + std::to_string(10 + i % 20), 1);
  ASSERT_TRUE(eventually([&] { return sql("SELECT count(*) FROM fax_jobs WHERE state = 'sent'")[0][0].as<int>() == kJobs; },
                         180s));
  const int overall = sql(
      "SELECT max((SELECT count(*) FROM attempts b WHERE b.started_at <= a.started_at AND b.ended_at > a.started_at)) "
      "FROM attempts a")[0][0].as<int>();
  const int per_number = sql(
      "SELECT coalesce(max((SELECT count(*) FROM attempts b WHERE b.dialled_number = a.dialled_number "
      "AND b.started_at <= a.started_at AND b.ended_at > a.started_at)), 0) FROM attempts a")[0][0].as<int>();
  EXPECT_LE(overall, kMax);
  EXPECT_GE(overall, 2);  // the test did run calls in parallel
  EXPECT_EQ(per_number, 1);
  EXPECT_EQ(sql("SELECT count(*) FROM attempts")[0][0].as<int>(), kJobs);
  EXPECT_GT(gateways_[0]->calls(), 0);
  EXPECT_GT(gateways_[1]->calls(), 0);
  EXPECT_EQ(sql("SELECT count(DISTINCT actor) FROM job_events WHERE to_state = 'queued'")[0][0].as<int>(), 2)
      << "both router processes routed jobs";
}

TEST_F(RouterTest, ACallWhoseGatewayDiedIsRetriedOnlyIfNoPageWent) {
  auto before_pages = ready_job("0211111111", 1, {}, false);
  auto during_pages = ready_job("0222222222", 1, {}, false);
  for (auto [job, s] : {std::pair{before_pages, "dialing"}, std::pair{during_pages, "sending"}}) {
    sql("UPDATE fax_jobs SET state = '" + std::string(s) + "', owner = 'gw-dead', attempts = 1, "
        "lease_until = now() - interval '1 second' WHERE id = " + std::to_string(job));
    sql("INSERT INTO attempts (job_id, attempt_no, gateway_instance) VALUES (" + std::to_string(job) + ", 1, 'gw-dead')");
  }
  start_router();
  ASSERT_TRUE(reaches(before_pages, "retry_wait"));
  EXPECT_EQ(field(before_pages, "error_code"), "call.interrupted");
  ASSERT_TRUE(reaches(during_pages, "failed"));
  EXPECT_EQ(field(during_pages, "error_code"), "fax.outcome_unknown");
  EXPECT_EQ(sql("SELECT count(*) FROM attempts WHERE outcome = 'interrupted' AND state = 'applied'")[0][0].as<int>(), 2);
}

class InboundTest : public RouterTest {
 protected:
  std::int64_t receive(const std::string& did, int pages = 1) {
    auto id = pool_->transact([&](db::Tx& tx) {
      db::ReceivedFax f;
      f.called_number = did;
      f.caller_number = "+3906123456";
      f.pages = pages;
      return db::received::create(tx, f);
    });
    EXPECT_TRUE(id);
    (void)bus::announce_work(*publisher_, kInboundStage, *id);
    return *id;
  }
  std::string fax_state(std::int64_t id) {
    return sql("SELECT state FROM received_faxes WHERE id = " + std::to_string(id))[0][0].as<std::string>();
  }
  std::vector<std::string> inbox_of(std::int64_t fax) {
    std::vector<std::string> out;
    for (const auto& r : sql("SELECT u.username FROM inbox_entries e JOIN users u ON u.id = e.user_id "
                             "WHERE e.received_fax_id = " + std::to_string(fax) + " ORDER BY u.username")) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  }
  bool routed(std::int64_t fax, const std::string& s = "routed", std::chrono::seconds limit = 30s) {
    return eventually([&] { return fax_state(fax) != "received" && fax_state(fax) != "routing"; }, limit) &&
           fax_state(fax) == s;
  }
};

TEST_F(InboundTest, ARoutedFaxWritesAReceivedEventForItsRecipientsEndpoints) {
  const auto carla = add_user("carla", "carla@example.test", "403");
  const auto dario = add_user("dario", "dario@example.test", "404");
  db::WebhookEndpoint w;
  w.secret = "whsec_AAAA";
  w.url = "https://hooks.example.test/carla";
  w.user_id = carla;
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) { return db::webhooks::create(tx, w); }));
  w.url = "https://hooks.example.test/dario";
  w.user_id = dario;
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) { return db::webhooks::create(tx, w); }));
  start_router();
  auto fax = receive("403");
  ASSERT_TRUE(routed(fax));
  auto rows = sql("SELECT recipient, payload->>'event' FROM notifications WHERE kind = 'webhook' AND received_fax_id = " +
                  std::to_string(fax));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].as<std::string>(), "https://hooks.example.test/carla");
  EXPECT_EQ(rows[0][1].as<std::string>(), "fax.received");
}

TEST_F(InboundTest, ReachesTheUserTheDefaultUserAGroupOrNobody) {
  add_user("carla", "carla@example.test", "403");
  add_user("dario", "dario@example.test", "404", /*receive=*/false);
  const auto e1 = add_user("elena", "elena@example.test", "410");
  const auto e2 = add_user("fabio", "fabio@example.test", "411", true, true, /*to_email=*/false);
  add_user("operator", "operator@example.test", std::nullopt);
  set("incoming.default_user", "\"operator\"");
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) -> Result<void> {
    auto g = db::groups::create(tx, "sales", "499");
    if (!g) return g.error();
    (void)db::groups::add_member(tx, g->id, e1);
    return db::groups::add_member(tx, g->id, e2);
  }));
  start_router();

  auto to_user = receive("403");
  auto to_disabled = receive("404");
  auto to_group = receive("499");
  auto to_unknown = receive("777");
  for (auto f : {to_user, to_disabled, to_group, to_unknown}) ASSERT_TRUE(routed(f)) << f;
  EXPECT_EQ(inbox_of(to_user), (std::vector<std::string>{"carla"}));
  EXPECT_EQ(inbox_of(to_disabled), (std::vector<std::string>{"operator"}));
  EXPECT_EQ(inbox_of(to_group), (std::vector<std::string>{"elena", "fabio"}));
  EXPECT_EQ(inbox_of(to_unknown), (std::vector<std::string>{"operator"}));
  // Fax-to-email per preference: fabio turned it off.
  EXPECT_EQ(sql("SELECT count(*) FROM notifications WHERE kind = 'fax_to_email' AND received_fax_id = " +
                std::to_string(to_group))[0][0].as<int>(),
            1);
  auto payload = nlohmann::json::parse(
      sql("SELECT payload::text FROM notifications WHERE kind = 'fax_to_email' AND received_fax_id = " +
          std::to_string(to_user))[0][0].as<std::string>());
  EXPECT_EQ(payload["format"], "pdf");
  EXPECT_EQ(payload["attach"], true);
  EXPECT_TRUE(ReferenceNumber::parse(
      sql("SELECT reference FROM received_faxes WHERE id = " + std::to_string(to_user))[0][0].as<std::string>())
                  .has_value());

  set("incoming.unknown_number", "\"refuse\"");
  ASSERT_TRUE(eventually([&] {
    // A settings change reaches the router within a tick; until then faxes go the old way.
    auto refused = receive("778");
    return routed(refused, "failed", 5s) && inbox_of(refused).empty();
  }, 30s));
}

TEST_F(InboundTest, AFailedCallWithoutPagesIsIgnoredOrReportedPerSetting) {
  add_user("carla", "carla@example.test", "403");
  start_router();
  auto silent = receive("403", 0);
  ASSERT_TRUE(routed(silent));
  EXPECT_TRUE(inbox_of(silent).empty());
  EXPECT_EQ(sql("SELECT count(*) FROM notifications")[0][0].as<int>(), 0);
  set("incoming.notify_failed_calls", "true");
  ASSERT_TRUE(eventually([&] {
    auto reported = receive("403", 0);
    return routed(reported, "routed", 5s) &&
           sql("SELECT count(*) FROM notifications WHERE kind = 'failed_incoming_call'")[0][0].as<int>() == 1;
  }, 30s));
}

TEST_F(RouterTest, RetentionDeletesExactlyTheOldRows) {
  set("retention.fax_days", "30");
  set("retention.cdr_days", "10");
  auto old_job = ready_job("0211111111", 1, {}, false);
  auto new_job = ready_job("0222222222", 1, {}, false);
  sql("INSERT INTO documents (kind, media_type, size_bytes, sha256, bytes) VALUES ('fax_pages', 'image/tiff', 1, "
      "sha256('x'), 'x')");
  sql("UPDATE fax_jobs SET state = 'sent', completed_at = now() - interval '31 days', pages_document_id = "
      "(SELECT max(id) FROM documents) WHERE id = " + std::to_string(old_job));
  sql("UPDATE fax_jobs SET state = 'sent', completed_at = now() - interval '29 days' WHERE id = " + std::to_string(new_job));
  sql("INSERT INTO attempts (job_id, attempt_no, gateway_instance, state, started_at) VALUES (" + std::to_string(new_job) +
      ", 1, 'gw', 'applied', now() - interval '11 days'), (" + std::to_string(new_job) +
      ", 2, 'gw', 'applied', now() - interval '9 days')");
  sql("INSERT INTO received_faxes (called_number, state, started_at) VALUES ('403', 'routed', now() - interval '31 days'), "
      "('403', 'routed', now() - interval '1 day')");
  RouterSettings rs;
  Router router(*pool_, *publisher_, ports_.subscribe_endpoint(), rs);
  ASSERT_TRUE(router.tick());  // loads the settings and runs retention once
  EXPECT_EQ(sql("SELECT count(*) FROM fax_jobs WHERE id = " + std::to_string(old_job))[0][0].as<int>(), 0);
  EXPECT_EQ(sql("SELECT count(*) FROM fax_jobs WHERE id = " + std::to_string(new_job))[0][0].as<int>(), 1);
  EXPECT_EQ(sql("SELECT count(*) FROM documents")[0][0].as<int>(), 0);
  EXPECT_EQ(sql("SELECT count(*) FROM received_faxes")[0][0].as<int>(), 1);
  EXPECT_EQ(sql("SELECT attempt_no FROM attempts")[0][0].as<int>(), 2);
  EXPECT_EQ(sql("SELECT count(*) FROM attempts")[0][0].as<int>(), 1);
}

}  // namespace
}  // namespace faxbridge::router

namespace faxbridge::router {
namespace {

TEST_F(RouterTest, AScheduledJobIsQueuedAtOnceAndDialledAtItsTime) {
  start_router();
  start_gateway();
  auto job = ready_job("0212345678", 1, {}, false);
  sql("UPDATE fax_jobs SET scheduled_at = now() + interval '1 hour', not_before = now() + interval '1 hour' "
      "WHERE id = " + std::to_string(job));
  (void)bus::announce_work(*publisher_, kReadyStage, job);
  ASSERT_TRUE(reaches(job, "queued"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(state(job), "queued");  // the gateway leaves it until its time
  sql("UPDATE fax_jobs SET not_before = now() WHERE id = " + std::to_string(job));  // an hour later
  ASSERT_TRUE(reaches(job, "sent"));
}

TEST_F(RouterTest, HigherPriorityJobsAreDialledFirst) {
  start_router();
  std::vector<std::int64_t> jobs;
  for (int i = 0; i < 4; ++i) jobs.push_back(ready_job("021000000" + std::to_string(i), 1));
  sql("UPDATE fax_jobs SET priority = 10 WHERE id = " + std::to_string(jobs[3]));
  for (auto j : jobs) ASSERT_TRUE(reaches(j, "queued"));
  start_gateway(faxbridge::testing::sends_everything, "gw-1", /*channels=*/1);
  for (auto j : jobs) ASSERT_TRUE(reaches(j, "sent"));
  EXPECT_EQ(sql("SELECT job_id FROM attempts ORDER BY started_at LIMIT 1")[0][0].as<std::int64_t>(), jobs[3]);
}

}  // namespace
}  // namespace faxbridge::router
