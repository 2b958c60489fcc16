// The settings catalog without a database (libs/db/src/settings.cpp): the keys of the
// SMTP account and the notifier with their types, defaults and bounds, the formats beyond
// a type (an absolute path, a SHA-256 fingerprint), sealed secrets read as stored and
// opened by settings::reveal, and the mail loop rule.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "faxbridge/db/settings.hpp"

namespace faxbridge::db {
namespace {

bool accepted(const std::string& key, const nlohmann::json& v) { return validate_setting(key, v.dump()).has_value(); }

TEST(SettingsCatalog, TheNotifierKeysHaveTheirTypesDefaultsAndBounds) {
  struct Expect {
    std::string key;
    SettingType type;
    std::string default_json;
    std::int64_t min, max;
  };
  for (const auto& e : std::vector<Expect>{
           {"smtp.from_name", SettingType::kString, "\"Faxbridge\"", 0, 200},
           {"smtp.verify_certificate", SettingType::kBool, "true", 0, 0},
           {"smtp.ca_file", SettingType::kString, "\"\"", 0, 1024},
           {"smtp.pinned_sha256", SettingType::kString, "\"\"", 0, 95},
           {"smtp.timeout_s", SettingType::kInt, "30", 5, 300},
           {"notifications.retry_hours", SettingType::kInt, "48", 1, 720},
           {"notifications.admin_alert_interval_min", SettingType::kInt, "60", 1, 1440},
           {"webhooks.allow_private_addresses", SettingType::kBool, "false", 0, 0},
           {"webhooks.ca_file", SettingType::kString, "\"\"", 0, 1024},
           {"incoming.attach_thumbnail", SettingType::kBool, "true", 0, 0},
           {"webhooks.link_lifetime_s", SettingType::kInt, "3600", 60, 604800},
           {"web.public_base_url", SettingType::kString, "\"http://127.0.0.1:8080\"", 0, 500},
       }) {
    const SettingSpec* spec = find_setting(e.key);
    ASSERT_NE(spec, nullptr) << e.key;
    EXPECT_EQ(spec->type, e.type) << e.key;
    EXPECT_EQ(spec->default_json, e.default_json) << e.key;
    EXPECT_EQ(spec->min, e.min) << e.key;
    EXPECT_EQ(spec->max, e.max) << e.key;
    EXPECT_FALSE(spec->secret) << e.key;
    EXPECT_FALSE(spec->description.empty()) << e.key;
    EXPECT_TRUE(validate_setting(e.key, e.default_json)) << e.key << ": the default is valid";
  }
  EXPECT_TRUE(accepted("smtp.timeout_s", 5));
  EXPECT_TRUE(accepted("smtp.timeout_s", 300));
  EXPECT_FALSE(accepted("smtp.timeout_s", 4));
  EXPECT_FALSE(accepted("notifications.retry_hours", 721));
  EXPECT_FALSE(accepted("notifications.admin_alert_interval_min", 0));
  // The secrets are exactly the two passwords.
  std::vector<std::string> secrets;
  for (const auto& s : setting_catalog())
    if (s.secret) secrets.push_back(s.key);
  EXPECT_EQ(secrets, (std::vector<std::string>{"mail.password", "smtp.password"}));
}

TEST(SettingsCatalog, ACaFileIsAnAbsolutePathAndAPinIs64HexDigits) {
  EXPECT_TRUE(accepted("smtp.ca_file", ""));
  EXPECT_TRUE(accepted("smtp.ca_file", "/etc/faxbridge/smtp-ca.pem"));
  EXPECT_FALSE(accepted("smtp.ca_file", "smtp-ca.pem"));
  EXPECT_FALSE(accepted("smtp.ca_file", "./smtp-ca.pem"));
  EXPECT_TRUE(accepted("webhooks.ca_file", "/etc/faxbridge/webhook-ca.pem"));
  EXPECT_FALSE(accepted("webhooks.ca_file", "webhook-ca.pem"));
  const std::string hex(64, 'a');
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += (i ? ":" : "") + std::string("7F");
  EXPECT_TRUE(accepted("smtp.pinned_sha256", ""));
  EXPECT_TRUE(accepted("smtp.pinned_sha256", hex));
  EXPECT_TRUE(accepted("smtp.pinned_sha256", colons));
  EXPECT_FALSE(accepted("smtp.pinned_sha256", std::string(63, 'a')));
  EXPECT_FALSE(accepted("smtp.pinned_sha256", std::string(66, 'a')));
  EXPECT_FALSE(accepted("smtp.pinned_sha256", std::string(64, 'g')));
  auto bad = validate_setting("smtp.pinned_sha256", "\"sha256:abc\"");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::k_setting_invalid);
  EXPECT_NE(bad.error().message.find("64 hex digits, colons allowed"), std::string::npos) << bad.error().message;
}

TEST(SettingsCatalog, ThePublicBaseUrlIsAnHttpAddressLinksCanBeAppendedTo) {
  for (const char* ok : {"", "http://127.0.0.1:8080", "https://fax.example.com", "https://fax.example.com/",
                         "https://proxy.example.com:8443/faxbridge", "http://[::1]:8080"}) {
    EXPECT_TRUE(accepted("web.public_base_url", ok)) << ok;
  }
  for (const char* bad : {"fax.example.com", "ftp://fax.example.com", "https://", "https://:8080/",
                          "https://fax.example.com/?a=1", "https://fax.example.com/#top", "https://u:p@fax.example.com",
                          "https://fax example.com", "javascript:alert(1)"}) {
    EXPECT_FALSE(accepted("web.public_base_url", bad)) << bad;
  }
  auto refused = validate_setting("web.public_base_url", "\"fax.example.com\"");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("https://fax.example.com"), std::string::npos) << refused.error().message;
  EXPECT_FALSE(accepted("webhooks.link_lifetime_s", 59));
  EXPECT_TRUE(accepted("webhooks.link_lifetime_s", 604800));
}

TEST(SettingsCatalog, SealedSecretsAreReadAsStoredAndRevealedWithTheirKey) {
  const auto key = secret_box::Key::generate();
  // Longer than the plain text's 1024 characters once sealed: still read as stored.
  const std::string sealed = secret_box::seal(key, std::string(1024, 'p'));
  const std::string sealed_json = nlohmann::json(sealed).dump();
  ASSERT_GT(sealed.size(), 1024u);
  EXPECT_FALSE(validate_setting("smtp.password", sealed_json)) << "too long as a plain text";
  auto read = read_stored_setting("smtp.password", sealed_json);
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(*read, sealed_json);
  EXPECT_FALSE(read_stored_setting("smtp.host", nlohmann::json("sealed:v1:" + std::string(300, 'A')).dump()))
      << "only secrets take the sealed form";

  SettingsSnapshot snap;
  for (const auto& s : setting_catalog()) snap.values[s.key] = s.default_json;
  EXPECT_EQ(*settings::reveal(snap, "smtp.password", secret_box::Key::parse("")), "") << "never set: no key needed";
  snap.values["smtp.password"] = sealed_json;
  EXPECT_EQ(*settings::reveal(snap, "smtp.password", key), std::string(1024, 'p'));
  auto missing = settings::reveal(snap, "smtp.password", secret_box::Key::parse(""));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::k_secret_key_missing);
  auto invalid = settings::reveal(snap, "smtp.password", secret_box::Key::parse("not a key"));
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, Code::k_secret_key_invalid);
  auto wrong = settings::reveal(snap, "smtp.password", secret_box::Key::generate());
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Code::k_secret_unreadable);
  EXPECT_NE(wrong.error().message.find("smtp.password"), std::string::npos);
  // A value stored in clear before sealing existed is handed on as it is.
  snap.values["mail.password"] = "\"old-plain\"";
  EXPECT_EQ(*settings::reveal(snap, "mail.password", secret_box::Key::parse("")), "old-plain");
  EXPECT_FALSE(settings::reveal(snap, "no.such.key", key));
}

TEST(SettingsCatalog, TheFromAddressIsNotTheEmailToFaxMailbox) {
  SettingsSnapshot snap;
  for (const auto& s : setting_catalog()) snap.values[s.key] = s.default_json;
  EXPECT_TRUE(settings::check_rules(snap)) << "both empty";
  snap.values["mail.address"] = "\"fax@example.com\"";
  EXPECT_TRUE(settings::check_rules(snap)) << "no From address yet";
  snap.values["smtp.from_address"] = "\"Fax@Example.COM\"";
  auto loop = settings::check_rules(snap);
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.error().code, Code::k_setting_mail_loop);
  snap.values["smtp.from_address"] = "\"faxbridge@example.com\"";
  EXPECT_TRUE(settings::check_rules(snap));
}

}  // namespace
}  // namespace faxbridge::db
