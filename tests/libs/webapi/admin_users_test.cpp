// The administration of users over HTTP: every field of the seed's user management,
// the default level and per-user overrides, the last-administrator guard, sessions ended
// by a new password or disabling, and deleting (or disabling a user who has faxes).
#include "admin_people_fixture.hpp"

namespace faxbridge::webapi {
namespace {

using faxbridge::testing::expect_problem;
using nlohmann::json;

const json kFullUser = {{"username", "cbianchi"},
                        {"name", "Christian Bianchi"},
                        {"email", "cbianchi@example.com"},
                        {"password", "a long enough password"},
                        {"level", 2},
                        {"fax_number", "+39 02 978-65.403"},
                        {"phone", "303"},
                        {"enable_send", true},
                        {"enable_receive", false},
                        {"fax_to_email", true},
                        {"fax_to_email_address", "faxes@example.com"},
                        {"fax_to_email_attach", false},
                        {"cover_page", "urgent"},
                        {"language", "it"},
                        {"company", "Bianchi SpA"},
                        {"disabled", false}};

TEST_F(AdminPeopleTest, AnAdministratorCreatesAUserWithEveryFieldAndReadsItBack) {
  auto made = admin_->post("/api/v1/admin/users", kFullUser);
  ASSERT_EQ(made.status, 201) << made.body;
  const auto id = made.json["id"].get<std::int64_t>();
  EXPECT_EQ(made.header("Location"), path_of(id));
  const json& u = made.json;
  EXPECT_EQ(u["username"], "cbianchi");
  EXPECT_EQ(u["name"], "Christian Bianchi");
  EXPECT_EQ(u["email"], "cbianchi@example.com");
  EXPECT_EQ(u["has_password"], true);
  EXPECT_FALSE(u.contains("password"));
  EXPECT_EQ(u["level"], 2);
  EXPECT_EQ(u["level_inherited"], false);
  EXPECT_EQ(u["fax_number"], "+390297865403") << "stored normalised";
  EXPECT_EQ(u["phone"], "303");
  EXPECT_EQ(u["enable_send"], true);
  EXPECT_EQ(u["enable_receive"], false);
  EXPECT_EQ(u["fax_to_email"], true);
  EXPECT_EQ(u["fax_to_email_address"], "faxes@example.com");
  EXPECT_EQ(u["fax_to_email_attach"], false);
  EXPECT_EQ(u["cover_page"], "urgent");
  EXPECT_EQ(u["language"], "it");
  EXPECT_EQ(u["company"], "Bianchi SpA");
  EXPECT_EQ(u["disabled"], false);

  auto read = admin_->get(path_of(id));
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.json, made.json);

  // The password works for the web sign-in.
  ApiClient c(port_);
  EXPECT_TRUE(c.sign_in("cbianchi", "a long enough password"));
}

TEST_F(AdminPeopleTest, AUserWithoutAPasswordInheritsTheDefaultsAndCannotSignIn) {
  auto made = admin_->post("/api/v1/admin/users", {{"username", "invoicing"}, {"email", "inv@example.com"}});
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.json["has_password"], false);
  EXPECT_EQ(made.json["level"], 2);
  EXPECT_EQ(made.json["level_inherited"], true);
  EXPECT_TRUE(made.json["fax_number"].is_null());
  EXPECT_EQ(made.json["fax_to_email_address"], "inv@example.com") << "defaults to the email, like the CLI";
  EXPECT_EQ(made.json["language"], "en");
  ApiClient c(port_);
  EXPECT_FALSE(c.sign_in("invoicing", "anything at all"));
}

TEST_F(AdminPeopleTest, PatchChangesOnlyTheFieldsSentAndNullMeansInheritOrNone) {
  auto made = admin_->post("/api/v1/admin/users", kFullUser);
  ASSERT_EQ(made.status, 201) << made.body;
  const auto id = made.json["id"].get<std::int64_t>();
  auto p = admin_->patch(path_of(id), {{"company", "Rossi Srl"}, {"level", 10}});
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.json["company"], "Rossi Srl");
  EXPECT_EQ(p.json["level"], 10);
  EXPECT_EQ(p.json["name"], "Christian Bianchi") << "untouched";
  auto q = admin_->patch(path_of(id), {{"level", nullptr}, {"fax_number", nullptr}, {"password", nullptr}});
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(q.json["level"], 2);
  EXPECT_EQ(q.json["level_inherited"], true);
  EXPECT_TRUE(q.json["fax_number"].is_null());
  EXPECT_EQ(q.json["has_password"], false);
  // The number is free again.
  auto other = admin_->post("/api/v1/admin/users", {{"username", "other"}, {"fax_number", "+390297865403"}});
  EXPECT_EQ(other.status, 201) << other.body;
}

TEST_F(AdminPeopleTest, TheListSearchesAndFiltersAndPagesWithACursor) {
  ASSERT_EQ(admin_->post("/api/v1/admin/users", kFullUser).status, 201);
  auto by_number = admin_->get("/api/v1/admin/users?q=978%2065");
  ASSERT_EQ(by_number.status, 200) << by_number.body;
  ASSERT_EQ(by_number.json["users"].size(), 1u);
  EXPECT_EQ(by_number.json["users"][0]["username"], "cbianchi");
  auto by_name = admin_->get("/api/v1/admin/users?q=BIANCHI");
  EXPECT_EQ(by_name.json["users"].size(), 1u);
  auto by_email = admin_->get("/api/v1/admin/users?q=alice%40example");
  ASSERT_EQ(by_email.json["users"].size(), 1u);
  EXPECT_EQ(by_email.json["users"][0]["username"], "alice");
  auto none = admin_->get("/api/v1/admin/users?q=%25");  // a literal %, not a wildcard
  EXPECT_EQ(none.json["users"].size(), 0u);
  auto admins = admin_->get("/api/v1/admin/users?level=10");
  ASSERT_EQ(admins.json["users"].size(), 1u);
  EXPECT_EQ(admins.json["users"][0]["username"], "root");
  auto zero = admin_->get("/api/v1/admin/users?level=0&disabled=false");
  ASSERT_EQ(zero.json["users"].size(), 1u);
  EXPECT_EQ(zero.json["users"][0]["username"], "viewer");

  std::vector<std::string> seen;
  std::string path = "/api/v1/admin/users?limit=2";
  for (int page = 0; page < 5; ++page) {
    auto r = admin_->get(path);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& u : r.json["users"]) seen.push_back(u["username"]);
    if (r.json["next_cursor"].is_null()) break;
    path = "/api/v1/admin/users?limit=2&cursor=" + r.json["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"root", "alice", "viewer", "cbianchi"}));

  expect_problem(admin_->get("/api/v1/admin/users?cursor=bogus"), 400, "api.cursor_invalid");
  auto bad = expect_problem(admin_->get("/api/v1/admin/users?level=5&disabled=maybe&limit=0"), 422,
                            "api.validation_failed");
  const auto fields = field_errors(bad);
  EXPECT_TRUE(fields.count("level api.field_invalid")) << bad.dump();
  EXPECT_TRUE(fields.count("disabled api.field_wrong_type")) << bad.dump();
  EXPECT_TRUE(fields.count("limit api.field_out_of_range")) << bad.dump();
}

TEST_F(AdminPeopleTest, OnlyAnAdministratorMayAdministerUsers) {
  ApiClient nobody(port_);
  ApiClient alice = as(alice_);
  ApiClient viewer = as(viewer_);
  const std::string one = path_of(alice_);
  struct Call {
    std::string method, path;
    json body;
  };
  const std::vector<Call> calls = {
      {"GET", "/api/v1/admin/users", nullptr},
      {"POST", "/api/v1/admin/users", {{"username", "x"}}},
      {"GET", one, nullptr},
      {"PATCH", one, {{"company", "x"}}},
      {"DELETE", one, nullptr},
      {"GET", "/api/v1/admin/users/default-level", nullptr},
      {"PUT", "/api/v1/admin/users/default-level", {{"level", 2}}},
  };
  for (const auto& c : calls) {
    const std::string body = c.body.is_null() ? "" : c.body.dump();
    const std::string type = c.body.is_null() ? "" : "application/json";
    SCOPED_TRACE(c.method + " " + c.path);
    expect_problem(nobody.send(c.method, c.path, body, type), 401, "api.unauthenticated");
    expect_problem(alice.send(c.method, c.path, body, type), 403, "api.forbidden");
    expect_problem(viewer.send(c.method, c.path, body, type), 403, "api.forbidden");
  }
}

TEST_F(AdminPeopleTest, AnUnknownUserIsNotFound) {
  expect_problem(admin_->get("/api/v1/admin/users/999999"), 404, "user.not_found");
  expect_problem(admin_->get("/api/v1/admin/users/abc"), 404, "user.not_found");
  expect_problem(admin_->patch("/api/v1/admin/users/999999", {{"company", "x"}}), 404, "user.not_found");
  expect_problem(admin_->del("/api/v1/admin/users/999999"), 404, "user.not_found");
  expect_problem(admin_->del("/api/v1/admin/users/-1"), 404, "user.not_found");
}

TEST_F(AdminPeopleTest, ATakenUsernameOrNumberIsAConflict) {
  ASSERT_EQ(admin_->post("/api/v1/admin/users", kFullUser).status, 201);
  auto again = expect_problem(admin_->post("/api/v1/admin/users", {{"username", "CBianchi"}}), 409, "user.exists");
  auto number = expect_problem(
      admin_->post("/api/v1/admin/users", {{"username", "rossi"}, {"fax_number", "+390297865403"}}), 409,
      "number.taken");
  EXPECT_NE(number.value("detail", "").find("cbianchi"), std::string::npos) << number.dump();
  // A group's number is taken for users too.
  ASSERT_EQ(admin_->post("/api/v1/admin/groups", {{"name", "sales"}, {"fax_number", "499"}}).status, 201);
  expect_problem(admin_->post("/api/v1/admin/users", {{"username", "rossi"}, {"fax_number", "499"}}), 409,
                 "number.taken");
  expect_problem(admin_->patch(path_of(alice_), {{"fax_number", "499"}}), 409, "number.taken");
  expect_problem(admin_->patch(path_of(alice_), {{"username", "cbianchi"}}), 409, "user.exists");
  // Giving a user their own number again is no conflict.
  auto self = admin_->get("/api/v1/admin/users?q=cbianchi");
  const auto id = self.json["users"][0]["id"].get<std::int64_t>();
  EXPECT_EQ(admin_->patch(path_of(id), {{"fax_number", "+390297865403"}}).status, 200);
}

TEST_F(AdminPeopleTest, BadFieldsAreRefusedWithEachFieldNamed) {
  auto r = expect_problem(admin_->post("/api/v1/admin/users", {{"username", "bad name!"},
                                                                {"emial", "x"},
                                                                {"email", "not an address"},
                                                                {"password", "short"},
                                                                {"level", 5},
                                                                {"fax_number", "call me"},
                                                                {"enable_send", "yes"},
                                                                {"language", "it_IT"},
                                                                {"cover_page", "../etc/passwd"},
                                                                {"disabled", nullptr},
                                                                {"company", 12}}),
                          422, "api.validation_failed");
  const auto f = field_errors(r);
  for (const char* expected :
       {"/username api.field_invalid", "/emial api.field_unknown", "/email api.field_invalid",
        "/password api.field_too_short", "/level api.field_invalid", "/enable_send api.field_wrong_type",
        "/language api.field_invalid", "/cover_page api.field_invalid", "/disabled api.field_wrong_type",
        "/company api.field_wrong_type"}) {
    EXPECT_TRUE(f.count(expected)) << expected << " in " << r.dump();
  }
  bool number_named = false;
  for (const auto& e : r["errors"]) number_named |= e["field"] == "/fax_number";
  EXPECT_TRUE(number_named) << r.dump();

  auto missing = expect_problem(admin_->post("/api/v1/admin/users", json::object()), 422, "api.validation_failed");
  EXPECT_TRUE(field_errors(missing).count("/username api.field_required"));
  auto no_address = expect_problem(
      admin_->post("/api/v1/admin/users", {{"username", "nomail"}, {"fax_to_email", true}}), 422,
      "api.validation_failed");
  EXPECT_TRUE(field_errors(no_address).count("/fax_to_email_address api.field_required")) << no_address.dump();
  auto patch = expect_problem(admin_->patch(path_of(alice_), {{"name", nullptr}, {"level", "10"}}), 422,
                              "api.validation_failed");
  EXPECT_TRUE(field_errors(patch).count("/name api.field_wrong_type")) << patch.dump();
  EXPECT_TRUE(field_errors(patch).count("/level api.field_wrong_type")) << patch.dump();
  expect_problem(admin_->send("POST", "/api/v1/admin/users", "[1,2]", "application/json"), 422,
                 "api.validation_failed");
  expect_problem(admin_->send("POST", "/api/v1/admin/users", "{", "application/json"), 400, "api.invalid_json");
  expect_problem(admin_->send("POST", "/api/v1/admin/users", "username=x", "application/x-www-form-urlencoded"),
                 415, "api.unsupported_media_type");
  // Nothing was written by the refused requests.
  EXPECT_EQ(admin_->get("/api/v1/admin/users").json["users"].size(), 3u);
}

TEST_F(AdminPeopleTest, TheLastEnabledAdministratorCannotBeDemotedDisabledOrDeleted) {
  const std::string root = path_of(root_);
  expect_problem(admin_->patch(root, {{"level", 2}}), 409, "user.last_admin");
  expect_problem(admin_->patch(root, {{"level", nullptr}}), 409, "user.last_admin");
  expect_problem(admin_->patch(root, {{"disabled", true}}), 409, "user.last_admin");
  expect_problem(admin_->del(root), 409, "user.last_admin");
  auto still = admin_->get(root);
  EXPECT_EQ(still.json["level"], 10) << "the refused changes rolled back";
  EXPECT_EQ(still.json["disabled"], false);

  // A second administrator makes the first one free to go.
  ASSERT_EQ(admin_->patch(path_of(viewer_), {{"level", 10}}).status, 200);
  auto demoted = admin_->patch(root, {{"level", 2}});
  ASSERT_EQ(demoted.status, 200) << demoted.body;
  EXPECT_EQ(demoted.json["level"], 2);
  // root's token is a fax user's now.
  expect_problem(admin_->get("/api/v1/admin/users"), 403, "api.forbidden");
}

TEST_F(AdminPeopleTest, TheDefaultLevelIsInheritedAndGuardedToo) {
  auto d = admin_->get("/api/v1/admin/users/default-level");
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(d.json, json({{"level", 2}}));
  auto up = admin_->put("/api/v1/admin/users/default-level", {{"level", 10}});
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(up.json, json({{"level", 10}}));
  auto alice = admin_->get(path_of(alice_));
  EXPECT_EQ(alice.json["level"], 10) << "alice inherits the default";
  EXPECT_EQ(alice.json["level_inherited"], true);
  EXPECT_EQ(admin_->get(path_of(viewer_)).json["level"], 0) << "an own level overrides the default";

  // Everybody who administers inherits it now: lowering the default would lock them out.
  ASSERT_EQ(admin_->patch(path_of(root_), {{"level", nullptr}}).status, 200);
  expect_problem(admin_->put("/api/v1/admin/users/default-level", {{"level", 2}}), 409, "user.last_admin");
  EXPECT_EQ(admin_->get("/api/v1/admin/users/default-level").json["level"], 10);
  ASSERT_EQ(admin_->patch(path_of(alice_), {{"level", 10}}).status, 200);
  ASSERT_EQ(admin_->put("/api/v1/admin/users/default-level", {{"level", 2}}).status, 200);
  // root inherits 2 now.
  expect_problem(admin_->get("/api/v1/admin/users"), 403, "api.forbidden");

  ApiClient a = as(alice_);
  for (const json& bad : {json{{"level", 5}}, json{{"level", "2"}}, json::object(), json{{"level", 2}, {"x", 1}}}) {
    expect_problem(a.put("/api/v1/admin/users/default-level", bad), 422, "api.validation_failed");
  }
}

TEST_F(AdminPeopleTest, ANewPasswordEndsTheUsersSessionsButNotTheAdministratorsOwn) {
  ApiClient alice(port_);
  ASSERT_TRUE(alice.sign_in("alice", kPassword));
  ASSERT_EQ(alice.get("/api/v1/me").status, 200);
  auto changed = admin_->patch(path_of(alice_), {{"password", "another long password"}});
  ASSERT_EQ(changed.status, 200) << changed.body;
  expect_problem(alice.get("/api/v1/me"), 401, "api.unauthenticated");
  EXPECT_FALSE(alice.sign_in("alice", kPassword));
  EXPECT_TRUE(alice.sign_in("alice", "another long password"));

  // An administrator changing their own password in the web UI stays signed in there,
  // while their other sessions end.
  ApiClient web(port_), other(port_);
  ASSERT_TRUE(web.sign_in("root", kPassword));
  ASSERT_TRUE(other.sign_in("root", kPassword));
  ASSERT_EQ(web.patch(path_of(root_), {{"password", "root's new password"}}).status, 200);
  EXPECT_EQ(web.get("/api/v1/me").status, 200);
  expect_problem(other.get("/api/v1/me"), 401, "api.unauthenticated");
}

TEST_F(AdminPeopleTest, DisablingEndsTheSessionsAndRefusesTheTokensUntilEnabledAgain) {
  ApiClient session(port_);
  ASSERT_TRUE(session.sign_in("alice", kPassword));
  ApiClient token = as(alice_);
  ASSERT_EQ(token.get("/api/v1/me").status, 200);
  auto off = admin_->patch(path_of(alice_), {{"disabled", true}});
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(off.json["disabled"], true);
  expect_problem(session.get("/api/v1/me"), 401, "api.unauthenticated");
  expect_problem(token.get("/api/v1/me"), 403, "auth.account_disabled");
  auto disabled = admin_->get("/api/v1/admin/users?disabled=true");
  ASSERT_EQ(disabled.json["users"].size(), 1u);
  EXPECT_EQ(disabled.json["users"][0]["username"], "alice");
  ASSERT_EQ(admin_->patch(path_of(alice_), {{"disabled", false}}).status, 200);
  EXPECT_EQ(token.get("/api/v1/me").status, 200) << "the integration works again";
}

TEST_F(AdminPeopleTest, DeleteRemovesAUserWithoutFaxesAndDisablesOneWithFaxes) {
  auto gone = admin_->del(path_of(viewer_));
  EXPECT_EQ(gone.status, 204) << gone.body;
  expect_problem(admin_->get(path_of(viewer_)), 404, "user.not_found");
  expect_problem(admin_->del(path_of(viewer_)), 404, "user.not_found");

  sql("INSERT INTO fax_jobs (source, sender_user_id, recipient_number, recipient_canonical) VALUES ('api', " +
      std::to_string(alice_) + ", '+4930123456', '+4930123456')");
  ApiClient token = as(alice_);
  auto kept = admin_->del(path_of(alice_));
  ASSERT_EQ(kept.status, 200) << kept.body;
  EXPECT_EQ(kept.json["disabled"], true);
  EXPECT_EQ(kept.json["username"], "alice");
  EXPECT_EQ(admin_->get(path_of(alice_)).status, 200) << "still there, with their outbox";
  expect_problem(token.get("/api/v1/me"), 403, "auth.account_disabled");
}

}  // namespace
}  // namespace faxbridge::webapi
