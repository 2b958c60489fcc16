// `faxbridge settings list|get|set` against a real database: values are typed as an
// operator types them, stored through the catalog (a new version, an audit event), and
// a wrong type or an unknown key is refused with a sentence naming the key and what it
// takes (exit 2), leaving the stored value alone. A secret is sealed with the tool's
// FAXBRIDGE_SECRET_KEY (set below, before main: the key is read once per process) and
// shows nowhere; the mail loop rule holds here too.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include <pqxx/pqxx>

#include "commands.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"

namespace faxbridge::cli {
namespace {

constexpr const char* kKey = "8f3c1e0a9b7d65f4c2e1a0b9d8c7f6e5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9";
const bool kKeyInEnvironment = ::setenv("FAXBRIDGE_SECRET_KEY", kKey, 1) == 0;

std::string sql_value(const std::string& dsn, const std::string& query) {
  pqxx::connection c(dsn);
  pqxx::work w(c);
  auto r = w.exec(query);
  return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].as<std::string>();
}

db::SettingsSnapshot load(const std::string& dsn) {
  db::Pool pool(db::PoolSettings{dsn, 1});
  auto snap = pool.transact([](db::Tx& tx) { return db::settings::load(tx); });
  EXPECT_TRUE(snap) << snap.error().to_string();
  return snap ? *snap : db::SettingsSnapshot{};
}

std::string get(const std::string& dsn, const std::string& key) {
  std::ostringstream out, err;
  EXPECT_EQ(settings_get(dsn, key, out, err), 0) << err.str();
  return out.str();
}

TEST(SettingsCommands, AnOperatorAllowsG711ForOutgoingFaxesWithoutSql) {
  const std::string dsn = db::testing::migrated_database("cli_settings");
  EXPECT_EQ(get(dsn, "sip.allow_g711_outgoing"), "false\n");
  const auto before = load(dsn).version;
  std::ostringstream out, err;
  ASSERT_EQ(settings_set(dsn, "sip.allow_g711_outgoing", "true", out, err), 0) << err.str();
  EXPECT_NE(out.str().find("sip.allow_g711_outgoing = true"), std::string::npos) << out.str();
  const auto after = load(dsn);
  EXPECT_TRUE(after.get_bool("sip.allow_g711_outgoing"));
  EXPECT_GT(after.version, before) << "services reload on a new version";
  EXPECT_EQ(get(dsn, "sip.allow_g711_outgoing"), "true\n");
}

TEST(SettingsCommands, EachTypeTakesWhatAnOperatorTypes) {
  const std::string dsn = db::testing::migrated_database("cli_settings_types");
  std::ostringstream out, err;
  ASSERT_EQ(settings_set(dsn, "fax.max_attempts", "5", out, err), 0) << err.str();
  ASSERT_EQ(settings_set(dsn, "company.name", "ACME \"Fax\" S.p.A.", out, err), 0) << err.str();
  ASSERT_EQ(settings_set(dsn, "company.tsid", "12345", out, err), 0) << err.str();  // digits, yet text
  ASSERT_EQ(settings_set(dsn, "incoming.attachment_format", "tif", out, err), 0) << err.str();
  ASSERT_EQ(settings_set(dsn, "company.admin_email", "fax-admin@example.com", out, err), 0) << err.str();
  const auto s = load(dsn);
  EXPECT_EQ(s.get_int("fax.max_attempts"), 5);
  EXPECT_EQ(s.get_string("company.name"), "ACME \"Fax\" S.p.A.");
  EXPECT_EQ(s.get_string("company.tsid"), "12345");
  EXPECT_EQ(s.get_string("incoming.attachment_format"), "tif");
  EXPECT_EQ(s.get_string("company.admin_email"), "fax-admin@example.com");
  EXPECT_EQ(get(dsn, "company.name"), "ACME \"Fax\" S.p.A.\n");
  EXPECT_EQ(get(dsn, "fax.max_attempts"), "5\n");

  std::ostringstream listed, lerr;
  ASSERT_EQ(settings_list(dsn, listed, lerr), 0) << lerr.str();
  const std::string l = listed.str();
  for (const auto& spec : db::setting_catalog()) EXPECT_NE(l.find(spec.key), std::string::npos) << spec.key;
  EXPECT_NE(l.find("= 5"), std::string::npos) << l;
  EXPECT_NE(l.find("(default) Allow G.711 for outgoing faxes."), std::string::npos) << l;
}

TEST(SettingsCommands, AWrongTypeOrAnUnknownKeyIsRefusedNamingTheKeyAndTheTypeExpected) {
  const std::string dsn = db::testing::migrated_database("cli_settings_bad");
  const auto before = load(dsn).version;
  struct Case {
    std::string key, value, sentence;
  };
  const std::vector<Case> cases = {
      {"sip.allow_g711_outgoing", "yes", "[setting.invalid] The setting sip.allow_g711_outgoing must be true or false"},
      {"fax.max_attempts", "three", "[setting.invalid] The setting fax.max_attempts must be an integer from 1 to 100"},
      {"fax.max_attempts", "1000", "[setting.invalid] The setting fax.max_attempts must be an integer from 1 to 100"},
      {"fax.max_attempts", "2.5", "[setting.invalid] The setting fax.max_attempts must be an integer from 1 to 100"},
      {"incoming.attachment_format", "docx", "[setting.invalid] The setting incoming.attachment_format must be one of \"pdf\" \"tif\""},
      {"company.admin_email", "nobody", "[setting.invalid] The setting company.admin_email must be a mail address"},
      {"sip.allow_g711", "true", "[setting.unknown] There is no setting named \"sip.allow_g711\""},
  };
  for (const auto& c : cases) {
    std::ostringstream out, err;
    EXPECT_EQ(settings_set(dsn, c.key, c.value, out, err), 2) << c.key << " " << c.value;
    EXPECT_NE(err.str().find(c.sentence), std::string::npos) << err.str();
  }
  std::ostringstream out, err;
  EXPECT_EQ(settings_get(dsn, "no.such_key", out, err), 2);
  EXPECT_NE(err.str().find("[setting.unknown] There is no setting named \"no.such_key\""), std::string::npos) << err.str();
  // Nothing was written.
  const auto s = load(dsn);
  EXPECT_EQ(s.version, before);
  EXPECT_FALSE(s.get_bool("sip.allow_g711_outgoing"));
  EXPECT_EQ(s.get_int("fax.max_attempts"), 3);
}

TEST(SettingsCommands, ASecretIsStoredSealedAndShownNowhere) {
  ASSERT_TRUE(kKeyInEnvironment);
  const std::string dsn = db::testing::migrated_database("cli_settings_secret");
  std::ostringstream out, err;
  ASSERT_EQ(settings_set(dsn, "smtp.password", "s3cret!", out, err), 0) << err.str();
  EXPECT_EQ(out.str().find("s3cret"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("smtp.password = (set)"), std::string::npos) << out.str();
  const std::string stored = sql_value(dsn, "SELECT value #>> '{}' FROM settings WHERE key = 'smtp.password'");
  EXPECT_EQ(stored.rfind("sealed:v1:", 0), 0u) << stored;
  EXPECT_EQ(stored.find("s3cret"), std::string::npos);
  const std::string audit = sql_value(dsn, "SELECT string_agg(details::text, ' ') FROM audit_events");
  EXPECT_EQ(audit.find("s3cret"), std::string::npos) << audit;
  EXPECT_EQ(audit.find("sealed:"), std::string::npos) << audit;
  EXPECT_EQ(get(dsn, "smtp.password"), "(set)\n");
  auto plain = db::settings::reveal(load(dsn), "smtp.password");
  ASSERT_TRUE(plain) << plain.error().to_string();
  EXPECT_EQ(*plain, "s3cret!");
}

TEST(SettingsCommands, TheFromAddressMayNotBeTheEmailToFaxMailbox) {
  const std::string dsn = db::testing::migrated_database("cli_settings_loop");
  std::ostringstream out, err;
  ASSERT_EQ(settings_set(dsn, "mail.address", "fax@example.com", out, err), 0) << err.str();
  EXPECT_EQ(settings_set(dsn, "smtp.from_address", "Fax@Example.com", out, err), 2);
  EXPECT_NE(err.str().find("[setting.mail_loop] smtp.from_address must not be the email-to-fax mailbox"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(load(dsn).get_string("smtp.from_address"), "");
}

}  // namespace
}  // namespace faxbridge::cli
