// smtp_config (libs/notifier): the smtp.* settings of a snapshot as libs/mail's
// SmtpSettings and From address; nothing configured is notification.not_configured; the
// password is opened from its sealed form only when AUTH is on, with the errors of a
// missing or wrong key. Pure logic: the snapshot is built in memory.
#include "faxbridge/notifier/smtp_config.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace faxbridge::notifier {
namespace {

using nlohmann::json;

// Every key at its catalog default, then the given ones (JSON values).
db::SettingsSnapshot snapshot(const json& values) {
  db::SettingsSnapshot s;
  for (const auto& spec : db::setting_catalog()) s.values[spec.key] = spec.default_json;
  for (const auto& [k, v] : values.items()) s.values[k] = v.dump();
  return s;
}

const json kAccount = {{"smtp.host", "smtp.example.com"},
                       {"smtp.from_address", "fax@example.com"}};

TEST(SmtpConfig, TheDefaultsAreStartTlsOn587WithVerificationAndNoAuth) {
  auto c = smtp_config(snapshot(kAccount));
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->smtp.host, "smtp.example.com");
  EXPECT_EQ(c->smtp.port, 587);
  EXPECT_EQ(c->smtp.tls, mail::TlsMode::kStartTls);
  EXPECT_TRUE(c->smtp.verify_certificate);
  EXPECT_EQ(c->smtp.ca_file, "");
  EXPECT_EQ(c->smtp.pinned_sha256, "");
  EXPECT_EQ(c->smtp.timeout, std::chrono::seconds(30));
  EXPECT_EQ(c->smtp.username, "");
  EXPECT_EQ(c->smtp.password, "");
  EXPECT_EQ(c->from.email, "fax@example.com");
  EXPECT_EQ(c->from.name, "Faxbridge");
}

TEST(SmtpConfig, EverySettingIsMapped) {
  const auto key = secret_box::Key::generate();
  json v = kAccount;
  v.update({{"smtp.port", 465},
            {"smtp.security", "tls"},
            {"smtp.verify_certificate", false},
            {"smtp.ca_file", "/etc/faxbridge/ca.pem"},
            {"smtp.pinned_sha256", "AB:cd"},
            {"smtp.timeout_s", 7},
            {"smtp.auth_enabled", true},
            {"smtp.username", "fax-out"},
            {"smtp.password", secret_box::seal(key, "s3cret!")},
            {"smtp.from_name", "ACME Fax"}});
  auto c = smtp_config(snapshot(v), key);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->smtp.port, 465);
  EXPECT_EQ(c->smtp.tls, mail::TlsMode::kImplicit);
  EXPECT_FALSE(c->smtp.verify_certificate);
  EXPECT_EQ(c->smtp.ca_file, "/etc/faxbridge/ca.pem");
  EXPECT_EQ(c->smtp.pinned_sha256, "AB:cd");
  EXPECT_EQ(c->smtp.timeout, std::chrono::seconds(7));
  EXPECT_EQ(c->smtp.username, "fax-out");
  EXPECT_EQ(c->smtp.password, "s3cret!");
  EXPECT_EQ(c->from.name, "ACME Fax");
  v["smtp.security"] = "none";
  EXPECT_EQ(smtp_config(snapshot(v), key)->smtp.tls, mail::TlsMode::kNone);
}

TEST(SmtpConfig, WithoutAHostOrAFromAddressNothingIsConfigured) {
  for (const char* missing : {"smtp.host", "smtp.from_address"}) {
    json v = kAccount;
    v[missing] = "";
    auto c = smtp_config(snapshot(v));
    ASSERT_FALSE(c) << missing;
    EXPECT_EQ(c.error().code, Code::k_notification_not_configured);
    EXPECT_NE(c.error().message.find(missing), std::string::npos) << c.error().message;
  }
  json v = kAccount;
  v["smtp.from_address"] = "fax@@example.com";
  auto c = smtp_config(snapshot(v));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::k_mail_invalid_address);
}

TEST(SmtpConfig, ThePasswordIsOpenedOnlyWhenAuthIsOnAndNeedsTheKeyThatSealedIt) {
  const auto key = secret_box::Key::generate();
  json v = kAccount;
  v.update({{"smtp.username", "fax-out"}, {"smtp.password", secret_box::seal(key, "s3cret!")}});
  // AUTH off: neither the user nor the password is used, so no key is needed.
  auto off = smtp_config(snapshot(v), secret_box::Key::parse(""));
  ASSERT_TRUE(off) << off.error().to_string();
  EXPECT_EQ(off->smtp.username, "");
  EXPECT_EQ(off->smtp.password, "");

  v["smtp.auth_enabled"] = true;
  auto missing = smtp_config(snapshot(v), secret_box::Key::parse(""));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::k_secret_key_missing);
  EXPECT_NE(missing.error().message.find("smtp.password"), std::string::npos) << missing.error().message;
  auto wrong = smtp_config(snapshot(v), secret_box::Key::generate());
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Code::k_secret_unreadable);
  EXPECT_EQ(wrong.error().message.find("s3cret"), std::string::npos);
  // A password never set is "" and needs no key either.
  v["smtp.password"] = "";
  auto unset = smtp_config(snapshot(v), secret_box::Key::parse(""));
  ASSERT_TRUE(unset) << unset.error().to_string();
  EXPECT_EQ(unset->smtp.username, "fax-out");
  EXPECT_EQ(unset->smtp.password, "");
}

}  // namespace
}  // namespace faxbridge::notifier
