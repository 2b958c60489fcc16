// Everybody's API tokens over HTTP: an administrator lists them with their owners,
// makes one for an integration account and revokes any.
#include "admin_people_fixture.hpp"

namespace faxbridge::webapi {
namespace {

using faxbridge::testing::expect_problem;
using nlohmann::json;

TEST_F(AdminPeopleTest, AnAdministratorMakesATokenForAnIntegrationAccountAndRevokesIt) {
  auto account = admin_->post("/api/v1/admin/users", {{"username", "invoicing"}});
  ASSERT_EQ(account.status, 201) << account.body;
  const auto id = account.json["id"].get<std::int64_t>();
  auto made = admin_->post(path_of(id) + "/tokens", {{"name", "invoicing system"}, {"expires_in_days", 30}});
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.header("Cache-Control"), "no-store");
  EXPECT_EQ(made.json["user"], json({{"id", id}, {"username", "invoicing"}}));
  EXPECT_EQ(made.json["name"], "invoicing system");
  EXPECT_TRUE(made.json["expires_at"].is_string());
  const std::string token = made.json["token"];
  ApiClient integration(port_);
  integration.bearer(token);
  auto me = integration.get("/api/v1/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json["username"], "invoicing");

  auto listed = admin_->get("/api/v1/admin/tokens?user_id=" + std::to_string(id));
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.json["tokens"].size(), 1u);
  EXPECT_FALSE(listed.json["tokens"][0].contains("token")) << "the text is shown once";
  EXPECT_EQ(listed.json["tokens"][0]["user"]["username"], "invoicing");
  const auto token_id = listed.json["tokens"][0]["id"].get<std::int64_t>();

  const std::string revoke = "/api/v1/admin/tokens/" + std::to_string(token_id);
  EXPECT_EQ(admin_->del(revoke).status, 204);
  expect_problem(integration.get("/api/v1/me"), 401, "api.unauthenticated");
  expect_problem(admin_->del(revoke), 404, "auth.token_not_found");
  expect_problem(admin_->del("/api/v1/admin/tokens/999999"), 404, "auth.token_not_found");
  expect_problem(admin_->del("/api/v1/admin/tokens/x"), 404, "auth.token_not_found");
  auto live = admin_->get("/api/v1/admin/tokens?revoked=false&user_id=" + std::to_string(id));
  EXPECT_TRUE(live.json["tokens"].empty());
}

TEST_F(AdminPeopleTest, TheTokenListShowsEverybodysTokensNewestFirstInPages) {
  (void)token_for(alice_);
  (void)token_for(viewer_);
  std::vector<std::string> owners;
  std::string path = "/api/v1/admin/tokens?limit=1";
  for (int i = 0; i < 5; ++i) {
    auto r = admin_->get(path);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& t : r.json["tokens"]) owners.push_back(t["user"]["username"]);
    if (r.json["next_cursor"].is_null()) break;
    path = "/api/v1/admin/tokens?limit=1&cursor=" + r.json["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(owners, (std::vector<std::string>{"viewer", "alice", "root"}));
  expect_problem(admin_->get("/api/v1/admin/tokens?user_id=abc"), 422, "api.validation_failed");
  expect_problem(admin_->get("/api/v1/admin/tokens?cursor=c%21"), 400, "api.cursor_invalid");
}

TEST_F(AdminPeopleTest, BadTokenRequestsAreRefused) {
  expect_problem(admin_->post("/api/v1/admin/users/999999/tokens", {{"name", "x"}}), 404, "user.not_found");
  expect_problem(admin_->post("/api/v1/admin/users/abc/tokens", {{"name", "x"}}), 404, "user.not_found");
  auto r = expect_problem(admin_->post(path_of(alice_) + "/tokens", {{"name", ""}, {"expires_in_days", 0}, {"x", 1}}),
                          422, "api.validation_failed");
  EXPECT_TRUE(field_errors(r).count("/name api.field_too_short")) << r.dump();
  EXPECT_TRUE(field_errors(r).count("/expires_in_days api.field_out_of_range")) << r.dump();
  EXPECT_TRUE(field_errors(r).count("/x api.field_unknown")) << r.dump();

  ApiClient nobody(port_);
  ApiClient alice = as(alice_);
  ApiClient viewer = as(viewer_);
  for (auto* c : {&nobody, &alice, &viewer}) {
    const int status = c == &nobody ? 401 : 403;
    const char* code = c == &nobody ? "api.unauthenticated" : "api.forbidden";
    expect_problem(c->get("/api/v1/admin/tokens"), status, code);
    expect_problem(c->del("/api/v1/admin/tokens/1"), status, code);
    expect_problem(c->post(path_of(alice_) + "/tokens", {{"name", "x"}}), status, code);
  }
}

}  // namespace
}  // namespace faxbridge::webapi
