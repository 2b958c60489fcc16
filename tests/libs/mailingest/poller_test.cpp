// Poller against a real Dovecot (mailbox_server.hpp, IMAP over implicit TLS and POP3) and
// a real PostgreSQL (a migrated throw-away database): a mail to two numbers becomes two
// email jobs sharing their documents; the same mail delivered twice makes no second job;
// an unknown sender, a sender whose sending is disabled and a mail with a bad number get
// one ingest_refused reply each and go to the failed folder; an auto-reply is neither
// faxed nor answered; POP3 deletes what it handled; every job is announced; a mailbox
// that cannot be read is one administrator alert per cause per interval.
#include "faxbridge/mailingest/poller.hpp"

#include <gtest/gtest.h>

#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/testing/mailbox_server.hpp"
#include "faxbridge/testing/sql.hpp"

namespace faxbridge::mailingest {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::DovecotMailbox;

std::string mail(const std::string& from, const std::string& to, const std::string& id,
                 const std::string& extra_headers = "") {
  return "From: " + from + "\r\nTo: " + to + "\r\nSubject: Offer 7\r\nMessage-ID: <" + id + ">\r\n" + extra_headers +
         "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\nPlease sign.\r\n--b\r\n"
         "Content-Type: application/pdf; name=\"offer.pdf\"\r\nContent-Disposition: attachment; filename=\"offer.pdf\"\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJeLjz9MK\r\n--b--\r\n";
}

class PollerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("poller-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    server_ = new DovecotMailbox(dir_, {{"fax-imap", "pw"}, {"fax-pop", "pw"}});
  }
  static void TearDownTestSuite() {
    delete server_;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void SetUp() override {
    ASSERT_TRUE(server_->ready()) << server_->log();
    dsn_ = db::testing::migrated_database("poller");
    pool_ = std::make_unique<db::Pool>(db::PoolSettings{dsn_, 2});
    anna_ = user("anna", "Anna@Corp.Example", true);
    user("carl", "carl@corp.example", false);
  }
  std::int64_t user(const std::string& name, const std::string& email, bool send) {
    db::User u;
    u.username = name;
    u.email = email;
    u.enable_send = send;
    auto r = pool_->transact([&](db::Tx& tx) { return db::users::create(tx, u); });
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? r->id : 0;
  }
  MailIngestConfig config(const std::string& user, bool pop3) const {
    MailIngestConfig c;
    c.enabled = true;
    c.mailbox.host = "127.0.0.1";
    c.mailbox.port = pop3 ? server_->pop3s_port() : server_->imaps_port();
    c.mailbox.protocol = pop3 ? mail::MailboxProtocol::kPop3 : mail::MailboxProtocol::kImap;
    c.mailbox.tls = mail::TlsMode::kImplicit;
    c.mailbox.pinned_sha256 = server_->certificate().sha256;
    c.mailbox.username = user;
    c.mailbox.password = "pw";
    c.mailbox.timeout = 10s;
    c.mailbox_name = user + "@test";
    c.ingest.fax_domains = {"fax.example.com"};
    c.ingest.own_addresses = {"faxbridge@example.com"};
    return c;
  }
  pqxx::result sql(const std::string& q) { return faxbridge::testing::committed_sql(dsn_, q); }

  static inline std::filesystem::path dir_;
  static inline DovecotMailbox* server_ = nullptr;
  std::string dsn_;
  std::unique_ptr<db::Pool> pool_;
  std::int64_t anna_ = 0;
};

TEST_F(PollerTest, ImapMailsBecomeJobsOrOneReplyEachAndAreMovedAfterTheCommit) {
  const std::string good = mail("Anna <anna@corp.example>", "403@fax.example.com, \"Studio\" <+41445551234@fax.example.com>",
                                "offer7@corp.example");
  server_->deliver("fax-imap", good);
  server_->deliver("fax-imap", "Received: from mx2\r\n" + good);  // the same mail again
  server_->deliver("fax-imap", mail("bob@elsewhere.example", "403@fax.example.com", "bob1@elsewhere.example"));
  server_->deliver("fax-imap", mail("carl@corp.example", "403@fax.example.com", "carl1@corp.example"));
  server_->deliver("fax-imap", mail("anna@corp.example", "call-me@fax.example.com", "bad1@corp.example"));
  server_->deliver("fax-imap",
                   mail("anna@corp.example", "403@fax.example.com", "ooo1@corp.example", "Auto-Submitted: auto-replied\r\n"));
  std::vector<std::int64_t> announced;
  metrics::Registry registry;
  Poller poller(*pool_, [&](std::int64_t id) { announced.push_back(id); }, &registry);
  auto r = poller.poll(config("fax-imap", false));
  ASSERT_TRUE(r) << r.error().to_string() << server_->log();
  EXPECT_EQ(r->seen, 6);
  EXPECT_EQ(r->faxed, 1);
  EXPECT_EQ(r->jobs, 2);
  EXPECT_EQ(r->duplicates, 1);
  EXPECT_EQ(r->refused, 3);
  EXPECT_EQ(r->automatic, 1);
  EXPECT_EQ(r->failed, 0);
  const std::string m = registry.render();
  EXPECT_NE(m.find("faxbridge_mail_ingest_messages_total{outcome=\"faxed\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("faxbridge_mail_ingest_messages_total{outcome=\"refused\"} 3"), std::string::npos) << m;
  EXPECT_NE(m.find("faxbridge_mail_ingest_messages_total{outcome=\"duplicate\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("faxbridge_mail_ingest_jobs_total 2"), std::string::npos) << m;
  EXPECT_NE(m.find("faxbridge_mail_ingest_refusals_total{code=\"auth.send_not_enabled\"} 2"), std::string::npos) << m;
  EXPECT_NE(m.find("faxbridge_mail_ingest_refusals_total{code=\"ingest.no_valid_number\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("faxbridge_mail_ingest_poll_seconds_count 1"), std::string::npos) << m;

  auto jobs = sql("SELECT id, source, sender_user_id, recipient_canonical, recipient_name, subject, note, state, "
                  "(SELECT string_agg(document_id::text, ',' ORDER BY position) FROM fax_job_documents d WHERE d.job_id = j.id) "
                  "AS document_ids FROM fax_jobs j ORDER BY id");
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0]["source"].as<std::string>(), "email");
  EXPECT_EQ(jobs[0]["sender_user_id"].as<std::int64_t>(), anna_);
  EXPECT_EQ(jobs[0]["recipient_canonical"].as<std::string>(), "403");
  EXPECT_EQ(jobs[1]["recipient_canonical"].as<std::string>(), "+41445551234");
  EXPECT_EQ(jobs[1]["recipient_name"].as<std::string>(), "Studio");
  EXPECT_EQ(jobs[0]["subject"].as<std::string>(), "Offer 7");
  EXPECT_EQ(jobs[0]["note"].as<std::string>(), "Please sign.\n");
  EXPECT_EQ(jobs[0]["state"].as<std::string>(), "submitted");
  EXPECT_EQ(jobs[0]["document_ids"].as<std::string>(), jobs[1]["document_ids"].as<std::string>());  // shared
  EXPECT_EQ(announced, (std::vector<std::int64_t>{jobs[0]["id"].as<std::int64_t>(), jobs[1]["id"].as<std::int64_t>()}));
  auto doc = sql("SELECT filename, media_type, convert_from(bytes, 'LATIN1') AS b FROM documents WHERE id = " +
                 jobs[0]["document_ids"].as<std::string>());
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["filename"].as<std::string>(), "offer.pdf");
  EXPECT_EQ(doc[0]["b"].as<std::string>().rfind("%PDF-1.4", 0), 0u);

  auto replies = sql("SELECT recipient, payload->'error'->>'code' AS code FROM notifications "
                     "WHERE kind = 'ingest_refused' ORDER BY recipient");
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0]["recipient"].as<std::string>(), "anna@corp.example");
  EXPECT_EQ(replies[0]["code"].as<std::string>(), "ingest.no_valid_number");
  EXPECT_EQ(replies[1]["recipient"].as<std::string>(), "bob@elsewhere.example");
  EXPECT_EQ(replies[1]["code"].as<std::string>(), "auth.send_not_enabled");
  EXPECT_EQ(replies[2]["recipient"].as<std::string>(), "carl@corp.example");
  EXPECT_EQ(replies[2]["code"].as<std::string>(), "auth.send_not_enabled");

  auto ledger = sql("SELECT message_id, outcome FROM ingested_messages ORDER BY message_id");
  ASSERT_EQ(ledger.size(), 5u);  // the twin found the first one's row
  EXPECT_TRUE(server_->messages("fax-imap").empty());
  EXPECT_EQ(server_->messages("fax-imap", "processed").size(), 3u);  // good, twin, auto-reply
  EXPECT_EQ(server_->messages("fax-imap", "failed").size(), 3u);

  // A second poll finds nothing to do.
  auto again = poller.poll(config("fax-imap", false));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->seen, 0);
  EXPECT_EQ(sql("SELECT count(*) FROM fax_jobs")[0][0].as<int>(), 2);
}

// [cover:<name>] in the subject picks a cover page that exists (plain or in the sender's
// language) and is refused with a reply, like the API's cover_page.not_found, when none
// has that name (the converter would put the default cover in its place).
TEST_F(PollerTest, ACoverTagNamingACoverPageUsesItAndOneNamingNoneIsRefusedWithAReply) {
  sql("INSERT INTO cover_pages (name, svg) VALUES ('quarterly', '<svg/>')");
  const auto with_subject = [](std::string m, const std::string& subject) {
    return m.replace(m.find("Subject: Offer 7"), 16, "Subject: " + subject);
  };
  server_->deliver("fax-imap", with_subject(mail("anna@corp.example", "403@fax.example.com", "c1@corp.example"),
                                            "[cover:quarterly] Offer 8"));
  server_->deliver("fax-imap", with_subject(mail("anna@corp.example", "404@fax.example.com", "c2@corp.example"),
                                            "[cover:nosuch] Offer 9"));
  Poller poller(*pool_, [](std::int64_t) {});
  auto r = poller.poll(config("fax-imap", false));
  ASSERT_TRUE(r) << r.error().to_string() << server_->log();
  EXPECT_EQ(r->faxed, 1);
  EXPECT_EQ(r->refused, 1);
  auto jobs = sql("SELECT recipient_canonical, subject, cover_page_name FROM fax_jobs");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["recipient_canonical"].as<std::string>(), "403");
  EXPECT_EQ(jobs[0]["subject"].as<std::string>(), "Offer 8");
  EXPECT_EQ(jobs[0]["cover_page_name"].as<std::string>(), "quarterly");
  auto replies = sql("SELECT recipient, payload->'error'->>'code' AS code, payload->'error'->>'message' AS message "
                     "FROM notifications WHERE kind = 'ingest_refused'");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0]["recipient"].as<std::string>(), "anna@corp.example");
  EXPECT_EQ(replies[0]["code"].as<std::string>(), "cover_page.not_found");
  EXPECT_NE(replies[0]["message"].as<std::string>().find("\"nosuch\""), std::string::npos)
      << replies[0]["message"].as<std::string>();
  EXPECT_EQ(server_->messages("fax-imap", "failed").size(), 1u);
}

TEST_F(PollerTest, Pop3DeletesWhatItHandledAndAMailSeenAgainMakesNoSecondJob) {
  const std::string good = mail("anna@corp.example", "403@fax.example.com", "pop1@corp.example");
  server_->deliver("fax-pop", good);
  Poller poller(*pool_, [](std::int64_t) {});
  auto r = poller.poll(config("fax-pop", true));
  ASSERT_TRUE(r) << r.error().to_string() << server_->log();
  EXPECT_EQ(r->faxed, 1);
  EXPECT_TRUE(server_->messages("fax-pop").empty());
  // As if the delete had been lost (a crash before QUIT): the mail is there again.
  server_->deliver("fax-pop", good);
  auto again = poller.poll(config("fax-pop", true));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->duplicates, 1);
  EXPECT_EQ(again->faxed, 0);
  EXPECT_EQ(sql("SELECT count(*) FROM fax_jobs")[0][0].as<int>(), 1);
  EXPECT_TRUE(server_->messages("fax-pop").empty());
}

TEST_F(PollerTest, AMailboxThatCannotBeReadIsAnErrorAndNothingIsWritten) {
  auto c = config("fax-imap", false);
  c.mailbox.password = "wrong";
  Poller poller(*pool_, [](std::int64_t) {});
  auto r = poller.poll(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_mail_mailbox_auth_failed) << r.error().to_string();
  EXPECT_EQ(sql("SELECT count(*) FROM ingested_messages")[0][0].as<int>(), 0);
}

// Issue 13 item 5 / issue 14: a mailbox that cannot be read is one admin_alert per cause
// (its code) per notifications.admin_alert_interval_min, however often the poll fails;
// it names the mailbox and the cause, never the password; the mailbox fixed, polls work.
TEST_F(PollerTest, AMailboxThatCannotBeReadAlertsTheAdministratorOncePerCauseWithoutThePassword) {
  Poller poller(*pool_, [](std::int64_t) {});
  auto refused = config("fax-imap", false);
  const int closed_port = db::testing::free_port();  // nothing listens there
  refused.mailbox.port = closed_port;
  refused.mailbox.password = "Unsent-Secret-17";
  refused.admin_email = "it@corp.example";
  auto wrong = config("fax-imap", false);
  wrong.mailbox.password = "Wrong-Secret-42";
  wrong.admin_email = "it@corp.example";
  auto alerts = [&] {
    return sql("SELECT recipient, payload->>'cause' AS cause, payload->'error'->>'code' AS code, "
               "payload->'error'->>'message' AS message FROM notifications WHERE kind = 'admin_alert' ORDER BY id");
  };

  // Nobody to tell (no company.admin_email): the poll fails, nothing is written.
  auto silent = refused;
  silent.admin_email.clear();
  ASSERT_FALSE(poller.poll(silent));
  EXPECT_EQ(alerts().size(), 0u);

  for (int i = 0; i < 3; ++i) {
    auto r = poller.poll(refused);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::k_mail_mailbox_unreachable) << r.error().to_string();
  }
  // Two, not three: Dovecot's auth penalty doubles its answer's delay at each refusal.
  for (int i = 0; i < 2; ++i) {
    auto r = poller.poll(wrong);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::k_mail_mailbox_auth_failed) << r.error().to_string();
  }
  auto a = alerts();
  ASSERT_EQ(a.size(), 2u) << "one alert per cause over five failed polls";
  std::printf("%s\n%s\n", a[0]["message"].c_str(), a[1]["message"].c_str());
  EXPECT_EQ(a[0]["recipient"].as<std::string>(), "it@corp.example");
  EXPECT_EQ(a[0]["cause"].as<std::string>(), "mail.mailbox_unreachable");
  EXPECT_EQ(a[0]["code"].as<std::string>(), "mail.mailbox_unreachable");
  const std::string unreachable = a[0]["message"].as<std::string>();
  EXPECT_NE(unreachable.find("IMAP mailbox fax-imap on 127.0.0.1 port " + std::to_string(closed_port)), std::string::npos)
      << unreachable;
  EXPECT_NE(unreachable.find("could not be reached"), std::string::npos) << unreachable;
  EXPECT_NE(unreachable.find("mail.host and mail.port"), std::string::npos) << unreachable;
  EXPECT_EQ(unreachable.find("Unsent-Secret-17"), std::string::npos) << unreachable;
  EXPECT_EQ(a[1]["cause"].as<std::string>(), "mail.mailbox_auth_failed");
  const std::string auth = a[1]["message"].as<std::string>();
  EXPECT_NE(auth.find("127.0.0.1 port " + std::to_string(server_->imaps_port())), std::string::npos) << auth;
  EXPECT_NE(auth.find("refused the user name or password"), std::string::npos) << auth;
  EXPECT_NE(auth.find("mail.username and mail.password"), std::string::npos) << auth;
  EXPECT_EQ(auth.find("Wrong-Secret-42"), std::string::npos) << auth;

  // Once the interval has passed (the row made 61 minutes older), the same cause is news.
  sql("UPDATE notifications SET created_at = created_at - interval '61 minutes' "
      "WHERE payload->>'cause' = 'mail.mailbox_auth_failed'");
  ASSERT_FALSE(poller.poll(wrong));
  EXPECT_EQ(alerts().size(), 3u);

  // The mailbox fixed: the poll works and alerts nothing.
  server_->deliver("fax-imap", mail("anna@corp.example", "403@fax.example.com", "after-alert@corp.example"));
  auto good = config("fax-imap", false);
  good.admin_email = "it@corp.example";
  auto r = poller.poll(good);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->faxed, 1);
  EXPECT_EQ(alerts().size(), 3u);
  EXPECT_TRUE(server_->messages("fax-imap").empty());
}

TEST_F(PollerTest, AStopBetweenFetchingAndCommittingOrBetweenCommittingAndMovingFaxesOnce) {
  for (const std::string point : {"fetched", "committed"}) {
    SCOPED_TRACE(point);
    sql("DELETE FROM fax_jobs");
    const std::string id = "crash-" + point + "@corp.example";
    server_->deliver("fax-imap", mail("anna@corp.example", "403@fax.example.com", id));
    Poller crashing(*pool_, [](std::int64_t) {});
    crashing.set_crash_point([&](const std::string& at) { return at == point; });
    auto r = crashing.poll(config("fax-imap", false));
    ASSERT_TRUE(r) << r.error().to_string();
    // Stopped there: the message is still in the inbox; committed or not, as the point says.
    EXPECT_EQ(server_->messages("fax-imap").size(), 1u);
    EXPECT_EQ(sql("SELECT count(*) FROM fax_jobs")[0][0].as<int>(), point == "committed" ? 1 : 0);
    // The next run (after the restart) faxes it exactly once and moves it.
    Poller restarted(*pool_, [](std::int64_t) {});
    auto again = restarted.poll(config("fax-imap", false));
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(again->faxed + again->duplicates, 1);
    EXPECT_EQ(again->duplicates, point == "committed" ? 1 : 0);
    EXPECT_EQ(sql("SELECT count(*) FROM fax_jobs")[0][0].as<int>(), 1);
    EXPECT_TRUE(server_->messages("fax-imap").empty());
  }
}

// Found by svc MailIngestRandomKills: a refused mail whose move a crash prevented went
// to the processed folder on the next run (a duplicate was always "processed"). Where a
// redelivered mail goes follows its ledger outcome.
TEST_F(PollerTest, ARefusedMailStoppedAfterItsCommitStillGoesToTheFailedFolderOnce) {
  const auto failed_before = server_->messages("fax-imap", "failed").size();
  const auto processed_before = server_->messages("fax-imap", "processed").size();
  server_->deliver("fax-imap", mail("eve@elsewhere.example", "403@fax.example.com", "eve-crash@elsewhere.example"));
  Poller crashing(*pool_, [](std::int64_t) {});
  crashing.set_crash_point([](const std::string& at) { return at == "committed"; });
  ASSERT_TRUE(crashing.poll(config("fax-imap", false)));
  EXPECT_EQ(server_->messages("fax-imap").size(), 1u);
  Poller restarted(*pool_, [](std::int64_t) {});
  auto again = restarted.poll(config("fax-imap", false));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->duplicates, 1);
  EXPECT_TRUE(server_->messages("fax-imap").empty());
  EXPECT_EQ(server_->messages("fax-imap", "failed").size(), failed_before + 1);
  EXPECT_EQ(server_->messages("fax-imap", "processed").size(), processed_before);
  EXPECT_EQ(sql("SELECT count(*) FROM notifications WHERE kind = 'ingest_refused'")[0][0].as<int>(), 1);
}

}  // namespace
}  // namespace faxbridge::mailingest
