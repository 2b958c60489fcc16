// Group fax numbers over HTTP: create with members, read, rename, renumber, set the
// members as a whole, delete; names and numbers unique (numbers among users too).
#include "admin_people_fixture.hpp"

namespace faxbridge::webapi {
namespace {

using faxbridge::testing::expect_problem;
using nlohmann::json;

std::vector<std::string> member_names(const json& group) {
  std::vector<std::string> out;
  for (const auto& m : group["members"]) out.push_back(m["username"]);
  return out;
}

TEST_F(AdminPeopleTest, AGroupIsCreatedWithMembersAndEdited) {
  auto made = admin_->post("/api/v1/admin/groups",
                           {{"name", "sales"}, {"fax_number", "+39 02 978 65499"}, {"user_ids", {alice_, viewer_}}});
  ASSERT_EQ(made.status, 201) << made.body;
  const auto id = made.json["id"].get<std::int64_t>();
  const std::string path = "/api/v1/admin/groups/" + std::to_string(id);
  EXPECT_EQ(made.header("Location"), path);
  EXPECT_EQ(made.json["name"], "sales");
  EXPECT_EQ(made.json["fax_number"], "+390297865499");
  EXPECT_EQ(member_names(made.json), (std::vector<std::string>{"alice", "viewer"}));
  EXPECT_EQ(made.json["members"][0]["name"], "alice Example");

  auto read = admin_->get(path);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.json, made.json);
  auto all = admin_->get("/api/v1/admin/groups");
  ASSERT_EQ(all.status, 200);
  ASSERT_EQ(all.json["groups"].size(), 1u);

  auto renamed = admin_->patch(path, {{"name", "sales-it"}, {"fax_number", "498"}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(renamed.json["name"], "sales-it");
  EXPECT_EQ(renamed.json["fax_number"], "498");
  EXPECT_EQ(admin_->patch(path, {{"fax_number", "498"}}).status, 200) << "its own number is no conflict";

  auto members = admin_->put(path + "/members", {{"user_ids", {root_, alice_}}});
  ASSERT_EQ(members.status, 200) << members.body;
  EXPECT_EQ(member_names(members.json), (std::vector<std::string>{"alice", "root"}));
  auto empty = admin_->put(path + "/members", {{"user_ids", json::array()}});
  ASSERT_EQ(empty.status, 200);
  EXPECT_TRUE(empty.json["members"].empty());

  EXPECT_EQ(admin_->del(path).status, 204);
  expect_problem(admin_->get(path), 404, "group.not_found");
  expect_problem(admin_->del(path), 404, "group.not_found");
  // Its number is free again.
  EXPECT_EQ(admin_->post("/api/v1/admin/groups", {{"name", "support"}, {"fax_number", "498"}}).status, 201);
}

TEST_F(AdminPeopleTest, GroupNamesAndNumbersAreUnique) {
  ASSERT_EQ(admin_->post("/api/v1/admin/groups", {{"name", "sales"}, {"fax_number", "499"}}).status, 201);
  expect_problem(admin_->post("/api/v1/admin/groups", {{"name", "sales"}, {"fax_number", "497"}}), 409,
                 "group.exists");
  expect_problem(admin_->post("/api/v1/admin/groups", {{"name", "other"}, {"fax_number", "499"}}), 409,
                 "number.taken");
  ASSERT_EQ(admin_->patch(path_of(alice_), {{"fax_number", "403"}}).status, 200);
  auto user_number = expect_problem(
      admin_->post("/api/v1/admin/groups", {{"name", "other"}, {"fax_number", "403"}}), 409, "number.taken");
  EXPECT_NE(user_number.value("detail", "").find("alice"), std::string::npos);
  auto second = admin_->post("/api/v1/admin/groups", {{"name", "support"}, {"fax_number", "497"}});
  ASSERT_EQ(second.status, 201);
  const std::string path = "/api/v1/admin/groups/" + std::to_string(second.json["id"].get<std::int64_t>());
  expect_problem(admin_->patch(path, {{"name", "sales"}}), 409, "group.exists");
  expect_problem(admin_->patch(path, {{"fax_number", "499"}}), 409, "number.taken");
  expect_problem(admin_->patch(path, {{"fax_number", "403"}}), 409, "number.taken");
}

TEST_F(AdminPeopleTest, BadGroupBodiesAreRefusedWithEachFieldNamed) {
  auto r = expect_problem(
      admin_->post("/api/v1/admin/groups", {{"name", ""}, {"fax_number", "no number"}, {"user_ids", {alice_, "x", alice_}},
                                            {"members", json::array()}}),
      422, "api.validation_failed");
  const auto f = field_errors(r);
  EXPECT_TRUE(f.count("/name api.field_too_short")) << r.dump();
  EXPECT_TRUE(f.count("/members api.field_unknown")) << r.dump();
  EXPECT_TRUE(f.count("/user_ids/1 api.field_wrong_type")) << r.dump();
  EXPECT_TRUE(f.count("/user_ids/2 api.field_invalid")) << r.dump();
  bool number_named = false;
  for (const auto& e : r["errors"]) number_named |= e["field"] == "/fax_number";
  EXPECT_TRUE(number_named) << r.dump();
  auto missing = expect_problem(admin_->post("/api/v1/admin/groups", json::object()), 422, "api.validation_failed");
  EXPECT_TRUE(field_errors(missing).count("/name api.field_required"));
  EXPECT_TRUE(field_errors(missing).count("/fax_number api.field_required"));

  auto made = admin_->post("/api/v1/admin/groups", {{"name", "sales"}, {"fax_number", "499"}, {"user_ids", {alice_}}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string path = "/api/v1/admin/groups/" + std::to_string(made.json["id"].get<std::int64_t>());
  auto unknown = expect_problem(admin_->put(path + "/members", {{"user_ids", {root_, 999999}}}), 422,
                                "api.validation_failed");
  EXPECT_TRUE(field_errors(unknown).count("/user_ids/1 user.not_found")) << unknown.dump();
  EXPECT_EQ(member_names(admin_->get(path).json), (std::vector<std::string>{"alice"})) << "nothing changed";
  expect_problem(admin_->put(path + "/members", {{"user_ids", "1,2"}}), 422, "api.validation_failed");
  expect_problem(admin_->put(path + "/members", json::object()), 422, "api.validation_failed");
  expect_problem(admin_->patch(path, {{"name", nullptr}}), 422, "api.validation_failed");
  expect_problem(admin_->post("/api/v1/admin/groups", {{"name", "x"}, {"fax_number", "1"}, {"user_ids", {999999}}}),
                 422, "api.validation_failed");
  EXPECT_EQ(admin_->get("/api/v1/admin/groups").json["groups"].size(), 1u) << "the refused group was not written";
  expect_problem(admin_->put("/api/v1/admin/groups/999999/members", {{"user_ids", json::array()}}), 404,
                 "group.not_found");
  expect_problem(admin_->patch("/api/v1/admin/groups/abc", {{"name", "x"}}), 404, "group.not_found");
}

TEST_F(AdminPeopleTest, OnlyAnAdministratorMayAdministerGroups) {
  auto made = admin_->post("/api/v1/admin/groups", {{"name", "sales"}, {"fax_number", "499"}});
  ASSERT_EQ(made.status, 201);
  const std::string one = "/api/v1/admin/groups/" + std::to_string(made.json["id"].get<std::int64_t>());
  ApiClient nobody(port_);
  ApiClient alice = as(alice_);
  ApiClient viewer = as(viewer_);
  const std::vector<std::tuple<std::string, std::string, std::string>> calls = {
      {"GET", "/api/v1/admin/groups", ""},
      {"POST", "/api/v1/admin/groups", R"({"name":"x","fax_number":"1"})"},
      {"GET", one, ""},
      {"PATCH", one, R"({"name":"y"})"},
      {"DELETE", one, ""},
      {"PUT", one + "/members", R"({"user_ids":[]})"},
  };
  for (const auto& [method, path, body] : calls) {
    SCOPED_TRACE(method + " " + path);
    const std::string type = body.empty() ? "" : "application/json";
    expect_problem(nobody.send(method, path, body, type), 401, "api.unauthenticated");
    expect_problem(alice.send(method, path, body, type), 403, "api.forbidden");
    expect_problem(viewer.send(method, path, body, type), 403, "api.forbidden");
  }
}

}  // namespace
}  // namespace faxbridge::webapi
