// The mail templates over HTTP (template_routes.cpp): every name in every language
// listed, the built-in one shown, a part changed (checked first: a template that does
// not parse is refused naming the part), the preview of a draft, the reset, the audit,
// and administrators only.
#include "admin_config_fixture.hpp"

namespace faxbridge::webapi::testing {
namespace {

using Templates = AdminConfigTest;

TEST_F(Templates, EveryTemplateIsListedInEveryLanguageAndShowsTheBuiltInOneUntilChanged) {
  auto r = admin_->get("/api/v1/admin/templates");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json["templates"].size(), 16u);  // 8 mails x English, Italian
  for (const auto& t : r.json["templates"]) EXPECT_TRUE(t["changed_parts"].empty()) << t.dump();
  auto one = admin_->get("/api/v1/admin/templates/fax_to_email/it");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.json["subject"],
            "Fax da {{CALLER}}{{#REMOTE_STATION}} ({{REMOTE_STATION_ID}}){{/REMOTE_STATION}}, {{PAGES}} pagina/e, "
            "{{REFERENCE}}\n");
  EXPECT_EQ(one.json["changed"], (json{{"subject", false}, {"text", false}, {"html", false}}));
  EXPECT_EQ(one.json["updated_at"], nullptr);
  const auto fields = one.json["fields"].get<std::vector<std::string>>();
  for (const char* f : {"CALLER", "CALLED", "PAGES", "DURATION", "REFERENCE", "REMOTE_STATION_ID"}) {
    EXPECT_NE(std::find(fields.begin(), fields.end(), f), fields.end()) << f;
  }
  expect_problem(admin_->get("/api/v1/admin/templates/fax_to_email/fr"), 404, "template.not_found");
  expect_problem(admin_->get("/api/v1/admin/templates/nothing/en"), 404, "template.not_found");
}

TEST_F(Templates, APartIsChangedOnlyWhenItParsesAndTheResetBringsTheBuiltInBack) {
  const std::string path = "/api/v1/admin/templates/return_receipt/en";
  auto bad = admin_->send("PUT", path, json{{"text", "{{#ATTEMPTS}} unclosed"}, {"subject", " "}}.dump(),
                          "application/json");
  expect_problem(bad, 422, "api.validation_failed");
  ASSERT_EQ(bad.json["errors"].size(), 2u) << bad.body;
  std::set<std::string> fields;
  for (const auto& e : bad.json["errors"]) {
    fields.insert(e["field"]);
    EXPECT_EQ(e["code"], "template.invalid");
  }
  EXPECT_EQ(fields, (std::set<std::string>{"/text", "/subject"}));
  expect_problem(admin_->send("PUT", path, "{}", "application/json"), 422, "api.validation_failed");

  auto ok = admin_->send("PUT", path, json{{"subject", "Sent: {{REFERENCE}}"}}.dump(), "application/json");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json["subject"], "Sent: {{REFERENCE}}");
  EXPECT_EQ(ok.json["changed"]["subject"], true);
  EXPECT_EQ(ok.json["changed"]["text"], false);
  EXPECT_NE(ok.json["updated_at"], nullptr);
  EXPECT_NE(ok.json["text"].get<std::string>().find("Your fax was sent."), std::string::npos) << "the rest stays built-in";
  auto preview = admin_->send("POST", path + "/preview", "{}", "application/json");
  ASSERT_EQ(preview.status, 200) << preview.body;
  EXPECT_EQ(preview.json["subject"], "Sent: 2026.00001234");
  EXPECT_NE(preview.json["text"].get<std::string>().find("busy (SIP 486)"), std::string::npos) << preview.body;
  auto audited = audit("template.update");
  ASSERT_EQ(audited.size(), 1u);
  EXPECT_EQ(audited[0]["object_id"], "return_receipt/en");
  EXPECT_EQ(audited[0]["details"]["parts"], json::array({"subject"}));

  auto reset = admin_->del(path);
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_EQ(reset.json["subject"], "Fax sent to {{RECIPIENT}}: {{SUBJECT_OR_REFERENCE}}\n");
  EXPECT_EQ(reset.json["changed"]["subject"], false);
  EXPECT_EQ(audit("template.reset").size(), 1u);
}

TEST_F(Templates, ThePreviewRendersADraftWithSampleValuesAndEscapesThemInHtml) {
  auto r = admin_->send("POST", "/api/v1/admin/templates/fax_to_email/en/preview",
                        json{{"html", "<p>{{COMPANY_NAME}} got {{PAGES}} pages</p>"}}.dump(), "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["html"], "<p>ACME S.p.A. got 3 pages</p>");
  EXPECT_EQ(r.json["subject"], "Fax from +4930123456 (ACME BERLIN), 3 page(s), 2026.00001234");
  EXPECT_NE(r.json["text"].get<std::string>().find("Duration:        1 min 12 s"), std::string::npos) << r.body;
  // A draft is never saved.
  EXPECT_EQ(admin_->get("/api/v1/admin/templates/fax_to_email/en").json["changed"]["html"], false);
  expect_problem(admin_->send("POST", "/api/v1/admin/templates/fax_to_email/en/preview",
                              json{{"html", "{{/NEVER_OPENED}}"}}.dump(), "application/json"),
                 422, "api.validation_failed");
}

TEST_F(Templates, OnlyAdministratorsSeeOrChangeThem) {
  expect_admin_only("GET", "/api/v1/admin/templates");
  expect_admin_only("GET", "/api/v1/admin/templates/fax_to_email/en");
  expect_admin_only("PUT", "/api/v1/admin/templates/fax_to_email/en", json{{"subject", "x"}});
  expect_admin_only("DELETE", "/api/v1/admin/templates/fax_to_email/en");
  expect_admin_only("POST", "/api/v1/admin/templates/fax_to_email/en/preview");
}

}  // namespace
}  // namespace faxbridge::webapi::testing
