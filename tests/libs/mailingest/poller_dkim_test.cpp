// Forged senders end to end (issue 14): mails submitted by SMTP to a real Postfix, checked
// by Debian's opendkim as Postfix's milter (the receiving server's DKIM verdict written
// into Authentication-Results under its authserv-id), delivered by LMTP into the real
// Dovecot mailbox the Poller reads over IMAP, and a real PostgreSQL. With
// mail.require_authentication on and mail.trusted_authserv_id set to opendkim's id, a mail
// signed (python3-dkim) with the key published for the sender's domain becomes a fax job;
// an unsigned one, one signed by another domain, one signed in the sender's name with a
// key that is not the domain's, and ones carrying an Authentication-Results field the
// sender wrote under the trusted id get the ingest.sender_not_authenticated reply and no
// job.
//
// Each case runs against two receiving servers (the test parameter):
//   RemovesEveryForgery  opendkim with RemoveARAll and AlwaysAddARHeader, the configuration
//                        docs/configuration.md asks for: a forged field never arrives.
//   RemovesDkimForgeries opendkim's default removal (only fields with a DKIM result), so
//                        a forged `spf=pass` or `dmarc=pass` under its id does arrive; the
//                        test checks that it did, and that the reader's rule (only the
//                        fields above the receiving hop's Received count,
//                        authentication_results.hpp) refuses it.
#include <gtest/gtest.h>

#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/mail/smtp.hpp"
#include "faxbridge/mailingest/poller.hpp"
#include "faxbridge/testing/mail_servers.hpp"
#include "faxbridge/testing/mailbox_server.hpp"
#include "faxbridge/testing/opendkim.hpp"
#include "faxbridge/testing/sql.hpp"

namespace faxbridge::mailingest {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::DkimKey;
using faxbridge::testing::DovecotMailbox;
using faxbridge::testing::OpenDkim;
using faxbridge::testing::Postfix;

constexpr const char* kAuthservId = "mx.faxbridge.test";
constexpr const char* kFaxDomain = "faxbridge.test";
constexpr const char* kMailbox = "fax";  // fax@faxbridge.test, Dovecot's user "fax"

enum class Receiver { kRemovesEveryForgery, kRemovesDkimForgeries };
const char* name(Receiver r) {
  return r == Receiver::kRemovesEveryForgery ? "RemovesEveryForgery" : "RemovesDkimForgeries";
}
// gtest (and so ctest's test names) print the parameter by name.
void PrintTo(Receiver r, std::ostream* os) { *os << name(r); }

std::string mail(const std::string& id, const std::string& top_headers = "") {
  return top_headers + "From: Anna <anna@corp.example>\r\nTo: 403@faxbridge.test\r\nSubject: Offer " + id +
         "\r\nMessage-ID: <" + id + "@corp.example>\r\nDate: Fri, 04 Dec 2026 18:00:00 +0000\r\nMIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\nPlease sign.\r\n";
}

// One receiving server: opendkim and the Postfix it filters, delivering to the mailbox.
struct ReceivingServer {
  std::unique_ptr<OpenDkim> opendkim;
  std::unique_ptr<Postfix> postfix;
};

class PollerDkimTest : public ::testing::TestWithParam<Receiver> {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("poller-dkim-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    dovecot_ = new DovecotMailbox(dir_ / "dovecot", {{kMailbox, "pw"}});
    corp_key_ = DkimKey::generate(dir_ / "keys", "corp.example");
    attacker_key_ = DkimKey::generate(dir_ / "keys", "attacker.example");
  }
  static void TearDownTestSuite() {
    servers_.clear();
    delete dovecot_;
    dovecot_ = nullptr;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void SetUp() override {
    ASSERT_TRUE(dovecot_->ready()) << dovecot_->log();
    ASSERT_FALSE(corp_key_.txt_record.empty()) << "opendkim-genkey failed";
    ASSERT_FALSE(attacker_key_.txt_record.empty()) << "opendkim-genkey failed";
    ASSERT_TRUE(server().opendkim->ready()) << server().opendkim->log();
    ASSERT_TRUE(server().postfix->ready()) << server().postfix->log();
    ASSERT_TRUE(dovecot_->messages(kMailbox).empty()) << "a previous case left mail in the inbox";
    dsn_ = db::testing::migrated_database("poller_dkim");
    pool_ = std::make_unique<db::Pool>(db::PoolSettings{dsn_, 2});
    db::User anna;
    anna.username = "anna";
    anna.email = "anna@corp.example";
    anna.enable_send = true;
    auto created = pool_->transact([&](db::Tx& tx) { return db::users::create(tx, anna); });
    ASSERT_TRUE(created) << created.error().to_string();
  }

  // The receiving server of this case's parameter, started at first use: ctest runs each
  // case in its own process, which then starts only the one it needs.
  ReceivingServer& server() {
    const Receiver r = GetParam();
    ReceivingServer& s = servers_[r];
    if (s.postfix) return s;
    const std::string name = r == Receiver::kRemovesEveryForgery ? "every" : "dkim";
    OpenDkim::Options o;
    o.authserv_id = kAuthservId;
    o.keys = {corp_key_, attacker_key_};  // both published, as in DNS
    o.remove_all_ar = r == Receiver::kRemovesEveryForgery;
    o.always_add_ar = true;
    s.opendkim = std::make_unique<OpenDkim>(dir_ / ("opendkim-" + name), o);
    Postfix::Options p;
    p.domain = kFaxDomain;
    p.hostname = kAuthservId;
    p.lmtp_destination = "127.0.0.1:" + std::to_string(dovecot_->lmtp_port());
    p.milter = s.opendkim->milter();
    s.postfix = std::make_unique<Postfix>(dir_ / ("postfix-" + name), p);
    return s;
  }

  // Submits the mails by SMTP to the receiving Postfix, as the sender's server would, and
  // waits until Dovecot has them all; returns them as delivered (what the Poller reads).
  std::vector<std::string> submit(const std::vector<std::string>& messages) {
    mail::SmtpSettings smtp;
    smtp.host = "127.0.0.1";
    smtp.port = server().postfix->plain_port();
    smtp.tls = mail::TlsMode::kNone;
    mail::SmtpSession session(smtp);
    for (const auto& m : messages) {
      EXPECT_FALSE(m.empty()) << "signing failed";
      auto sent = session.send({"anna@corp.example", {std::string(kMailbox) + "@" + kFaxDomain}}, m);
      EXPECT_TRUE(sent) << sent.error().to_string() << server().postfix->log();
    }
    session.close();
    // Generous: a loaded 2-core machine, three servers in the path.
    const bool arrived =
        faxbridge::testing::eventually([&] { return dovecot_->messages(kMailbox).size() >= messages.size(); }, 120s);
    EXPECT_TRUE(arrived) << server().postfix->log() << server().opendkim->log() << dovecot_->log();
    return dovecot_->messages(kMailbox);
  }

  MailIngestConfig config(bool require_authentication = true) const {
    MailIngestConfig c;
    c.enabled = true;
    c.mailbox.host = "127.0.0.1";
    c.mailbox.port = dovecot_->imaps_port();
    c.mailbox.protocol = mail::MailboxProtocol::kImap;
    c.mailbox.tls = mail::TlsMode::kImplicit;
    c.mailbox.pinned_sha256 = dovecot_->certificate().sha256;
    c.mailbox.username = kMailbox;
    c.mailbox.password = "pw";
    c.mailbox.timeout = 30s;
    c.mailbox_name = "fax@test";
    c.ingest.fax_domains = {kFaxDomain};
    c.ingest.own_addresses = {"faxbridge@faxbridge.test"};
    c.ingest.require_authentication = require_authentication;
    c.ingest.trusted_authserv_id = kAuthservId;
    return c;
  }

  // Polls once; every mail must have been read.
  PollReport poll(std::size_t expected, bool require_authentication = true) {
    Poller poller(*pool_, [](std::int64_t) {});
    auto r = poller.poll(config(require_authentication));
    EXPECT_TRUE(r) << (r ? "" : r.error().to_string()) << dovecot_->log();
    if (!r) return {};
    EXPECT_EQ(r->seen, static_cast<int>(expected));
    return *r;
  }

  // Every mail refused for its sender's authentication: one reply each to Anna, no job,
  // each mail in the failed folder.
  void expect_refused_without_jobs(std::size_t count) {
    EXPECT_EQ(sql("SELECT count(*) FROM fax_jobs")[0][0].as<int>(), 0);
    auto replies = sql("SELECT recipient, payload->'error'->>'code' AS code FROM notifications "
                       "WHERE kind = 'ingest_refused' ORDER BY id");
    ASSERT_EQ(replies.size(), count);
    for (const auto& row : replies) {
      EXPECT_EQ(row["recipient"].as<std::string>(), "anna@corp.example");
      EXPECT_EQ(row["code"].as<std::string>(), "ingest.sender_not_authenticated");
    }
    EXPECT_TRUE(dovecot_->messages(kMailbox).empty());
  }

  pqxx::result sql(const std::string& q) { return faxbridge::testing::committed_sql(dsn_, q); }

  static inline std::filesystem::path dir_;
  static inline DovecotMailbox* dovecot_ = nullptr;
  static inline DkimKey corp_key_, attacker_key_;
  static inline std::map<Receiver, ReceivingServer> servers_;
  std::string dsn_;
  std::unique_ptr<db::Pool> pool_;
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_P(PollerDkimTest, AMailSignedWithTheSendersDomainKeyBecomesAFaxJob) {
  const auto delivered = submit({dkim_sign(corp_key_, mail("signed"))});
  ASSERT_EQ(delivered.size(), 1u);
  // opendkim verified it (the key from its TestPublicKeys file) and said so under its id.
  EXPECT_TRUE(has(delivered[0], "Authentication-Results: mx.faxbridge.test;")) << delivered[0];
  EXPECT_TRUE(has(delivered[0], "dkim=pass")) << delivered[0];
  EXPECT_TRUE(has(delivered[0], "header.d=corp.example")) << delivered[0];
  const auto r = poll(1);
  EXPECT_EQ(r.faxed, 1);
  EXPECT_EQ(r.refused, 0);
  auto jobs = sql("SELECT recipient_canonical, source, subject FROM fax_jobs");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["recipient_canonical"].as<std::string>(), "403");
  EXPECT_EQ(jobs[0]["source"].as<std::string>(), "email");
  EXPECT_EQ(jobs[0]["subject"].as<std::string>(), "Offer signed");
  EXPECT_EQ(sql("SELECT count(*) FROM notifications WHERE kind = 'ingest_refused'")[0][0].as<int>(), 0);
  EXPECT_TRUE(dovecot_->messages(kMailbox).empty());
}

TEST_P(PollerDkimTest, AnUnsignedMailGetsTheRefusalAndNoJob) {
  const auto delivered = submit({mail("unsigned")});
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_TRUE(has(delivered[0], "Authentication-Results: mx.faxbridge.test; dkim=none")) << delivered[0];
  const auto r = poll(1);
  EXPECT_EQ(r.refused, 1);
  expect_refused_without_jobs(1);
}

TEST_P(PollerDkimTest, AMailSignedByAnotherDomainGetsTheRefusalAndNoJob) {
  // A good signature, but of attacker.example: it says nothing about corp.example.
  const auto delivered = submit({dkim_sign(attacker_key_, mail("other-domain"))});
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_TRUE(has(delivered[0], "dkim=pass")) << delivered[0];
  EXPECT_TRUE(has(delivered[0], "header.d=attacker.example")) << delivered[0];
  const auto r = poll(1);
  EXPECT_EQ(r.refused, 1);
  expect_refused_without_jobs(1);
}

TEST_P(PollerDkimTest, AMailSignedInTheSendersNameWithAnotherKeyGetsTheRefusalAndNoJob) {
  // d=corp.example, but signed with the attacker's key: the published key does not verify.
  const auto delivered = submit({dkim_sign(attacker_key_, mail("wrong-key"), "corp.example")});
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_TRUE(has(delivered[0], "dkim=fail")) << delivered[0];
  const auto r = poll(1);
  EXPECT_EQ(r.refused, 1);
  expect_refused_without_jobs(1);
}

TEST_P(PollerDkimTest, AnAuthenticationResultsFieldTheSenderWroteUnderTheTrustedIdGetsTheRefusalAndNoJob) {
  const std::string ar = "Authentication-Results: mx.faxbridge.test; ";
  const std::vector<std::string> forged = {
      mail("forged-dkim", ar + "dkim=pass header.d=corp.example header.s=test\r\n"),
      mail("forged-spf", ar + "spf=pass smtp.mailfrom=anna@corp.example\r\n"),
      mail("forged-dmarc", ar + "dmarc=pass header.from=corp.example\r\n"),
      mail("forged-dkim-version", ar + "dkim/1=pass header.d=corp.example\r\n"),
      // Signed, by another domain, so that opendkim's own field says dkim=pass too.
      dkim_sign(attacker_key_, mail("forged-signed", ar + "dkim=pass header.d=corp.example\r\n")),
  };
  const auto delivered = submit(forged);
  ASSERT_EQ(delivered.size(), forged.size());
  if (GetParam() == Receiver::kRemovesDkimForgeries) {
    // opendkim's default leaves forgeries without a DKIM result in place: they reach the
    // mailbox, and only the reader's rule stands between them and a fax.
    int kept = 0;
    for (const auto& m : delivered) kept += has(m, "spf=pass smtp.mailfrom=anna@corp.example") ? 1 : 0;
    EXPECT_EQ(kept, 1) << "the forged spf=pass field did not arrive: the case no longer tests the reader";
  } else {
    for (const auto& m : delivered) {
      EXPECT_FALSE(has(m, "spf=pass")) << m;
      EXPECT_FALSE(has(m, "dmarc=pass")) << m;
    }
  }
  const auto r = poll(forged.size());
  EXPECT_EQ(r.refused, static_cast<int>(forged.size()));
  expect_refused_without_jobs(forged.size());
}

TEST_P(PollerDkimTest, WithoutRequireAuthenticationAnUnsignedMailIsFaxed) {
  // The setting is what protects: off, the same unsigned mail from Anna's address goes.
  submit({mail("setting-off")});
  const auto r = poll(1, false);
  EXPECT_EQ(r.faxed, 1);
  EXPECT_EQ(sql("SELECT count(*) FROM fax_jobs")[0][0].as<int>(), 1);
}

INSTANTIATE_TEST_SUITE_P(Receivers, PollerDkimTest,
                         ::testing::Values(Receiver::kRemovesEveryForgery, Receiver::kRemovesDkimForgeries),
                         [](const ::testing::TestParamInfo<Receiver>& i) { return std::string(name(i.param)); });

}  // namespace
}  // namespace faxbridge::mailingest
