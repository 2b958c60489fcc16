// The settings administration over HTTP (settings_routes.cpp): every key of the catalog
// listed with its default and constraints, changes validated by the catalog and written
// all or nothing with their audit rows, secrets stored sealed and never shown (not in
// replies, audit rows or log lines) and refused without a secret key, the mail loop rule
// on PATCH and PUT, and the readers the services call (db::settings::load and version,
// per call or per tick) seeing a change at once: no restart.
#include "admin_config_fixture.hpp"

#include "faxbridge/core/log.hpp"
#include "faxbridge/core/secret_box.hpp"
#include "faxbridge/db/settings.hpp"

namespace faxbridge::webapi::testing {
namespace {

json find_key(const json& list, const std::string& key) {
  for (const auto& s : list["settings"]) {
    if (s["key"] == key) return s;
  }
  ADD_FAILURE() << "no setting " << key;
  return json::object();
}

using AdminSettings = AdminConfigTest;

TEST_F(AdminSettings, ListsEveryCatalogKeyWithItsDefaultTypeAndConstraints) {
  auto r = admin_->get("/api/v1/admin/settings");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["settings"].size(), db::setting_catalog().size());
  auto attempts = find_key(r.json, "fax.max_attempts");
  EXPECT_EQ(attempts["value"], 3);
  EXPECT_EQ(attempts["default"], 3);
  EXPECT_EQ(attempts["is_default"], true);
  EXPECT_EQ(attempts["type"], "integer");
  EXPECT_EQ(attempts["constraints"], json({{"minimum", 1}, {"maximum", 100}}));
  EXPECT_EQ(attempts["updated_at"], nullptr);
  EXPECT_EQ(attempts["updated_by"], nullptr);
  EXPECT_EQ(find_key(r.json, "incoming.attachment_format")["constraints"]["choices"], json({"pdf", "tif"}));
  EXPECT_EQ(find_key(r.json, "company.tsid")["constraints"]["max_length"], 20);
  // The seed's settings the catalog gained: the mailbox, SMTP, and their secrets.
  for (const char* key : {"mail.host", "mail.port", "mail.address", "mail.username", "mail.password", "smtp.host",
                          "smtp.port", "smtp.security", "smtp.auth_enabled", "smtp.username", "smtp.password",
                          "smtp.from_address"}) {
    EXPECT_TRUE(find_key(r.json, key).is_object()) << key;
  }
  auto password = find_key(r.json, "smtp.password");
  EXPECT_EQ(password["secret"], true);
  EXPECT_EQ(password["value"], nullptr);
  EXPECT_EQ(password["set"], false);

  auto one = admin_->get("/api/v1/admin/settings/company.admin_email");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.json["type"], "email");
  EXPECT_EQ(one.json["value"], "");
  expect_problem(admin_->get("/api/v1/admin/settings/no.such.key"), 404, "api.not_found");
}

TEST_F(AdminSettings, PatchWritesSeveralKeysWithTheirAuditAndTheServicesReadThemAtOnce) {
  auto before = pool_.transact([](db::Tx& tx) { return db::settings::version(tx); });
  ASSERT_TRUE(before);
  auto r = admin_->patch("/api/v1/admin/settings", {{"fax.max_attempts", 5},
                                                     {"fax.max_concurrent_outgoing", 8 + 4},
                                                     {"company.tsid", "ACME FAX"},
                                                     {"incoming.attachment_format", "tif"},
                                                     {"sip.allow_g711_outgoing", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["settings"].size(), 5u);
  auto attempts = find_key(r.json, "fax.max_attempts");
  EXPECT_EQ(attempts["value"], 5);
  EXPECT_EQ(attempts["is_default"], false);
  EXPECT_EQ(attempts["updated_by"], json({{"id", admin_id_}, {"username", "root"}}));
  EXPECT_FALSE(attempts["updated_at"].is_null());
  EXPECT_GT(r.json["version"].get<std::int64_t>(), *before);

  // What the router (per tick, when the version moved) and the gateway (per call) read.
  auto snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->get_int("fax.max_attempts"), 5);
  EXPECT_EQ(snap->get_int("fax.max_concurrent_outgoing"), 12);
  EXPECT_EQ(snap->get_string("company.tsid"), "ACME FAX");
  EXPECT_EQ(snap->get_string("incoming.attachment_format"), "tif");
  EXPECT_TRUE(snap->get_bool("sip.allow_g711_outgoing"));
  EXPECT_EQ(snap->version, r.json["version"].get<std::int64_t>());

  auto rows = audit("setting.update");
  ASSERT_EQ(rows.size(), 5u);
  bool seen = false;
  for (const auto& a : rows) {
    EXPECT_EQ(a["actor"], "root");
    if (a["object_id"] == "fax.max_attempts") {
      seen = true;
      EXPECT_EQ(a["details"], json({{"from", 3}, {"to", 5}}));
    }
  }
  EXPECT_TRUE(seen);

  // null in a PATCH is "back to the default" (merge-patch); it moves the version too.
  auto reset = admin_->patch("/api/v1/admin/settings", {{"fax.max_attempts", nullptr}});
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_EQ(find_key(reset.json, "fax.max_attempts")["value"], 3);
  EXPECT_EQ(find_key(reset.json, "fax.max_attempts")["is_default"], true);
  EXPECT_GT(reset.json["version"].get<std::int64_t>(), r.json["version"].get<std::int64_t>());
  EXPECT_EQ(audit("setting.reset").size(), 1u);
}

TEST_F(AdminSettings, OneInvalidValueWritesNoneAndEveryBadKeyIsNamed) {
  auto r = admin_->patch("/api/v1/admin/settings", {{"fax.max_attempts", 5},
                                                     {"fax.retry_interval_s", 1},
                                                     {"sip.allow_g711_outgoing", "yes"},
                                                     {"incoming.attachment_format", "docx"},
                                                     {"company.admin_email", "not-a-mail"},
                                                     {"company.tsid", std::string(21, 'X')},
                                                     {"no.such.key", 1}});
  auto p = expect_problem(r, 422, "api.validation_failed");
  std::map<std::string, std::string> by_field;
  for (const auto& e : p["errors"]) by_field[e["field"]] = e["code"];
  EXPECT_EQ(by_field.size(), 6u) << p.dump();
  EXPECT_EQ(by_field["/fax.retry_interval_s"], "setting.invalid");
  EXPECT_EQ(by_field["/sip.allow_g711_outgoing"], "setting.invalid");
  EXPECT_EQ(by_field["/incoming.attachment_format"], "setting.invalid");
  EXPECT_EQ(by_field["/company.admin_email"], "setting.invalid");
  EXPECT_EQ(by_field["/company.tsid"], "setting.invalid");
  EXPECT_EQ(by_field["/no.such.key"], "setting.unknown");
  EXPECT_EQ(by_field.count("/fax.max_attempts"), 0u);
  // Nothing was written, not even the valid key.
  auto snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
  EXPECT_EQ(snap->get_int("fax.max_attempts"), 3);
  EXPECT_TRUE(audit("setting.update").empty());

  // Wrong types: a number as a string, a fraction, an object.
  for (const json& bad : {json("5"), json(2.5), json::object(), json::array()}) {
    auto w = admin_->patch("/api/v1/admin/settings", {{"fax.max_attempts", bad}});
    auto wp = expect_problem(w, 422, "api.validation_failed");
    EXPECT_EQ(wp["errors"][0]["field"], "/fax.max_attempts");
  }
  // The body itself: not an object, empty, not JSON, not application/json.
  expect_problem(admin_->send("PATCH", "/api/v1/admin/settings", "[1]", "application/json"), 422,
                 "api.validation_failed");
  expect_problem(admin_->patch("/api/v1/admin/settings", json::object()), 422, "api.validation_failed");
  expect_problem(admin_->send("PATCH", "/api/v1/admin/settings", "{\"fax.max_attempts\": ", "application/json"), 400,
                 "api.invalid_json");
  expect_problem(admin_->send("PATCH", "/api/v1/admin/settings", "fax.max_attempts=5", "text/plain"), 415,
                 "api.unsupported_media_type");
  expect_problem(admin_->send("PATCH", "/api/v1/admin/settings", "{\"a\": \"" + std::string(2 << 20, 'x') + "\"}",
                              "application/json"),
                 413, "api.body_too_large");
}

TEST_F(AdminSettings, LoweringTheDefaultLevelMayNotLeaveNoAdministrator) {
  ASSERT_EQ(admin_->patch("/api/v1/admin/settings", {{"users.default_permission_level", 10}}).status, 200);
  // The only administrator now holds level 10 by inheritance alone.
  sql("UPDATE users SET permission_level = NULL WHERE id = " + std::to_string(admin_id_));
  expect_problem(admin_->patch("/api/v1/admin/settings", {{"users.default_permission_level", 2}}), 409,
                 "user.last_admin");
  expect_problem(admin_->del("/api/v1/admin/settings/users.default_permission_level"), 409, "user.last_admin");
  auto snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
  EXPECT_EQ(snap->get_int("users.default_permission_level"), 10) << "the refused change rolled back";
}

TEST_F(AdminSettings, TheSmtpFromAddressMustNotBeTheEmailToFaxMailbox) {
  ASSERT_EQ(admin_->put("/api/v1/admin/settings/mail.address", {{"value", "fax@example.com"}}).status, 200);
  auto r = admin_->patch("/api/v1/admin/settings", {{"smtp.from_address", "FAX@example.com"}, {"smtp.port", 465}});
  auto p = expect_problem(r, 422, "api.validation_failed");
  ASSERT_EQ(p["errors"].size(), 1u);
  EXPECT_EQ(p["errors"][0]["field"], "/smtp.from_address");
  EXPECT_EQ(p["errors"][0]["code"], "setting.mail_loop");
  // The sentence says why: what is sent from it would come back as faxes.
  EXPECT_NE(p["errors"][0]["detail"].get<std::string>().find("read as new faxes to send"), std::string::npos)
      << p.dump();
  auto snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
  EXPECT_EQ(snap->get_int("smtp.port"), 587) << "all or nothing";

  // PUT of either key refuses it too, named at its value.
  auto put = expect_problem(admin_->put("/api/v1/admin/settings/smtp.from_address", {{"value", "fax@EXAMPLE.com"}}),
                            422, "api.validation_failed");
  ASSERT_EQ(put["errors"].size(), 1u);
  EXPECT_EQ(put["errors"][0]["field"], "/value");
  EXPECT_EQ(put["errors"][0]["code"], "setting.mail_loop");
  ASSERT_EQ(admin_->patch("/api/v1/admin/settings", {{"smtp.from_address", "faxbridge@example.com"}}).status, 200);
  auto other = expect_problem(admin_->put("/api/v1/admin/settings/mail.address", {{"value", "FaxBridge@example.com"}}),
                              422, "api.validation_failed");
  EXPECT_EQ(other["errors"][0]["code"], "setting.mail_loop");
  snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
  EXPECT_EQ(snap->get_string("mail.address"), "fax@example.com");
  EXPECT_EQ(snap->get_string("smtp.from_address"), "faxbridge@example.com");
  EXPECT_EQ(audit("setting.update").size(), 2u) << "the refused ones left no audit row";
}

TEST_F(AdminSettings, SecretsAreWrittenButNeverShown) {
  // Every log line of the writes, at the lowest level, is read back below.
  log::init("webapi-test", log::Level::kDebug);
  ::testing::internal::CaptureStdout();
  auto r = admin_->put("/api/v1/admin/settings/smtp.password", {{"value", "s3cret!"}});
  auto patched = admin_->patch("/api/v1/admin/settings", {{"mail.password", "m41lb0x!"}, {"mail.username", "fax-in"}});
  const std::string logged = ::testing::internal::GetCapturedStdout();
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.body.find("m41lb0x"), std::string::npos);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["value"], nullptr);
  EXPECT_EQ(r.json["set"], true);
  EXPECT_EQ(r.body.find("s3cret"), std::string::npos);
  auto list = admin_->get("/api/v1/admin/settings");
  EXPECT_EQ(list.body.find("s3cret"), std::string::npos);
  EXPECT_EQ(find_key(list.json, "smtp.password")["set"], true);
  EXPECT_EQ(admin_->get("/api/v1/admin/settings/smtp.password").body.find("s3cret"), std::string::npos);
  // Stored sealed: the row holds neither the password nor anything that opens without the key.
  const std::string stored = sql_value("SELECT value #>> '{}' FROM settings WHERE key = 'smtp.password'");
  EXPECT_EQ(stored.rfind("sealed:v1:", 0), 0u) << stored;
  EXPECT_EQ(stored.find("s3cret"), std::string::npos);
  // The services read it through settings::reveal with the same key.
  auto snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
  EXPECT_EQ(snap->get_string("smtp.password"), stored);
  auto plain = db::settings::reveal(*snap, "smtp.password", secret_box::Key::parse(testing_support::kTestSecretKey));
  ASSERT_TRUE(plain) << plain.error().to_string();
  EXPECT_EQ(*plain, "s3cret!");
  EXPECT_EQ(*db::settings::reveal(*snap, "mail.password", secret_box::Key::parse(testing_support::kTestSecretKey)),
            "m41lb0x!");
  auto wrong = db::settings::reveal(*snap, "smtp.password", secret_box::Key::generate());
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Code::k_secret_unreadable);
  // The audit says it changed, not to what; neither the audit nor the logs hold the
  // password, in clear or sealed.
  auto rows = audit("setting.update");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["details"], json({{"secret", true}, {"set", true}}));
  const std::string all_audit = sql_value("SELECT string_agg(details::text, ' ') FROM audit_events");
  const std::string mail_stored = sql_value("SELECT value #>> '{}' FROM settings WHERE key = 'mail.password'");
  for (const std::string& leak : {std::string("s3cret"), std::string("m41lb0x"), stored.substr(10, 24),
                                   mail_stored.substr(10, 24), std::string("sealed:")}) {
    EXPECT_EQ(all_audit.find(leak), std::string::npos) << leak << " in " << all_audit;
    EXPECT_EQ(logged.find(leak), std::string::npos) << leak << " in " << logged;
  }
  EXPECT_NE(logged.find("api.request"), std::string::npos) << "the writes were logged: " << logged;
  // A new write takes a new nonce: the same password stored again is another text.
  ASSERT_EQ(admin_->put("/api/v1/admin/settings/smtp.password", {{"value", "s3cret!"}}).status, 200);
  EXPECT_NE(sql_value("SELECT value #>> '{}' FROM settings WHERE key = 'smtp.password'"), stored);
  auto cleared = admin_->del("/api/v1/admin/settings/smtp.password");
  ASSERT_EQ(cleared.status, 200);
  EXPECT_EQ(cleared.json["set"], false);
}

// The new keys of the SMTP account and the notifier, listed with their defaults, and the
// two that have a format beyond their type.
TEST_F(AdminSettings, TheSmtpAndNotifierKeysAreListedAndTheirFormatsChecked) {
  auto r = admin_->get("/api/v1/admin/settings");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(find_key(r.json, "smtp.from_name")["value"], "Faxbridge");
  EXPECT_EQ(find_key(r.json, "smtp.verify_certificate")["value"], true);
  EXPECT_EQ(find_key(r.json, "smtp.ca_file")["value"], "");
  EXPECT_EQ(find_key(r.json, "smtp.pinned_sha256")["value"], "");
  EXPECT_EQ(find_key(r.json, "smtp.timeout_s")["constraints"], json({{"minimum", 5}, {"maximum", 300}}));
  EXPECT_EQ(find_key(r.json, "notifications.retry_hours")["value"], 48);
  EXPECT_EQ(find_key(r.json, "notifications.admin_alert_interval_min")["value"], 60);
  EXPECT_EQ(find_key(r.json, "webhooks.allow_private_addresses")["value"], false);
  EXPECT_EQ(find_key(r.json, "incoming.attach_thumbnail")["value"], true);

  const std::string pin = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
  auto ok = admin_->patch("/api/v1/admin/settings", {{"smtp.pinned_sha256", pin}, {"smtp.ca_file", "/etc/faxbridge/ca.pem"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto bad = expect_problem(
      admin_->patch("/api/v1/admin/settings", {{"smtp.pinned_sha256", "not-a-fingerprint"}, {"smtp.ca_file", "ca.pem"},
                                               {"smtp.timeout_s", 1}}),
      422, "api.validation_failed");
  std::map<std::string, std::string> by_field;
  for (const auto& e : bad["errors"]) by_field[e["field"]] = e["detail"];
  ASSERT_EQ(by_field.size(), 3u) << bad.dump();
  EXPECT_NE(by_field["/smtp.pinned_sha256"].find("64 hex digits"), std::string::npos);
  EXPECT_NE(by_field["/smtp.ca_file"].find("absolute path"), std::string::npos);
  auto snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
  EXPECT_EQ(snap->get_string("smtp.pinned_sha256"), pin);
}

TEST_F(AdminSettings, PutAndDeleteOneKey) {
  auto r = admin_->put("/api/v1/admin/settings/retention.fax_days", {{"value", 90}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["value"], 90);
  EXPECT_EQ(r.json["is_default"], false);
  auto d = admin_->del("/api/v1/admin/settings/retention.fax_days");
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(d.json["value"], 0);
  EXPECT_EQ(d.json["is_default"], true);
  EXPECT_EQ(d.json["updated_by"]["username"], "root") << "the reset is recorded as a change";
  auto snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
  EXPECT_EQ(snap->get_int("retention.fax_days"), 0);

  // The inherited permission level follows a reset too (users.cpp reads the row).
  ASSERT_EQ(admin_->put("/api/v1/admin/settings/users.default_permission_level", {{"value", 0}}).status, 200);
  expect_problem(user_->get("/api/v1/cover-pages"), 403, "api.forbidden");
  ASSERT_EQ(admin_->del("/api/v1/admin/settings/users.default_permission_level").status, 200);
  EXPECT_EQ(user_->get("/api/v1/cover-pages").status, 200);

  expect_problem(admin_->put("/api/v1/admin/settings/retention.fax_days", {{"value", -1}}), 422,
                 "api.validation_failed");
  expect_problem(admin_->put("/api/v1/admin/settings/retention.fax_days", {{"value", "90"}}), 422,
                 "api.validation_failed");
  auto unknown = expect_problem(admin_->put("/api/v1/admin/settings/retention.fax_days", {{"value", 1}, {"valeu", 2}}),
                                422, "api.validation_failed");
  EXPECT_EQ(unknown["errors"][0]["field"], "/valeu");
  EXPECT_EQ(unknown["errors"][0]["code"], "api.field_unknown");
  auto missing = expect_problem(admin_->put("/api/v1/admin/settings/retention.fax_days", json::object()), 422,
                                "api.validation_failed");
  EXPECT_EQ(missing["errors"][0]["code"], "api.field_required");
  expect_problem(admin_->put("/api/v1/admin/settings/no.such.key", {{"value", 1}}), 404, "api.not_found");
  expect_problem(admin_->del("/api/v1/admin/settings/no.such.key"), 404, "api.not_found");
}

TEST_F(AdminSettings, OnlyAdministratorsByTokenOrSession) {
  expect_admin_only("GET", "/api/v1/admin/settings");
  expect_admin_only("PATCH", "/api/v1/admin/settings", {{"fax.max_attempts", 4}});
  expect_admin_only("GET", "/api/v1/admin/settings/fax.max_attempts");
  expect_admin_only("PUT", "/api/v1/admin/settings/fax.max_attempts", {{"value", 4}});
  expect_admin_only("DELETE", "/api/v1/admin/settings/fax.max_attempts");
  ApiClient session(port_);
  ASSERT_TRUE(session.sign_in("root", kPassword));
  EXPECT_EQ(session.patch("/api/v1/admin/settings", {{"fax.max_attempts", 4}}).status, 200);
  auto snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
  EXPECT_EQ(snap->get_int("fax.max_attempts"), 4);
}

// A WebApi started without FAXBRIDGE_SECRET_KEY, as a service whose operator set none.
class AdminSettingsWithoutKey : public AdminConfigTest {
 protected:
  void SetUp() override {
    without_secret_key_ = true;
    AdminConfigTest::SetUp();
  }
};

TEST_F(AdminSettingsWithoutKey, WritingASecretIsRefusedSayingWhatToSetAndNothingIsWritten) {
  auto put = expect_problem(admin_->put("/api/v1/admin/settings/smtp.password", {{"value", "s3cret!"}}), 409,
                            "secret.key_missing");
  const std::string detail = put["detail"];
  EXPECT_NE(detail.find("FAXBRIDGE_SECRET_KEY"), std::string::npos) << detail;
  EXPECT_NE(detail.find("openssl rand -hex 32"), std::string::npos) << detail;
  EXPECT_EQ(detail.find("s3cret"), std::string::npos);
  // With other keys in one PATCH: none of them is written.
  expect_problem(admin_->patch("/api/v1/admin/settings", {{"smtp.host", "smtp.example.com"}, {"mail.password", "x"}}),
                 409, "secret.key_missing");
  // The test action refuses a new password before it tries anything.
  expect_problem(admin_->post("/api/v1/admin/settings/smtp/test",
                              {{"smtp.host", "127.0.0.1"}, {"smtp.from_address", "fax@example.com"},
                               {"smtp.auth_enabled", true}, {"smtp.password", "s3cret!"}}),
                 409, "secret.key_missing");
  EXPECT_EQ(sql_value("SELECT count(*) FROM settings"), "0");
  EXPECT_TRUE(audit("setting.update").empty());
  // Clearing a secret, and every other key, needs no key.
  auto cleared = admin_->put("/api/v1/admin/settings/smtp.password", {{"value", ""}});
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_EQ(cleared.json["set"], false);
  EXPECT_EQ(admin_->del("/api/v1/admin/settings/mail.password").status, 200);
  EXPECT_EQ(admin_->put("/api/v1/admin/settings/smtp.host", {{"value", "smtp.example.com"}}).status, 200);
}

}  // namespace
}  // namespace faxbridge::webapi::testing
