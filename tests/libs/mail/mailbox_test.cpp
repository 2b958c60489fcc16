// MailboxSession against a real Dovecot on loopback (mailbox_server.hpp), IMAP and POP3:
// implicit TLS, STARTTLS and plain; certificate checks (CA file, pin, a wrong pin, the
// system's bundle refusing a self-signed server); a wrong password; nothing listening;
// stable ids across sessions; fetch byte for byte without marking \Seen; processed and
// failed folders created when missing; flag-only marking; POP3 deletes at QUIT; IMAP
// IDLE woken by a new mail (over implicit TLS, STARTTLS and plain), ending at its time
// limit or a stop, and the session usable after it; POP3 has no IDLE.
#include "faxbridge/mail/mailbox.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <regex>
#include <thread>

#include "faxbridge/testing/mailbox_server.hpp"

namespace faxbridge::mail {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::DovecotMailbox;

std::string mail_bytes(int n) {
  return "From: Anna <anna@example.test>\r\nTo: 403@fax.example.test\r\nSubject: Test " + std::to_string(n) +
         "\r\nMessage-ID: <m" + std::to_string(n) + "@example.test>\r\n\r\nBody " + std::to_string(n) + "\r\n";
}

class MailboxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("mailbox-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::map<std::string, std::string> users;
    for (const char* u : {"imap1", "imap2", "imap3", "imap4", "imap5", "imap6", "pop1", "pop2", "pop3", "big", "idle1",
                          "idle2", "idle3"})
      users[u] = "pw-" + std::string(u);
    server_ = new DovecotMailbox(dir_, users);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void SetUp() override { ASSERT_TRUE(server_->ready()) << server_->log(); }

  static MailboxSettings settings(const std::string& user, int port, MailboxProtocol protocol, TlsMode tls) {
    MailboxSettings s;
    s.host = "127.0.0.1";
    s.port = port;
    s.protocol = protocol;
    s.tls = tls;
    s.ca_file = server_->certificate().cert_file;  // self-signed: its own CA
    s.username = user;
    s.password = "pw-" + user;
    s.timeout = 10s;
    return s;
  }
  static MailboxSettings imaps(const std::string& user) {
    return settings(user, server_->imaps_port(), MailboxProtocol::kImap, TlsMode::kImplicit);
  }
  static MailboxSettings pop3s(const std::string& user) {
    return settings(user, server_->pop3s_port(), MailboxProtocol::kPop3, TlsMode::kImplicit);
  }

  static inline std::filesystem::path dir_;
  static inline DovecotMailbox* server_ = nullptr;
};

TEST_F(MailboxTest, ImapOverImplicitTlsListsFetchesAndMovesToACreatedProcessedFolder) {
  server_->deliver("imap1", mail_bytes(1));
  server_->deliver("imap1", mail_bytes(2));
  std::vector<MailboxEntry> first;
  {
    MailboxSession session(imaps("imap1"));
    auto count = session.count();
    ASSERT_TRUE(count) << count.error().to_string() << server_->log();
    EXPECT_EQ(*count, 2u);
    auto listed = session.list();
    ASSERT_TRUE(listed) << listed.error().to_string();
    ASSERT_EQ(listed->size(), 2u);
    first = *listed;
    EXPECT_NE(first[0].id, first[1].id);
    EXPECT_NE(first[0].id.find('.'), std::string::npos) << "UIDVALIDITY.UID: " << first[0].id;
    EXPECT_EQ(first[0].size, mail_bytes(1).size());
    auto bytes = session.fetch(first[0].id, 1 << 20);
    ASSERT_TRUE(bytes) << bytes.error().to_string();
    EXPECT_EQ(*bytes, mail_bytes(1));
    auto moved = session.mark_processed(first[0].id);
    ASSERT_TRUE(moved) << moved.error().to_string() << server_->log();
    ASSERT_TRUE(session.close());
  }
  ASSERT_EQ(server_->messages("imap1", "processed").size(), 1u);
  EXPECT_EQ(server_->messages("imap1", "processed")[0], mail_bytes(1));
  ASSERT_EQ(server_->messages("imap1").size(), 1u);
  EXPECT_EQ(server_->messages("imap1")[0], mail_bytes(2));
  // A new session sees the other message under the same id.
  MailboxSession again(imaps("imap1"));
  auto listed = again.list();
  ASSERT_TRUE(listed) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, first[1].id);
  // The moved one is gone from the inbox, not another message.
  auto gone = again.fetch(first[0].id, 1 << 20);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Code::k_mail_mailbox_message_gone);
}

TEST_F(MailboxTest, ImapFetchPeeksAndFailedMessagesGoToTheFailedFolder) {
  server_->deliver("imap2", mail_bytes(3));
  MailboxSession session(imaps("imap2"));
  auto listed = session.list();
  ASSERT_TRUE(listed) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 1u);
  ASSERT_TRUE(session.fetch((*listed)[0].id, 1 << 20));
  ASSERT_TRUE(session.close());
  ASSERT_EQ(server_->flags("imap2").size(), 1u);
  EXPECT_EQ(server_->flags("imap2")[0].find('S'), std::string::npos) << "BODY.PEEK must not set \\Seen";
  auto failed = session.move_to_failed((*listed)[0].id);  // reconnects by itself
  ASSERT_TRUE(failed) << failed.error().to_string() << server_->log();
  ASSERT_TRUE(session.close());
  EXPECT_TRUE(server_->messages("imap2").empty());
  ASSERT_EQ(server_->messages("imap2", "failed").size(), 1u);
  EXPECT_EQ(server_->messages("imap2", "failed")[0], mail_bytes(3));
}

TEST_F(MailboxTest, ImapWithoutAProcessedFolderFlagsTheMessageAndNoLongerListsIt) {
  server_->deliver("imap3", mail_bytes(4));
  server_->deliver("imap3", mail_bytes(5));
  auto s = imaps("imap3");
  s.processed_folder.clear();
  MailboxSession session(s);
  auto listed = session.list();
  ASSERT_TRUE(listed) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 2u);
  ASSERT_TRUE(session.mark_processed((*listed)[0].id));
  ASSERT_TRUE(session.close());
  const auto flags = server_->flags("imap3");
  ASSERT_EQ(flags.size(), 2u);
  EXPECT_EQ(flags[0], "FS");  // maildir: F = \Flagged, S = \Seen
  EXPECT_EQ(flags[1], "");
  auto again = session.list();
  ASSERT_TRUE(again) << again.error().to_string();
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].id, (*listed)[1].id);
  auto count = session.count();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 2u);  // both still in the folder
}

TEST_F(MailboxTest, ImapStartTlsAndPlainBothSignIn) {
  server_->deliver("imap4", mail_bytes(6));
  MailboxSession starttls(settings("imap4", server_->imap_port(), MailboxProtocol::kImap, TlsMode::kStartTls));
  auto c1 = starttls.count();
  ASSERT_TRUE(c1) << c1.error().to_string() << server_->log();
  EXPECT_EQ(*c1, 1u);
  MailboxSession plain(settings("imap4", server_->imap_port(), MailboxProtocol::kImap, TlsMode::kNone));
  auto c2 = plain.count();
  ASSERT_TRUE(c2) << c2.error().to_string();
  EXPECT_EQ(*c2, 1u);
  ASSERT_TRUE(starttls.close());
  ASSERT_TRUE(plain.close());
  // Dovecot logged one login over TLS and one in the clear ("secured": loopback).
  const std::string log = server_->log();
  EXPECT_TRUE(std::regex_search(log, std::regex(R"(imap-login: Info: Login: user=<imap4>, [^\n]*mpid=\d+, TLS,)"))) << log;
  EXPECT_TRUE(std::regex_search(log, std::regex(R"(imap-login: Info: Login: user=<imap4>, [^\n]*mpid=\d+, secured,)"))) << log;
}

TEST_F(MailboxTest, Pop3OverImplicitTlsWithAPinDeletesAtQuit) {
  server_->deliver("pop1", mail_bytes(7));
  server_->deliver("pop1", mail_bytes(8));
  auto s = pop3s("pop1");
  s.ca_file.clear();
  s.pinned_sha256 = server_->certificate().sha256;
  std::vector<MailboxEntry> first;
  {
    MailboxSession session(s);
    auto listed = session.list();
    ASSERT_TRUE(listed) << listed.error().to_string() << server_->log();
    ASSERT_EQ(listed->size(), 2u);
    first = *listed;
    auto bytes = session.fetch(first[1].id, 1 << 20);
    ASSERT_TRUE(bytes) << bytes.error().to_string();
    EXPECT_EQ(*bytes, mail_bytes(8));
    ASSERT_TRUE(session.mark_processed(first[1].id));
    // Nothing is deleted before QUIT.
    EXPECT_EQ(server_->messages("pop1").size(), 2u);
    auto closed = session.close();
    ASSERT_TRUE(closed) << closed.error().to_string();
  }
  ASSERT_EQ(server_->messages("pop1").size(), 1u);
  EXPECT_EQ(server_->messages("pop1")[0], mail_bytes(7));
  MailboxSession again(s);
  auto listed = again.list();
  ASSERT_TRUE(listed) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, first[0].id) << "the UIDL stays";
}

TEST_F(MailboxTest, Pop3StartTlsAndPlainBothSignIn) {
  server_->deliver("pop2", mail_bytes(9));
  for (TlsMode tls : {TlsMode::kStartTls, TlsMode::kNone}) {
    MailboxSession session(settings("pop2", server_->pop3_port(), MailboxProtocol::kPop3, tls));
    auto listed = session.list();
    ASSERT_TRUE(listed) << tls_mode_name(tls) << ": " << listed.error().to_string() << server_->log();
    ASSERT_EQ(listed->size(), 1u);
    auto bytes = session.fetch((*listed)[0].id, 1 << 20);
    ASSERT_TRUE(bytes) << bytes.error().to_string();
    EXPECT_EQ(*bytes, mail_bytes(9));
    ASSERT_TRUE(session.close());
  }
  EXPECT_NE(server_->log().find("pop3-login: Info: Login: user=<pop2>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, "),
            std::string::npos);
}

TEST_F(MailboxTest, AWrongPinIsRefusedOverImapAndPop3) {
  for (auto s : {imaps("imap5"), pop3s("pop3")}) {
    s.ca_file.clear();
    s.pinned_sha256 = std::string(64, 'a');
    MailboxSession session(s);
    auto r = session.connect();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::k_mail_mailbox_tls_failed) << r.error().to_string();
    EXPECT_NE(r.error().message.find("not the pinned one"), std::string::npos) << r.error().message;
    EXPECT_FALSE(session.connected());
  }
}

TEST_F(MailboxTest, TheSystemBundleRefusesASelfSignedServer) {
  auto s = imaps("imap5");
  s.ca_file.clear();
  MailboxSession session(s);
  auto r = session.connect();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_mail_mailbox_tls_failed) << r.error().to_string();
}

TEST_F(MailboxTest, NothingListeningIsUnreachable) {
  auto s = imaps("imap6");
  s.port = faxbridge::testing::free_port();
  MailboxSession session(s);
  auto r = session.count();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_mail_mailbox_unreachable) << r.error().to_string();
}

TEST_F(MailboxTest, AMessageOverTheLimitIsRefusedUnreadOverImapAndPop3) {
  server_->deliver("big", mail_bytes(10) + std::string(5000, 'x') + "\r\n");
  for (auto s : {imaps("big"), pop3s("big")}) {
    MailboxSession session(s);
    auto listed = session.list();
    ASSERT_TRUE(listed) << listed.error().to_string();
    ASSERT_EQ(listed->size(), 1u);
    auto r = session.fetch((*listed)[0].id, 1000);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::k_mail_message_too_large) << r.error().to_string();
    EXPECT_TRUE(session.connected()) << "a refusal of ours keeps the connection";
    ASSERT_TRUE(session.close());
  }
  EXPECT_EQ(server_->messages("big").size(), 1u);
}

// Last: Dovecot's anvil slows every later login from 127.0.0.1 after failed ones.
TEST_F(MailboxTest, AWrongPasswordIsAuthFailedOverImapAndPop3) {
  for (auto s : {imaps("imap6"), pop3s("pop3")}) {
    s.password = "wrong";
    MailboxSession session(s);
    auto r = session.connect();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::k_mail_mailbox_auth_failed) << r.error().to_string();
  }
}


// Idles on the session, with a mail delivered into its folder from another thread after
// `delay`; returns what idle() said and the time from the delivery to idle's return.
struct IdleOutcome {
  Result<IdleResult> result = IdleResult::kTimedOut;
  std::chrono::duration<double> after_delivery{0};
};
IdleOutcome idle_while_delivering(MailboxSession& session, DovecotMailbox& server, const std::string& user, int n,
                                  std::chrono::milliseconds delay) {
  std::chrono::steady_clock::time_point delivered;
  std::thread deliverer([&] {
    std::this_thread::sleep_for(delay);
    delivered = std::chrono::steady_clock::now();
    server.deliver(user, mail_bytes(n));
  });
  IdleOutcome out;
  out.result = session.idle(120s, [] { return false; });
  const auto returned = std::chrono::steady_clock::now();
  deliverer.join();
  out.after_delivery = returned - delivered;
  return out;
}

TEST_F(MailboxTest, ImapIdleWakesOnANewMailOverEveryTlsModeAndTheSessionGoesOnAfterIt) {
  struct Mode {
    const char* user;
    int port;
    TlsMode tls;
  };
  int n = 100;
  for (const Mode& mode : {Mode{"idle1", server_->imaps_port(), TlsMode::kImplicit},
                           Mode{"idle2", server_->imap_port(), TlsMode::kStartTls},
                           Mode{"idle3", server_->imap_port(), TlsMode::kNone}}) {
    SCOPED_TRACE(mode.user);
    MailboxSession session(settings(mode.user, mode.port, MailboxProtocol::kImap, mode.tls));
    ASSERT_TRUE(session.connect()) << server_->log();
    // The wait is 120 s and nothing else would end it: only the server's announcement can.
    auto first = idle_while_delivering(session, *server_, mode.user, ++n, 1500ms);
    ASSERT_TRUE(first.result) << first.result.error().to_string() << server_->log();
    EXPECT_EQ(*first.result, IdleResult::kNewMail);
    std::printf("[ figure ] %s: IDLE returned %.3f s after the delivery\n", mode.user, first.after_delivery.count());
    // vmime's own commands go on over the same connection after our IDLE exchange.
    auto listed = session.list();
    ASSERT_TRUE(listed) << listed.error().to_string();
    ASSERT_EQ(listed->size(), 1u);
    auto bytes = session.fetch((*listed)[0].id, 1 << 20);
    ASSERT_TRUE(bytes) << bytes.error().to_string();
    EXPECT_EQ(*bytes, mail_bytes(n));
    ASSERT_TRUE(session.mark_processed((*listed)[0].id));
    // A second IDLE on the same session is woken by the next mail only, not by the first.
    auto second = idle_while_delivering(session, *server_, mode.user, ++n, 1500ms);
    ASSERT_TRUE(second.result) << second.result.error().to_string();
    EXPECT_EQ(*second.result, IdleResult::kNewMail);
    EXPECT_GE(second.after_delivery.count(), 0.0) << "woken before the second mail arrived";
    auto again = session.list();
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(again->size(), 1u);
    ASSERT_TRUE(session.close());
  }
}

TEST_F(MailboxTest, ImapIdleEndsAtItsTimeLimitOrAStopAndPop3HasNone) {
  MailboxSession imap(imaps("idle1"));
  auto timed = imap.idle(300ms, [] { return false; });
  ASSERT_TRUE(timed) << timed.error().to_string() << server_->log();
  EXPECT_EQ(*timed, IdleResult::kTimedOut);
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    stop = true;
  });
  auto stopped = imap.idle(120s, [&] { return stop.load(); });
  stopper.join();
  ASSERT_TRUE(stopped) << stopped.error().to_string();
  EXPECT_EQ(*stopped, IdleResult::kStopped);
  EXPECT_TRUE(imap.count()) << "the session works after a stopped IDLE";
  MailboxSession pop3(pop3s("pop3"));
  auto none = pop3.idle(120s, [] { return false; });
  ASSERT_TRUE(none) << none.error().to_string();
  EXPECT_EQ(*none, IdleResult::kUnsupported);
}

}  // namespace
}  // namespace faxbridge::mail
