// mail_ingest_config: the mail.* settings as the mailbox session's and the parser's
// settings; disabled is no error; enabled but unusable is refused naming the setting;
// the password is opened from its sealed form. The snapshot is built in memory.
#include "faxbridge/mailingest/mailbox_config.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace faxbridge::mailingest {
namespace {

using nlohmann::json;

db::SettingsSnapshot snapshot(const json& values) {
  db::SettingsSnapshot s;
  for (const auto& spec : db::setting_catalog()) s.values[spec.key] = spec.default_json;
  for (const auto& [k, v] : values.items()) s.values[k] = v.dump();
  return s;
}

TEST(MailIngestConfig, DisabledByDefaultWithTheGuidesPollInterval) {
  auto c = mail_ingest_config(snapshot(json::object()), secret_box::Key::generate());
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_FALSE(c->enabled);
  EXPECT_EQ(c->poll_interval, std::chrono::seconds(20));
  EXPECT_FALSE(c->mailbox.protocol.has_value());  // from the port
  EXPECT_FALSE(c->mailbox.tls.has_value());
  EXPECT_EQ(c->mailbox.folder, "INBOX");
  EXPECT_EQ(c->mailbox.processed_folder, "processed");
  EXPECT_EQ(c->mailbox.failed_folder, "failed");
  EXPECT_TRUE(c->mailbox.verify_certificate);
  EXPECT_EQ(c->admin_email, "");
  EXPECT_EQ(c->alert_interval, std::chrono::minutes(60));
}

TEST(MailIngestConfig, EverySettingIsMappedAndThePasswordOpened) {
  const auto key = secret_box::Key::generate();
  auto c = mail_ingest_config(
      snapshot({{"mail.enabled", true},
                {"mail.host", "imap.corp.example"},
                {"mail.port", 10143},
                {"mail.protocol", "imap"},
                {"mail.security", "starttls"},
                {"mail.verify_certificate", false},
                {"mail.ca_file", "/etc/faxbridge/ca.pem"},
                {"mail.username", "fax"},
                {"mail.password", secret_box::seal(key, "pw!")},
                {"mail.processed_folder", ""},
                {"mail.fax_domains", "Fax.Corp.Example, fax2.corp.example"},
                {"mail.max_recipients", 7},
                {"mail.require_authentication", true},
                {"mail.trusted_authserv_id", "mx.corp.example"},
                {"routing.country_code", "39"},
                {"smtp.from_address", "faxbridge@corp.example"},
                {"company.admin_email", "it@corp.example"},
                {"notifications.admin_alert_interval_min", 15}}),
      key);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_TRUE(c->enabled);
  EXPECT_EQ(c->mailbox.host, "imap.corp.example");
  EXPECT_EQ(c->mailbox.port, 10143);
  EXPECT_EQ(c->mailbox.protocol, mail::MailboxProtocol::kImap);
  EXPECT_EQ(c->mailbox.tls, mail::TlsMode::kStartTls);
  EXPECT_FALSE(c->mailbox.verify_certificate);
  EXPECT_EQ(c->mailbox.ca_file, "/etc/faxbridge/ca.pem");
  EXPECT_EQ(c->mailbox.password, "pw!");
  EXPECT_EQ(c->mailbox.processed_folder, "");
  EXPECT_EQ(c->ingest.fax_domains, (std::vector<std::string>{"fax.corp.example", "fax2.corp.example"}));
  EXPECT_EQ(c->ingest.max_recipients, 7u);
  EXPECT_TRUE(c->ingest.require_authentication);
  EXPECT_EQ(c->ingest.trusted_authserv_id, "mx.corp.example");
  EXPECT_EQ(c->ingest.dial_plan.country_code, "39");
  EXPECT_EQ(c->ingest.own_addresses, (std::vector<std::string>{"faxbridge@corp.example"}));
  EXPECT_EQ(c->mailbox_name, "fax@imap.corp.example:10143/INBOX");
  EXPECT_EQ(c->admin_email, "it@corp.example");
  EXPECT_EQ(c->alert_interval, std::chrono::minutes(15));
}

TEST(MailIngestConfig, EnabledButUnusableIsRefusedNamingTheSetting) {
  const auto key = secret_box::Key::generate();
  auto no_host = mail_ingest_config(snapshot({{"mail.enabled", true}, {"mail.fax_domains", "fax.example"}}), key);
  ASSERT_FALSE(no_host);
  EXPECT_NE(no_host.error().message.find("mail.host"), std::string::npos);
  auto no_domain = mail_ingest_config(snapshot({{"mail.enabled", true}, {"mail.host", "imap.example"}}), key);
  ASSERT_FALSE(no_domain);
  EXPECT_NE(no_domain.error().message.find("mail.fax_domains"), std::string::npos);
  auto port = mail_ingest_config(
      snapshot({{"mail.enabled", true}, {"mail.host", "imap.example"}, {"mail.port", 2525},
                {"mail.fax_domains", "fax.example"}}),
      key);
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().code, Code::k_mail_mailbox_protocol_unknown);
  auto trust = mail_ingest_config(snapshot({{"mail.enabled", true}, {"mail.host", "imap.example"},
                                            {"mail.fax_domains", "fax.example"}, {"mail.require_authentication", true}}),
                                  key);
  ASSERT_FALSE(trust);
  EXPECT_NE(trust.error().message.find("mail.trusted_authserv_id"), std::string::npos);
  // Outgoing faxes off switches email-to-fax off too.
  auto off = mail_ingest_config(snapshot({{"mail.enabled", true}, {"outgoing.enabled", false}}), key);
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->enabled);
}

TEST(MailIngestConfig, APasswordSealedUnderAnotherKeyIsAnError) {
  auto c = mail_ingest_config(snapshot({{"mail.enabled", true},
                                        {"mail.host", "imap.example"},
                                        {"mail.fax_domains", "fax.example"},
                                        {"mail.password", secret_box::seal(secret_box::Key::generate(), "x")}}),
                              secret_box::Key::generate());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::k_secret_unreadable) << c.error().to_string();
}

}  // namespace
}  // namespace faxbridge::mailingest
