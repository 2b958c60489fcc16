// The audit log over HTTP: every change of the administration writes a row with its
// actor and the remote address, in the transaction of the change; the list filters and
// pages newest first.
#include "admin_people_fixture.hpp"

namespace faxbridge::webapi {
namespace {

using faxbridge::testing::expect_problem;
using nlohmann::json;

TEST_F(AdminPeopleTest, EveryChangeIsAuditedWithItsActorAndAddress) {
  auto made = admin_->post("/api/v1/admin/users", {{"username", "cbianchi"}, {"password", "a long password"}});
  ASSERT_EQ(made.status, 201);
  const auto id = made.json["id"].get<std::int64_t>();
  ASSERT_EQ(admin_->patch(path_of(id), {{"company", "Bianchi SpA"}, {"password", "another password"}}).status, 200);
  ASSERT_EQ(admin_->post("/api/v1/admin/groups", {{"name", "sales"}, {"fax_number", "499"}}).status, 201);
  ASSERT_EQ(admin_->put("/api/v1/admin/users/default-level", {{"level", 0}}).status, 200);
  ASSERT_EQ(admin_->post(path_of(id) + "/tokens", {{"name", "x"}}).status, 201);
  // A refused change leaves no row.
  expect_problem(admin_->patch(path_of(root_), {{"level", 2}}), 409, "user.last_admin");

  auto all = admin_->get("/api/v1/admin/audit");
  ASSERT_EQ(all.status, 200) << all.body;
  std::vector<std::string> actions;
  for (const auto& e : all.json["events"]) {
    actions.push_back(e["action"]);
    EXPECT_EQ(e["actor"], json({{"user_id", root_}, {"name", "root"}})) << e.dump();
    EXPECT_EQ(e["ip"], "127.0.0.1") << e.dump();
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"token.create", "setting.update", "group.create", "user.update",
                                               "user.create"}));
  const json& update = all.json["events"][3];
  EXPECT_EQ(update["object_type"], "user");
  EXPECT_EQ(update["object_id"], std::to_string(id));
  EXPECT_EQ(update["details"]["fields"], json({"password", "company"}));
  EXPECT_EQ(all.body.find("another password"), std::string::npos) << "never a password";
  const json& setting = all.json["events"][1];
  EXPECT_EQ(setting["object_id"], "users.default_permission_level");
  EXPECT_EQ(setting["details"], json({{"from", 2}, {"to", 0}}));

  auto users = admin_->get("/api/v1/admin/audit?action=user.");
  ASSERT_EQ(users.json["events"].size(), 2u);
  auto one = admin_->get("/api/v1/admin/audit?object_type=user&object_id=" + std::to_string(id));
  ASSERT_EQ(one.json["events"].size(), 2u);
  auto by_actor = admin_->get("/api/v1/admin/audit?actor=ROOT&action=group.");
  ASSERT_EQ(by_actor.json["events"].size(), 1u);
  EXPECT_TRUE(admin_->get("/api/v1/admin/audit?actor=alice").json["events"].empty());
  EXPECT_TRUE(admin_->get("/api/v1/admin/audit?action=user%25").json["events"].empty()) << "% is literal";
  EXPECT_EQ(admin_->get("/api/v1/admin/audit?since=2000-01-01&until=2200-01-01T00:00:00Z").json["events"].size(), 5u);
  EXPECT_TRUE(admin_->get("/api/v1/admin/audit?until=2000-01-01T00:00:00%2B01:00").json["events"].empty());

  std::vector<std::string> paged;
  std::string path = "/api/v1/admin/audit?limit=2";
  for (int i = 0; i < 5; ++i) {
    auto r = admin_->get(path);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& e : r.json["events"]) paged.push_back(e["action"]);
    if (r.json["next_cursor"].is_null()) break;
    path = "/api/v1/admin/audit?limit=2&cursor=" + r.json["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(paged, actions);
}

TEST_F(AdminPeopleTest, SignInTokensAndSignOutAreAuditedWithTheAddressToo) {
  ApiClient alice(port_);
  ASSERT_TRUE(alice.sign_in("alice", kPassword));
  ASSERT_EQ(alice.post("/api/v1/tokens", {{"name", "mine"}}).status, 201);
  ASSERT_EQ(alice.del("/api/v1/session").status, 204);
  auto r = admin_->get("/api/v1/admin/audit?actor=alice");
  ASSERT_EQ(r.status, 200);
  std::vector<std::string> actions;
  for (const auto& e : r.json["events"]) {
    actions.push_back(e["action"]);
    EXPECT_EQ(e["ip"], "127.0.0.1") << e.dump();
    EXPECT_EQ(e["actor"]["user_id"], alice_);
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"session.delete", "token.create", "session.create"}));
}

TEST_F(AdminPeopleTest, BadAuditQueriesAreRefused) {
  auto r = expect_problem(admin_->get("/api/v1/admin/audit?since=yesterday&until=2026-02-30&limit=500"), 422,
                          "api.validation_failed");
  EXPECT_TRUE(field_errors(r).count("since api.field_invalid")) << r.dump();
  EXPECT_TRUE(field_errors(r).count("until api.field_invalid")) << r.dump();
  EXPECT_TRUE(field_errors(r).count("limit api.field_out_of_range")) << r.dump();
  expect_problem(admin_->get("/api/v1/admin/audit?cursor=123"), 400, "api.cursor_invalid");
  ApiClient nobody(port_);
  expect_problem(nobody.get("/api/v1/admin/audit"), 401, "api.unauthenticated");
  expect_problem(as(alice_).get("/api/v1/admin/audit"), 403, "api.forbidden");
  expect_problem(as(viewer_).get("/api/v1/admin/audit"), 403, "api.forbidden");
}

// The configuration endpoints write their rows with the caller's address as the
// people endpoints do: one change in each area, its newest row read back.
TEST_F(AdminPeopleTest, ConfigurationChangesAreAuditedWithTheAddressToo) {
  ASSERT_EQ(admin_->put("/api/v1/admin/settings/fax.max_attempts", {{"value", 4}}).status, 200);
  ASSERT_EQ(admin_->post("/api/v1/admin/routes", {{"prefix", "+49"}, {"gateways", {{{"address", "gw.example.test"}}}}})
                .status,
            201);
  ASSERT_EQ(admin_->patch("/api/v1/admin/cover-pages/urgent", {{"default", true}}).status, 200);
  ASSERT_EQ(admin_->post("/api/v1/admin/webhooks", {{"url", "https://hooks.example.test/"}}).status, 201);
  for (const char* area : {"setting.", "route.", "cover_page.", "webhook."}) {
    auto r = admin_->get(std::string("/api/v1/admin/audit?action=") + area);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_FALSE(r.json["events"].empty()) << area << " wrote no audit row";
    const json& e = r.json["events"][0];
    EXPECT_EQ(e["ip"], "127.0.0.1") << area << ": " << e.dump();
    EXPECT_EQ(e["actor"], json({{"user_id", root_}, {"name", "root"}})) << e.dump();
  }
}

// Every list refuses a query parameter it does not take, naming it, as GET /faxes does.
TEST_F(AdminPeopleTest, AListRefusesAnUnknownQueryParameter) {
  for (const char* path : {"/api/v1/admin/users?limt=5", "/api/v1/admin/groups?limt=5", "/api/v1/admin/tokens?limt=5",
                           "/api/v1/admin/audit?limt=5", "/api/v1/admin/settings?limt=5", "/api/v1/admin/routes?limt=5",
                           "/api/v1/admin/cover-pages?limt=5", "/api/v1/admin/webhooks?limt=5",
                           "/api/v1/cover-pages?limt=5", "/api/v1/tokens?limt=5", "/api/v1/inbox?limt=5"}) {
    auto r = expect_problem(admin_->get(path), 422, "api.validation_failed");
    EXPECT_EQ(field_errors(r), (std::set<std::string>{"limt api.field_unknown"})) << path << ": " << r.dump();
  }
  // The known ones still work, and a bad value is named as before.
  EXPECT_EQ(admin_->get("/api/v1/admin/users?limit=5&q=ali").status, 200);
  auto r = expect_problem(admin_->get("/api/v1/admin/users?limit=0&bogus=1"), 422, "api.validation_failed");
  EXPECT_EQ(field_errors(r), (std::set<std::string>{"limit api.field_out_of_range", "bogus api.field_unknown"}));
}

}  // namespace
}  // namespace faxbridge::webapi
