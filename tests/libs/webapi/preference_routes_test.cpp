// GET and PATCH /api/v1/me/preferences over HTTP: the seed's user preferences, each
// field validated (mail address, cover page that exists, language), unknown fields and
// wrong types refused in one 422, only the given fields written, one audit entry per
// change naming what changed, level 0 refused.
#include "inbox_fixture.hpp"

#include <set>

namespace faxbridge::webapi {
namespace {

using namespace testing_support;

class PreferenceRoutes : public InboxWorld {};

std::set<std::string> fields_of(const json& problem) {
  std::set<std::string> out;
  for (const auto& e : problem["errors"]) out.insert(e["field"].get<std::string>());
  return out;
}

TEST_F(PreferenceRoutes, ShowsTheDefaults) {
  auto r = alice_.api->get("/api/v1/me/preferences");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json, json({{"fax_to_email", false},
                          {"fax_to_email_address", ""},
                          {"fax_to_email_delivers_to", "alice@example.com"},
                          {"attach_fax", true},
                          {"cover_page", ""},
                          {"language", "en"}}));
}

TEST_F(PreferenceRoutes, PatchChangesOnlyTheGivenFieldsAndAuditsEachChange) {
  auto r = alice_.api->patch("/api/v1/me/preferences",
                             {{"fax_to_email", true}, {"fax_to_email_address", "inbox@alice.example.org"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["fax_to_email"], true);
  EXPECT_EQ(r.json["fax_to_email_delivers_to"], "inbox@alice.example.org");
  EXPECT_EQ(r.json["attach_fax"], true);
  r = alice_.api->patch("/api/v1/me/preferences", {{"attach_fax", false}, {"cover_page", "urgent"}, {"language", "it"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["fax_to_email"], true) << "kept";
  EXPECT_EQ(r.json["cover_page"], "urgent");
  EXPECT_EQ(alice_.api->get("/api/v1/me/preferences").json, r.json);
  EXPECT_EQ(sql_value("SELECT enable_fax_to_email::text || attach_fax::text || cover_page_name || language FROM users "
                      "WHERE id = " + std::to_string(alice_.id)),
            "truefalseurgentit");
  auto audit = json::parse(sql_value("SELECT details FROM audit_events WHERE action = 'preferences.update' "
                                     "ORDER BY id LIMIT 1"));
  EXPECT_EQ(audit, json({{"fax_to_email", {{"from", false}, {"to", true}}},
                         {"fax_to_email_address", {{"from", ""}, {"to", "inbox@alice.example.org"}}}}));
  EXPECT_EQ(sql_value("SELECT count(*) FROM audit_events WHERE action = 'preferences.update' AND actor = 'alice'"), "2");
  // Nothing changed: nothing recorded.
  ASSERT_EQ(alice_.api->patch("/api/v1/me/preferences", {{"attach_fax", false}}).status, 200);
  ASSERT_EQ(alice_.api->patch("/api/v1/me/preferences", json::object()).status, 200);
  EXPECT_EQ(sql_value("SELECT count(*) FROM audit_events WHERE action = 'preferences.update'"), "2");
  // Back to the defaults: empty address and cover page.
  r = alice_.api->patch("/api/v1/me/preferences", {{"fax_to_email_address", ""}, {"cover_page", ""}});
  EXPECT_EQ(r.json["fax_to_email_delivers_to"], "alice@example.com");
  EXPECT_EQ(r.json["cover_page"], "");
  // Bob's are his own.
  EXPECT_EQ(bob_.api->get("/api/v1/me/preferences").json["fax_to_email"], false);
}

TEST_F(PreferenceRoutes, ALocalizedCoverPageCountsForItsLanguage) {
  sql("INSERT INTO cover_pages (name, svg) VALUES ('it_lettera', '<svg/>')");
  auto p = expect_problem(alice_.api->patch("/api/v1/me/preferences", {{"cover_page", "lettera"}}), 422,
                          "api.validation_failed");
  EXPECT_EQ(p["errors"][0]["code"], "cover_page.not_found");
  auto r = alice_.api->patch("/api/v1/me/preferences", {{"cover_page", "lettera"}, {"language", "it"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["cover_page"], "lettera");
}

TEST_F(PreferenceRoutes, RefusesBadFieldsAllAtOnceAndWritesNothing) {
  auto p = expect_problem(alice_.api->patch("/api/v1/me/preferences", {{"fax_to_email", "yes"},
                                                                       {"fax_to_email_address", "not an address"},
                                                                       {"attach_fax", 1},
                                                                       {"language", "english"},
                                                                       {"colour", "blue"}}),
                          422, "api.validation_failed");
  EXPECT_EQ(fields_of(p), (std::set<std::string>{"/fax_to_email", "/fax_to_email_address", "/attach_fax",
                                                 "/language", "/colour"}));
  p = expect_problem(alice_.api->patch("/api/v1/me/preferences", {{"cover_page", "no_such_cover"}}), 422,
                     "api.validation_failed");
  EXPECT_EQ(fields_of(p), std::set<std::string>{"/cover_page"});
  p = expect_problem(alice_.api->patch("/api/v1/me/preferences", {{"fax_to_email_address", "a@b"}}), 422,
                     "api.validation_failed");
  p = expect_problem(alice_.api->patch("/api/v1/me/preferences", {{"cover_page", "../../etc/passwd"}}), 422,
                     "api.validation_failed");
  expect_problem(alice_.api->patch("/api/v1/me/preferences", json::array()), 422, "api.validation_failed");
  expect_problem(alice_.api->send("PATCH", "/api/v1/me/preferences", "{\"attach_fax\":", "application/json"), 400,
                 "api.invalid_json");
  expect_problem(alice_.api->send("PATCH", "/api/v1/me/preferences", "attach_fax=1", "text/plain"), 415,
                 "api.unsupported_media_type");
  expect_problem(alice_.api->send("PATCH", "/api/v1/me/preferences",
                                  "{\"language\": \"" + std::string(2 << 20, 'e') + "\"}", "application/json"),
                 413, "api.body_too_large");
  EXPECT_EQ(alice_.api->get("/api/v1/me/preferences").json["fax_to_email"], false);
  EXPECT_EQ(sql_value("SELECT count(*) FROM audit_events WHERE action = 'preferences.update'"), "0");
}

TEST_F(PreferenceRoutes, LevelZeroAndNobodyAreRefused) {
  expect_problem(zero_.api->get("/api/v1/me/preferences"), 403, "api.forbidden");
  expect_problem(zero_.api->patch("/api/v1/me/preferences", {{"attach_fax", false}}), 403, "api.forbidden");
  ApiClient nobody(port_);
  expect_problem(nobody.get("/api/v1/me/preferences"), 401, "api.unauthenticated");
  expect_problem(nobody.patch("/api/v1/me/preferences", {{"attach_fax", false}}), 401, "api.unauthenticated");
  EXPECT_EQ(admin_.api->get("/api/v1/me/preferences").status, 200);
}

}  // namespace
}  // namespace faxbridge::webapi
