// The mailbox settings' Test action (POST /api/v1/admin/settings/mailbox/test,
// mailbox_test_routes.cpp) against a real Dovecot on loopback (mailbox_server.hpp): a
// test that signs in counts the folder and saves the values tried (the password sealed)
// with their audit rows; a wrong password or an untrusted certificate is the
// mail.mailbox_* problem and saves nothing; POP3 from its port. Replies are checked
// against docs/api/openapi.yaml by the ApiClient.
#include <unistd.h>

#include "admin_config_fixture.hpp"
#include "faxbridge/core/secret_box.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/testing/mailbox_server.hpp"

namespace faxbridge::webapi::testing {
namespace {

constexpr const char* kMailboxPassword = "st0ne-mailbox";

class MailboxTestAction : public AdminConfigTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AdminConfigTest::SetUp());
    dir_ = std::filesystem::temp_directory_path() / ("webapi-mailbox-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    dovecot_ = std::make_unique<faxbridge::testing::DovecotMailbox>(
        dir_, std::map<std::string, std::string>{{"stone", kMailboxPassword}});
    ASSERT_TRUE(dovecot_->ready()) << dovecot_->log();
  }
  void TearDown() override {
    dovecot_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  json account() const {
    return {{"mail.host", "127.0.0.1"},
            {"mail.port", dovecot_->imaps_port()},
            {"mail.protocol", "imap"},
            {"mail.security", "tls"},
            {"mail.ca_file", dovecot_->certificate().cert_file},
            {"mail.username", "stone"},
            {"mail.password", kMailboxPassword}};
  }
  ApiReply test(const json& body) { return admin_->post("/api/v1/admin/settings/mailbox/test", body); }
  void expect_nothing_saved() {
    EXPECT_EQ(sql_value("SELECT count(*) FROM settings WHERE key LIKE 'mail.%'"), "0");
    EXPECT_TRUE(audit("setting.mailbox_test").empty());
  }

  std::filesystem::path dir_;
  std::unique_ptr<faxbridge::testing::DovecotMailbox> dovecot_;
};

TEST_F(MailboxTestAction, ATestThatSignsInCountsTheFolderAndSavesTheValues) {
  dovecot_->deliver("stone", "From: a@b.example\r\nSubject: one\r\n\r\nx\r\n");
  dovecot_->deliver("stone", "From: a@b.example\r\nSubject: two\r\n\r\nx\r\n");
  auto r = test(account());
  ASSERT_EQ(r.status, 200) << r.body << "\n" << dovecot_->log();
  EXPECT_EQ(r.json["connected"], true);
  EXPECT_EQ(r.json["server"], "127.0.0.1:" + std::to_string(dovecot_->imaps_port()));
  EXPECT_EQ(r.json["protocol"], "imap");
  EXPECT_EQ(r.json["security"], "tls");
  EXPECT_EQ(r.json["folder"], "INBOX");
  EXPECT_EQ(r.json["messages"], 2);
  EXPECT_EQ(r.body.find(kMailboxPassword), std::string::npos);
  EXPECT_EQ(dovecot_->messages("stone").size(), 2u);  // nothing read away
  auto snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->get_string("mail.host"), "127.0.0.1");
  EXPECT_TRUE(secret_box::is_sealed(snap->get_string("mail.password")));
  auto password = db::settings::reveal(*snap, "mail.password", secret_box::Key::parse(testing_support::kTestSecretKey));
  ASSERT_TRUE(password) << password.error().to_string();
  EXPECT_EQ(*password, kMailboxPassword);
  EXPECT_EQ(r.json["settings"].size(), account().size());
  ASSERT_EQ(audit("setting.mailbox_test").size(), 1u);
  EXPECT_EQ(sql_value("SELECT string_agg(details::text, ' ') FROM audit_events").find(kMailboxPassword),
            std::string::npos);
  // Again with no body: the stored values, the sealed password opened.
  auto again = test(json::object());
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(again.json["settings"].empty());
}

TEST_F(MailboxTestAction, Pop3FollowsFromTheProtocolAndStartTlsWorks) {
  json body = account();
  body["mail.port"] = dovecot_->pop3_port();
  body["mail.protocol"] = "pop3";
  body["mail.security"] = "starttls";
  auto r = test(body);
  ASSERT_EQ(r.status, 200) << r.body << "\n" << dovecot_->log();
  EXPECT_EQ(r.json["protocol"], "pop3");
  EXPECT_EQ(r.json["security"], "starttls");
  EXPECT_EQ(r.json["messages"], 0);
}

TEST_F(MailboxTestAction, AWrongPasswordOrAnUntrustedCertificateSavesNothing) {
  json body = account();
  body["mail.password"] = "wrong";
  expect_problem(test(body), 409, "mail.mailbox_auth_failed");
  expect_nothing_saved();
  body = account();
  body["mail.ca_file"] = nullptr;  // the system's bundle does not know the test CA
  auto p = expect_problem(test(body), 409, "mail.mailbox_tls_failed");
  EXPECT_NE(p["detail"].get<std::string>().find("not trusted"), std::string::npos) << p.dump();
  expect_nothing_saved();
  body = account();
  body["mail.port"] = 2525;
  body["mail.protocol"] = "auto";
  expect_problem(test(body), 400, "mail.mailbox_protocol_unknown");
  expect_problem(test({{"smtp.host", "x"}}), 422, "api.validation_failed");
  expect_nothing_saved();
}

}  // namespace
}  // namespace faxbridge::webapi::testing
