// The outbound routes over HTTP (routing_routes.cpp): prefixes with ordered gateway
// addresses and their transports, the one default route, each address's health, the
// validation of prefixes and addresses, and a running router::Router that routes the
// next job by a route changed through the API, without a restart.
#include "admin_config_fixture.hpp"

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/routing.hpp"
#include "faxbridge/router/router.hpp"

namespace faxbridge::webapi::testing {
namespace {

using namespace std::chrono_literals;

class AdminRoutes : public AdminConfigTest {
 protected:
  json make_default(const std::string& address = "pbx.example.test") {
    auto r = admin_->post("/api/v1/admin/routes", {{"default", true}, {"gateways", {{{"address", address}}}}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json;
  }

  std::int64_t ready_job(const std::string& number) {
    auto j = pool_.transact([&](db::Tx& tx) {
      db::NewJob n;
      n.recipient_number = number;
      n.recipient_canonical = number;
      n.sender_user_id = user_id_;
      return db::jobs::create(tx, n, "test");
    });
    EXPECT_TRUE(j) << j.error().to_string();
    sql("UPDATE fax_jobs SET state = 'ready', page_count = 1 WHERE id = " + std::to_string(j->id));
    return j->id;
  }

  // The addresses a gateway will dial for the job, once the router has queued it.
  std::string queued_addresses(std::int64_t job) {
    for (int i = 0; i < 200; ++i) {
      auto r = sql("SELECT state, array_to_string(gateway_addresses, ' ') FROM fax_jobs WHERE id = " +
                   std::to_string(job));
      if (r[0][0].as<std::string>() == "queued") return r[0][1].as<std::string>();
      if (r[0][0].as<std::string>() == "failed") return "failed";
      std::this_thread::sleep_for(50ms);
    }
    return "not routed";
  }
};

TEST_F(AdminRoutes, CreateListGetWithGatewaysInOrderAndTheirHealth) {
  auto def = make_default("pbx.example.test");
  EXPECT_EQ(def["default"], true);
  EXPECT_EQ(def["prefix"], "");
  EXPECT_EQ(def["t38_policy"], "auto");
  auto r = admin_->post("/api/v1/admin/routes",
                        {{"prefix", "+3906"},
                         {"description", "Rome through the branch office"},
                         {"t38_policy", "require"},
                         {"gateways",
                          {{{"address", "rome-gw.example.test:5061"}, {"transport", "tls"}},
                           {{"address", "192.0.2.10"}},
                           {{"address", "[2001:db8::1]:5060"}, {"transport", "tcp"}}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  const auto id = r.json["id"].get<std::int64_t>();
  EXPECT_EQ(r.header("Location"), "/api/v1/admin/routes/" + std::to_string(id));
  ASSERT_EQ(r.json["gateways"].size(), 3u);
  EXPECT_EQ(r.json["gateways"][0]["address"], "rome-gw.example.test:5061");
  EXPECT_EQ(r.json["gateways"][0]["transport"], "tls");
  EXPECT_EQ(r.json["gateways"][1]["transport"], "udp");
  EXPECT_EQ(r.json["gateways"][0]["health"]["state"], "unknown");
  // What the gateway dials: the transport travels in the address (libs/sip target.cpp).
  auto stored = sql("SELECT address, transport FROM route_gateways WHERE route_id = " + std::to_string(id) +
                    " ORDER BY position");
  EXPECT_EQ(stored[0][0].as<std::string>(), "rome-gw.example.test:5061;transport=tls");
  EXPECT_EQ(stored[0][1].as<std::string>(), "tls");
  EXPECT_EQ(stored[1][0].as<std::string>(), "192.0.2.10");

  // A gateway's OPTIONS pings, as the media gateway reports them.
  ASSERT_TRUE(pool_.transact([](db::Tx& tx) {
    db::GatewayHealth h;
    h.address = "rome-gw.example.test:5061;transport=tls";
    h.state = "up";
    h.rtt_ms = 12;
    h.last_status = 200;
    h.detail = "OPTIONS answered 200";
    if (auto r = db::gateway_health::report(tx, h); !r) return r;
    h.address = "192.0.2.10";
    h.state = "down";
    h.rtt_ms.reset();
    h.last_status = 408;
    h.detail = "OPTIONS failed with 408";
    return db::gateway_health::report(tx, h);
  }));
  auto got = admin_->get("/api/v1/admin/routes/" + std::to_string(id));
  ASSERT_EQ(got.status, 200) << got.body;
  auto up = got.json["gateways"][0]["health"];
  EXPECT_EQ(up["state"], "up");
  EXPECT_EQ(up["rtt_ms"], 12);
  EXPECT_EQ(up["last_status"], 200);
  EXPECT_FALSE(up["last_ok_at"].is_null());
  EXPECT_TRUE(up["last_fail_at"].is_null());
  auto down = got.json["gateways"][1]["health"];
  EXPECT_EQ(down["state"], "down");
  EXPECT_EQ(down["last_status"], 408);
  EXPECT_FALSE(down["last_fail_at"].is_null());
  EXPECT_EQ(got.json["gateways"][2]["health"]["state"], "unknown");

  auto list = admin_->get("/api/v1/admin/routes");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json["routes"].size(), 2u);
  EXPECT_EQ(list.json["routes"][0]["default"], true) << "the default route first";
  EXPECT_EQ(list.json["routes"][1]["prefix"], "+3906");
  auto created = audit("route.create");
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(created[1]["object_id"], std::to_string(id));
  EXPECT_EQ(created[1]["actor"], "root");
}

TEST_F(AdminRoutes, ExactlyOneDefaultRoute) {
  auto def = make_default();
  const auto id = std::to_string(def["id"].get<std::int64_t>());
  expect_problem(admin_->post("/api/v1/admin/routes", {{"default", true}, {"gateways", {{{"address", "other.test"}}}}}),
                 409, "db.constraint");
  expect_problem(admin_->del("/api/v1/admin/routes/" + id), 409, "route.no_default");
  expect_problem(admin_->patch("/api/v1/admin/routes/" + id, {{"enabled", false}}), 409, "route.no_default");
  auto fixed = expect_problem(admin_->patch("/api/v1/admin/routes/" + id, {{"default", false}}), 422,
                              "api.validation_failed");
  EXPECT_EQ(fixed["errors"][0]["field"], "/default");
  auto no_prefix = expect_problem(admin_->patch("/api/v1/admin/routes/" + id, {{"prefix", "+39"}}), 422,
                                  "api.validation_failed");
  EXPECT_EQ(no_prefix["errors"][0]["field"], "/prefix");
  // Its addresses change like any route's.
  auto changed = admin_->patch("/api/v1/admin/routes/" + id,
                               {{"default", true}, {"gateways", {{{"address", "pbx-new.example.test"}}}}});
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.json["gateways"][0]["address"], "pbx-new.example.test");
  EXPECT_TRUE(audit("route.delete").empty());
}

TEST_F(AdminRoutes, PrefixesAndAddressesAreValidated) {
  make_default();
  auto post = [&](json body) { return admin_->post("/api/v1/admin/routes", body); };
  const json gw = {{{"address", "gw.example.test"}}};
  auto field_of = [](const json& p) { return p["errors"][0]["field"].get<std::string>(); };
  EXPECT_EQ(field_of(expect_problem(post({{"gateways", gw}}), 422, "api.validation_failed")), "/prefix");
  for (const char* bad : {"06a", "++39", "+", "0'; DROP TABLE routes; --", "123456789012345678901"}) {
    auto p = expect_problem(post({{"prefix", bad}, {"gateways", gw}}), 422, "api.validation_failed");
    EXPECT_EQ(field_of(p), "/prefix") << bad;
  }
  for (const char* bad : {"sip:pbx@example.test", "pbx.example.test;transport=tcp", "pbx example", "-pbx.test",
                          "pbx.test:0", "pbx.test:70000", "[::1", "../../etc/passwd", ""}) {
    auto p = expect_problem(post({{"prefix", "+39"}, {"gateways", {{{"address", bad}}}}}), 422,
                            "api.validation_failed");
    EXPECT_EQ(field_of(p), "/gateways/0/address") << bad;
  }
  EXPECT_EQ(field_of(expect_problem(post({{"prefix", "+39"}, {"gateways", json::array()}}), 422,
                                    "api.validation_failed")),
            "/gateways");
  EXPECT_EQ(field_of(expect_problem(post({{"prefix", "+39"}, {"gateways", {{{"address", "a.test"}, {"transport", "sctp"}}}}}),
                                    422, "api.validation_failed")),
            "/gateways/0/transport");
  EXPECT_EQ(field_of(expect_problem(post({{"prefix", "+39"}, {"gateways", gw}, {"t38_policy", "maybe"}}), 422,
                                    "api.validation_failed")),
            "/t38_policy");
  EXPECT_EQ(field_of(expect_problem(post({{"prefix", 39}, {"gateways", gw}}), 422, "api.validation_failed")), "/prefix");
  EXPECT_EQ(field_of(expect_problem(post({{"prefix", "+39"}, {"gateways", gw}, {"gatways", gw}}), 422,
                                    "api.validation_failed")),
            "/gatways");
  EXPECT_EQ(field_of(expect_problem(post({{"default", true}, {"prefix", "+39"}, {"gateways", gw}}), 422,
                                    "api.validation_failed")),
            "/prefix");
  json many = json::array();
  for (int i = 0; i < 17; ++i) many.push_back({{"address", "gw" + std::to_string(i) + ".test"}});
  EXPECT_EQ(field_of(expect_problem(post({{"prefix", "+39"}, {"gateways", many}}), 422, "api.validation_failed")),
            "/gateways");
  ASSERT_EQ(post({{"prefix", "+39"}, {"gateways", gw}}).status, 201);
  expect_problem(post({{"prefix", "+39"}, {"gateways", gw}}), 409, "db.constraint");
  expect_problem(admin_->send("POST", "/api/v1/admin/routes", "prefix=39", "application/x-www-form-urlencoded"), 415,
                 "api.unsupported_media_type");
  expect_problem(admin_->send("POST", "/api/v1/admin/routes", "{", "application/json"), 400, "api.invalid_json");
}

TEST_F(AdminRoutes, UpdateAndDeleteAndNotFound) {
  make_default();
  auto r = admin_->post("/api/v1/admin/routes", {{"prefix", "+3902"}, {"gateways", {{{"address", "milan.test"}}}}});
  ASSERT_EQ(r.status, 201);
  const auto id = std::to_string(r.json["id"].get<std::int64_t>());
  auto u = admin_->patch("/api/v1/admin/routes/" + id, {{"prefix", "+3902"},
                                                         {"description", "Milan"},
                                                         {"t38_policy", "off"},
                                                         {"enabled", false},
                                                         {"gateways",
                                                          {{{"address", "milan-b.test"}, {"transport", "tcp"}},
                                                           {{"address", "milan-a.test"}}}}});
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(u.json["prefix"], "+3902");
  EXPECT_EQ(u.json["description"], "Milan");
  EXPECT_EQ(u.json["t38_policy"], "off");
  EXPECT_EQ(u.json["enabled"], false);
  EXPECT_EQ(u.json["gateways"][0]["address"], "milan-b.test");
  EXPECT_EQ(u.json["gateways"][0]["transport"], "tcp");
  EXPECT_EQ(u.json["gateways"][1]["address"], "milan-a.test");
  auto only_description = admin_->patch("/api/v1/admin/routes/" + id, {{"description", "Milano"}});
  EXPECT_EQ(only_description.json["gateways"].size(), 2u) << "gateways absent: kept";
  EXPECT_EQ(audit("route.update").size(), 2u);
  expect_problem(admin_->patch("/api/v1/admin/routes/" + id, {{"enabled", "no"}}), 422, "api.validation_failed");

  ASSERT_EQ(admin_->del("/api/v1/admin/routes/" + id).status, 204);
  EXPECT_EQ(audit("route.delete").size(), 1u);
  for (const std::string missing : {id, std::string("999999"), std::string("abc"), std::string("-1")}) {
    expect_problem(admin_->get("/api/v1/admin/routes/" + missing), 404, "route.not_found");
    expect_problem(admin_->patch("/api/v1/admin/routes/" + missing, {{"description", "x"}}), 404, "route.not_found");
    expect_problem(admin_->del("/api/v1/admin/routes/" + missing), 404, "route.not_found");
  }
}

TEST_F(AdminRoutes, OnlyAdministrators) {
  auto def = make_default();
  const auto path = "/api/v1/admin/routes/" + std::to_string(def["id"].get<std::int64_t>());
  expect_admin_only("GET", "/api/v1/admin/routes");
  expect_admin_only("POST", "/api/v1/admin/routes", {{"prefix", "+1"}, {"gateways", {{{"address", "a.test"}}}}});
  expect_admin_only("GET", path);
  expect_admin_only("PATCH", path, {{"description", "x"}});
  expect_admin_only("DELETE", path);
}

// The router reads the routes per job: a running Router routes the next job by a route
// changed through the API. No bus runs here; the router's sweep finds the ready jobs.
TEST_F(AdminRoutes, ARunningRouterRoutesTheNextJobByTheChangedRoute) {
  make_default("pbx.example.test");
  auto rome = admin_->post("/api/v1/admin/routes", {{"prefix", "+3906"},
                                                    {"gateways", {{{"address", "rome.example.test"}, {"transport", "tcp"}}}}});
  ASSERT_EQ(rome.status, 201);
  const auto rome_path = "/api/v1/admin/routes/" + std::to_string(rome.json["id"].get<std::int64_t>());

  bus::Publisher publisher("tcp://127.0.0.1:9", "test", "admin-routes", nullptr);  // nobody listens: the sweep works
  router::RouterSettings rs;
  rs.instance = "router-admin-test";
  rs.sweep_interval = 100ms;
  rs.tick = 100ms;
  router::Router router(pool_, publisher, "tcp://127.0.0.1:9", rs);
  router.start();

  const auto first = ready_job("+390612345678");
  EXPECT_EQ(queued_addresses(first), "rome.example.test;transport=tcp pbx.example.test");

  ASSERT_EQ(admin_->patch(rome_path, {{"gateways", {{{"address", "rome-2.example.test"}}, {{"address", "rome-3.example.test"}}}}})
                .status,
            200);
  const auto second = ready_job("+390612345679");
  EXPECT_EQ(queued_addresses(second), "rome-2.example.test rome-3.example.test pbx.example.test");

  ASSERT_EQ(admin_->patch(rome_path, {{"enabled", false}}).status, 200);
  const auto third = ready_job("+390612345670");
  EXPECT_EQ(queued_addresses(third), "pbx.example.test") << "a disabled route's numbers take the default route";

  // What the router's route stage reads, directly.
  auto input = pool_.transact([&](db::Tx& tx) { return db::routing::load_for_routing(tx, third); });
  ASSERT_TRUE(input && input->route);
  EXPECT_TRUE(input->route->is_default);
  router.stop();
}

}  // namespace
}  // namespace faxbridge::webapi::testing
