// faxbridge-mail-ingest as a real process: the mailbox settings written to the database
// (the password sealed under FAXBRIDGE_SECRET_KEY), a mail delivered into a real
// Dovecot becomes a job and moves to the processed folder; a settings change (another
// fax domain) takes effect without a restart; SIGTERM stops it cleanly.
#include <csignal>
#include <map>

#include <gtest/gtest.h>

#include "faxbridge/core/secret_box.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/testing/mailbox_server.hpp"
#include "faxbridge/testing/process.hpp"
#include "faxbridge/testing/sql.hpp"

namespace faxbridge {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::eventually;

constexpr const char* kKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

std::string mail(const std::string& to, const std::string& id) {
  return "From: anna@corp.example\r\nTo: " + to + "\r\nSubject: s\r\nMessage-ID: <" + id +
         ">\r\n\r\nPlease fax this note.\r\n";
}

TEST(MailIngestService, PollsTheMailboxReloadsItsSettingsAndStopsOnSigterm) {
  const auto dir = std::filesystem::temp_directory_path() / ("mail-ingest-svc-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  testing::DovecotMailbox dovecot(dir, {{"fax", "mailbox-pw"}});
  ASSERT_TRUE(dovecot.ready()) << dovecot.log();
  const std::string dsn = db::testing::migrated_database("mailingest_svc");
  db::Pool pool(db::PoolSettings{dsn, 2});
  auto key = secret_box::Key::parse(kKey);
  ASSERT_TRUE(key);
  auto written = pool.transact([&](db::Tx& tx) -> Result<bool> {
    db::User anna;
    anna.username = "anna";
    anna.email = "anna@corp.example";
    if (auto u = db::users::create(tx, anna); !u) return u.error();
    const std::map<std::string, std::string> values = {
        {"mail.enabled", "true"},
        {"mail.host", "\"127.0.0.1\""},
        {"mail.port", std::to_string(dovecot.imaps_port())},
        {"mail.protocol", "\"imap\""},
        {"mail.security", "\"tls\""},
        {"mail.pinned_sha256", "\"" + dovecot.certificate().sha256 + "\""},
        {"mail.username", "\"fax\""},
        {"mail.password", "\"mailbox-pw\""},
        {"mail.fax_domains", "\"fax.example.com\""},
        {"mail.poll_interval_s", "5"}};
    for (const auto& [k, v] : values)
      if (auto r = db::settings::set(tx, k, v, std::nullopt, key); !r) return r.error();
    return true;
  });
  ASSERT_TRUE(written) << written.error().to_string();

  dovecot.deliver("fax", mail("403@fax.example.com", "one@corp.example"));
  const testing::Ports ports;
  std::map<std::string, std::string> env{{"FAXBRIDGE_DB_DSN", dsn},
                                         {"FAXBRIDGE_INSTANCE_ID", "mail-ingest-test"},
                                         {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", ports.publish_endpoint()},
                                         {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", ports.subscribe_endpoint()},
                                         {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
                                         {"FAXBRIDGE_HTTP_PORT", "0"},
                                         {"FAXBRIDGE_SECRET_KEY", kKey},
                                         {"FAXBRIDGE_LOG_LEVEL", "info"}};
  const std::string out = (dir / "service.out").string();
  testing::Child service(FAXBRIDGE_MAIL_INGEST_BIN, {}, env, out);
  auto jobs = [&] { return testing::committed_sql(dsn, "SELECT count(*) FROM fax_jobs")[0][0].as<int>(); };
  ASSERT_TRUE(eventually([&] { return jobs() == 1; }, 30s)) << testing::mail_detail::read_file(out) << dovecot.log();
  EXPECT_EQ(testing::committed_sql(dsn, "SELECT source FROM fax_jobs")[0][0].as<std::string>(), "email");
  EXPECT_TRUE(eventually([&] { return dovecot.messages("fax", "processed").size() == 1; }, 10s));

  // Another fax domain, no restart: the next poll reads it.
  ASSERT_TRUE(pool.transact([&](db::Tx& tx) {
    return db::settings::set(tx, "mail.fax_domains", "\"fax.example.com, fax2.example.com\"", std::nullopt, key);
  }));
  dovecot.deliver("fax", mail("404@fax2.example.com", "two@corp.example"));
  ASSERT_TRUE(eventually([&] { return jobs() == 2; }, 30s)) << testing::mail_detail::read_file(out);
  EXPECT_EQ(testing::committed_sql(dsn, "SELECT recipient_canonical FROM fax_jobs ORDER BY id DESC LIMIT 1")[0][0]
                .as<std::string>(),
            "404");

  service.signal(SIGTERM);
  auto status = service.wait(10s);
  ASSERT_TRUE(status.has_value()) << "still running 10 s after SIGTERM";
  EXPECT_EQ(*status, 0) << testing::mail_detail::read_file(out);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace faxbridge
