// The SMTP settings' Test action (POST /api/v1/admin/settings/smtp/test,
// smtp_test_routes.cpp) against a real Postfix on loopback (mail_servers.hpp: STARTTLS
// with a test certificate, AUTH through Dovecot, every mail for @example.test in one
// maildir): a test that goes through sends a real mail, read back from the maildir, and
// saves the values tried (the password sealed) with their audit rows; a wrong password
// or a certificate nobody trusts is the smtp.* problem with the server's answer and saves
// nothing; the test CA (smtp.ca_file) or the certificate's pin makes it pass. Replies are
// checked against docs/api/openapi.yaml by the ApiClient.
#include <unistd.h>

#include "admin_config_fixture.hpp"
#include "faxbridge/core/secret_box.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/testing/mail_servers.hpp"

namespace faxbridge::webapi::testing {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::eventually;
using faxbridge::testing::Postfix;

constexpr const char* kSmtpPassword = "pA55-w0rd-smtp";

class SmtpTestAction : public AdminConfigTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AdminConfigTest::SetUp());
    dir_ = std::filesystem::temp_directory_path() / ("webapi-smtp-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Postfix::Options o;
    o.sasl_password = kSmtpPassword;
    o.refuse = {"nobody@example.test"};
    postfix_ = std::make_unique<Postfix>(dir_, o);
    ASSERT_TRUE(postfix_->ready()) << postfix_->log();
  }
  void TearDown() override {
    postfix_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // The submission port: STARTTLS required, then AUTH; the test CA trusted.
  json account() const {
    return {{"smtp.host", "127.0.0.1"},
            {"smtp.port", postfix_->submission_port()},
            {"smtp.security", "starttls"},
            {"smtp.ca_file", postfix_->certificate().cert_file},
            {"smtp.auth_enabled", true},
            {"smtp.username", "faxbridge"},
            {"smtp.password", kSmtpPassword},
            {"smtp.from_address", "fax@faxbridge.example.test"},
            {"smtp.timeout_s", 10}};
  }
  ApiReply test(const json& body) { return admin_->post("/api/v1/admin/settings/smtp/test", body); }
  db::SettingsSnapshot stored() {
    auto snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
    EXPECT_TRUE(snap) << snap.error().to_string();
    return snap ? *snap : db::SettingsSnapshot{};
  }
  // Nothing of the SMTP account was saved, and no test was recorded.
  void expect_nothing_saved() {
    EXPECT_EQ(sql_value("SELECT count(*) FROM settings WHERE key LIKE 'smtp.%'"), "0");
    EXPECT_TRUE(audit("setting.update").empty());
    EXPECT_TRUE(audit("setting.smtp_test").empty());
  }
  bool delivered(std::size_t n) {
    return eventually([&] { return postfix_->messages().size() >= n; }, 30s);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Postfix> postfix_;
};

TEST_F(SmtpTestAction, ATestThatGoesThroughSendsARealMailAndSavesTheValues) {
  json body = account();
  body["to"] = "fax-admin@example.test";
  auto r = test(body);
  ASSERT_EQ(r.status, 200) << r.body << "\n" << postfix_->log();
  EXPECT_EQ(r.json["sent"], true);
  EXPECT_EQ(r.json["to"], "fax-admin@example.test");
  EXPECT_EQ(r.json["server"], "127.0.0.1:" + std::to_string(postfix_->submission_port()));
  EXPECT_EQ(r.body.find(kSmtpPassword), std::string::npos);
  const std::string id = r.json["message_id"];
  EXPECT_NE(id.find("@faxbridge.example.test"), std::string::npos) << id;

  // The mail, as the maildir holds it.
  ASSERT_TRUE(delivered(1)) << postfix_->log();
  const std::string mail = postfix_->messages()[0];
  std::string headers = mail.substr(0, mail.find("\r\n\r\n") == std::string::npos ? mail.find("\n\n")
                                                                                   : mail.find("\r\n\r\n"));
  for (auto& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_NE(headers.find("message-id:"), std::string::npos) << mail;  // vmime may fold the id to the next line
  EXPECT_NE(headers.find("<" + id + ">"), std::string::npos) << mail;
  EXPECT_NE(mail.find("Auto-Submitted: auto-generated"), std::string::npos) << mail;
  EXPECT_NE(mail.find("Subject: Faxbridge: SMTP test"), std::string::npos) << mail;
  const auto from_at = mail.find("\nFrom: ");
  ASSERT_NE(from_at, std::string::npos) << mail;
  const std::string from_line = mail.substr(from_at + 1, mail.find('\n', from_at + 1) - from_at - 1);
  EXPECT_NE(from_line.find("Faxbridge"), std::string::npos) << from_line;
  EXPECT_NE(from_line.find("<fax@faxbridge.example.test>"), std::string::npos) << from_line;
  EXPECT_NE(mail.find("fax-admin@example.test"), std::string::npos);
  EXPECT_NE(mail.find("sent by root"), std::string::npos) << mail;
  EXPECT_EQ(mail.find(kSmtpPassword), std::string::npos);
  // Through TLS and AUTH, as Postfix logged it.
  EXPECT_TRUE(eventually([&] { return postfix_->log().find("starttls=1 auth=1") != std::string::npos; }, 10s))
      << postfix_->log();

  // Saved: every value tried, the password sealed and readable with the service's key.
  const auto s = stored();
  EXPECT_EQ(s.get_string("smtp.host"), "127.0.0.1");
  EXPECT_EQ(s.get_int("smtp.port"), postfix_->submission_port());
  EXPECT_EQ(s.get_string("smtp.ca_file"), postfix_->certificate().cert_file);
  EXPECT_TRUE(s.get_bool("smtp.auth_enabled"));
  EXPECT_EQ(s.get_string("smtp.from_address"), "fax@faxbridge.example.test");
  EXPECT_TRUE(secret_box::is_sealed(s.get_string("smtp.password")));
  auto password = db::settings::reveal(s, "smtp.password", secret_box::Key::parse(testing_support::kTestSecretKey));
  ASSERT_TRUE(password) << password.error().to_string();
  EXPECT_EQ(*password, kSmtpPassword);
  EXPECT_EQ(r.json["settings"].size(), account().size());
  EXPECT_EQ(r.json["version"].get<std::int64_t>(), s.version);
  // With their audit rows and the test's, none holding the password.
  EXPECT_EQ(audit("setting.update").size(), account().size());
  auto tested = audit("setting.smtp_test");
  ASSERT_EQ(tested.size(), 1u);
  EXPECT_EQ(tested[0]["details"]["to"], "fax-admin@example.test");
  EXPECT_EQ(tested[0]["details"]["message_id"], id);
  EXPECT_EQ(sql_value("SELECT string_agg(details::text, ' ') FROM audit_events").find(kSmtpPassword),
            std::string::npos);

  // Testing again with no body tries the stored values (the sealed password opened) and
  // sends to company.admin_email when set.
  ASSERT_EQ(admin_->put("/api/v1/admin/settings/company.admin_email", {{"value", "alerts@example.test"}}).status, 200);
  auto again = test(json::object());
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["to"], "alerts@example.test");
  EXPECT_TRUE(again.json["settings"].empty());
  ASSERT_TRUE(delivered(2)) << postfix_->log();
}

TEST_F(SmtpTestAction, WithoutToOrAnAdministratorAddressTheCallerGetsIt) {
  sql("UPDATE users SET email = 'root@example.test' WHERE id = " + std::to_string(admin_id_));
  auto r = test(account());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["to"], "root@example.test");
  ASSERT_TRUE(delivered(1)) << postfix_->log();
}

TEST_F(SmtpTestAction, AWrongPasswordIsAuthFailedAndSavesNothing) {
  json body = account();
  body["smtp.password"] = "wrong password";
  body["to"] = "fax-admin@example.test";
  auto p = expect_problem(test(body), 409, "smtp.auth_failed");
  const std::string detail = p["detail"];
  // vmime's SASL loop reports "all mechanisms failed" rather than the server's 535 line;
  // Postfix's log shows that the server itself refused the password.
  EXPECT_NE(detail.find("refused the SMTP user name or password"), std::string::npos) << detail;
  EXPECT_EQ(detail.find("wrong password"), std::string::npos) << detail;
  EXPECT_TRUE(eventually([&] { return postfix_->log().find("authentication failed") != std::string::npos; }, 10s))
      << postfix_->log();
  expect_nothing_saved();
  EXPECT_TRUE(postfix_->messages().empty());
}

TEST_F(SmtpTestAction, ACertificateNobodyTrustsIsTlsFailedAndTheTestCaOrThePinMakesItPass) {
  json body = account();
  body["to"] = "fax-admin@example.test";
  body["smtp.ca_file"] = nullptr;  // the default: the system's bundle, which does not know the test CA
  auto p = expect_problem(test(body), 409, "smtp.tls_failed");
  EXPECT_NE(p["detail"].get<std::string>().find("not trusted"), std::string::npos) << p.dump();
  expect_nothing_saved();

  // A pin that is not the server's: refused, and the detail names the certificate seen.
  body["smtp.pinned_sha256"] = std::string(64, 'a');
  p = expect_problem(test(body), 409, "smtp.tls_failed");
  EXPECT_NE(p["detail"].get<std::string>().find(postfix_->certificate().sha256), std::string::npos) << p.dump();
  expect_nothing_saved();

  // The server's own pin, written as openssl prints it (upper case, colons).
  std::string pin;
  for (std::size_t i = 0; i < postfix_->certificate().sha256.size(); i += 2) {
    if (!pin.empty()) pin += ':';
    pin += postfix_->certificate().sha256.substr(i, 2);
  }
  for (auto& c : pin) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  body["smtp.pinned_sha256"] = pin;
  auto pinned = test(body);
  ASSERT_EQ(pinned.status, 200) << pinned.body;
  EXPECT_EQ(stored().get_string("smtp.pinned_sha256"), pin);

  // The test CA instead of the pin.
  body["smtp.pinned_sha256"] = "";
  body["smtp.ca_file"] = postfix_->certificate().cert_file;
  auto with_ca = test(body);
  ASSERT_EQ(with_ca.status, 200) << with_ca.body;
  EXPECT_EQ(stored().get_string("smtp.ca_file"), postfix_->certificate().cert_file);
  ASSERT_TRUE(delivered(2)) << postfix_->log();
}

TEST_F(SmtpTestAction, ARefusedRecipientIsRejectedAndAServerThatIsAwayIsUnreachable) {
  json body = account();
  body["to"] = "nobody@example.test";
  auto p = expect_problem(test(body), 409, "smtp.rejected");
  EXPECT_NE(p["detail"].get<std::string>().find("5.1.1"), std::string::npos) << p.dump();
  expect_nothing_saved();
  body["to"] = "fax-admin@example.test";
  body["smtp.port"] = faxbridge::testing::free_port();
  expect_problem(test(body), 503, "smtp.unreachable");
  expect_nothing_saved();
}

TEST_F(SmtpTestAction, ValuesAreCheckedAsPatchChecksThemBeforeAnythingIsTried) {
  ASSERT_EQ(admin_->put("/api/v1/admin/settings/mail.address", {{"value", "fax@faxbridge.example.test"}}).status, 200);
  json body = account();
  auto loop = expect_problem(test(body), 422, "api.validation_failed");
  EXPECT_EQ(loop["errors"][0]["code"], "setting.mail_loop");
  EXPECT_EQ(loop["errors"][0]["field"], "/smtp.from_address");

  body["smtp.from_address"] = "out@faxbridge.example.test";
  body["smtp.port"] = 0;
  body["smtp.ca_file"] = "relative.pem";
  body["fax.max_attempts"] = 4;
  body["to"] = "not an address";
  auto bad = expect_problem(test(body), 422, "api.validation_failed");
  std::map<std::string, std::string> by_field;
  for (const auto& e : bad["errors"]) by_field[e["field"]] = e["code"];
  EXPECT_EQ(by_field["/smtp.port"], "setting.invalid");
  EXPECT_EQ(by_field["/smtp.ca_file"], "setting.invalid");
  EXPECT_EQ(by_field["/fax.max_attempts"], "api.field_unknown");
  EXPECT_EQ(by_field["/to"], "mail.invalid_address");
  EXPECT_EQ(by_field.size(), 4u) << bad.dump();

  // Nothing stored and nothing in the body: not configured.
  expect_problem(test(json::object()), 503, "notification.not_configured");
  EXPECT_TRUE(postfix_->messages().empty());
  EXPECT_TRUE(audit("setting.smtp_test").empty());
}

TEST_F(SmtpTestAction, OnlyAdministrators) { expect_admin_only("POST", "/api/v1/admin/settings/smtp/test", account()); }

}  // namespace
}  // namespace faxbridge::webapi::testing
