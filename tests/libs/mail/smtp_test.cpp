// SmtpSession against a real Postfix on loopback (mail_servers.hpp): STARTTLS with AUTH
// through Dovecot, implicit TLS, plain relay; certificate checks (CA file, pin, the
// system's bundle refusing a self-signed server); the server's refusals and absence as
// our codes; one connection for a batch; the session recovering after each failure; a
// body its hook holds back (SmtpSession::send before_body) never becoming a mail.
#include "faxbridge/mail/smtp.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "faxbridge/mail/message.hpp"
#include "faxbridge/testing/mail_servers.hpp"
#include "mime_reader.hpp"

namespace faxbridge::mail {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::eventually;
using faxbridge::testing::Postfix;

class SmtpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("smtp-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Postfix::Options o;
    o.refuse = {"nobody@example.test"};
    o.defer = {"busy@example.test"};
    postfix_ = std::make_unique<Postfix>(dir_, o);
    ASSERT_TRUE(postfix_->ready()) << postfix_->log();
  }
  void TearDown() override {
    postfix_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  SmtpSettings submission() const {
    SmtpSettings s;
    s.host = "127.0.0.1";
    s.port = postfix_->submission_port();
    s.tls = TlsMode::kStartTls;
    s.ca_file = postfix_->certificate().cert_file;  // self-signed: its own CA
    s.username = "faxbridge";
    s.password = "secret";
    s.timeout = 10s;
    return s;
  }
  static std::string message(const std::string& to, int n) {
    OutgoingMessage m;
    m.from = {"fax@faxbridge.example.test", "Faxbridge"};
    m.to = {{to, ""}};
    m.subject = "Test " + std::to_string(n);
    m.text = "Line one\n.\nA line that was a lone dot above (SMTP dot-stuffing).\n";
    m.attachments.push_back({"fax.tif", "image/tiff", std::string(70000, '\x5a'), ""});
    m.message_id = "test-" + std::to_string(n) + "@faxbridge.example.test";
    auto bytes = compose(m);
    EXPECT_TRUE(bytes) << bytes.error().to_string();
    return bytes ? *bytes : std::string();
  }
  static Envelope to(const std::string& address) { return Envelope{"fax@faxbridge.example.test", {address}}; }
  bool delivered(std::size_t count) {
    return eventually([&] { return postfix_->messages().size() >= count; }, 30s);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Postfix> postfix_;
};

TEST_F(SmtpTest, StartTlsWithAuthDeliversTheMessageByteForByte) {
  SmtpSession session(submission());
  const std::string bytes = message("anna@example.test", 1);
  auto r = session.send(to("anna@example.test"), bytes);
  ASSERT_TRUE(r) << r.error().to_string() << "\n" << postfix_->log();
  session.close();
  ASSERT_TRUE(delivered(1)) << postfix_->log();
  const auto seen = faxbridge::mail::testing::read_as_client(postfix_->messages()[0]);
  EXPECT_EQ(seen["headers"]["message-id"], "<test-1@faxbridge.example.test>");
  EXPECT_EQ(seen["parts"][0]["text"], "Line one\n.\nA line that was a lone dot above (SMTP dot-stuffing).\n");
  EXPECT_EQ(seen["parts"][1]["sha256"], faxbridge::mail::testing::sha256_of(std::string(70000, '\x5a')));
  // Postfix logged the TLS and the AUTH for this delivery.
  EXPECT_TRUE(eventually([&] { return postfix_->log().find("starttls=1 auth=1 mail=1 rcpt=1 data=1") != std::string::npos; }, 10s))
      << postfix_->log();
}

TEST_F(SmtpTest, ImplicitTlsWithAPinnedCertificateDelivers) {
  auto s = submission();
  s.port = postfix_->smtps_port();
  s.tls = TlsMode::kImplicit;
  s.ca_file.clear();
  s.pinned_sha256 = postfix_->certificate().sha256;
  SmtpSession session(s);
  auto r = session.send(to("anna@example.test"), message("anna@example.test", 2));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(delivered(1));
}

TEST_F(SmtpTest, APlainRelayWithoutAuthDelivers) {
  SmtpSettings s;
  s.host = "127.0.0.1";
  s.port = postfix_->plain_port();
  s.tls = TlsMode::kNone;
  SmtpSession session(s);
  auto r = session.send(to("anna@example.test"), message("anna@example.test", 3));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(delivered(1));
}

TEST_F(SmtpTest, ABatchGoesOverOneConnection) {
  SmtpSession session(submission());
  for (int i = 0; i < 5; ++i) {
    auto r = session.send(to("anna@example.test"), message("anna@example.test", 10 + i));
    ASSERT_TRUE(r) << r.error().to_string();
  }
  session.close();
  ASSERT_TRUE(delivered(5));
  ASSERT_TRUE(eventually([&] { return postfix_->log().find("starttls=1 auth=1 mail=5 rcpt=5 data=5") != std::string::npos; }, 10s))
      << postfix_->log();
}

TEST_F(SmtpTest, ABodyHeldBackByItsHookIsNoMailAndTheNextOneGoes) {
  SmtpSession session(submission());
  int asked = 0;
  const BeforeBody refuse = [&]() -> Result<void> {
    ++asked;
    return Error(Code::k_db_unavailable, "the previous mail's record did not commit");
  };
  auto held = session.send(to("anna@example.test"), message("anna@example.test", 20), refuse);
  ASSERT_FALSE(held);
  EXPECT_EQ(held.error().code, Code::k_db_unavailable) << "the hook's error, as it is";
  EXPECT_EQ(asked, 1);
  EXPECT_FALSE(session.connected()) << "dropped in DATA, so the server discards what it has";
  const BeforeBody go = [&]() -> Result<void> {
    ++asked;
    return ok();
  };
  auto r = session.send(to("anna@example.test"), message("anna@example.test", 21), go);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(asked, 2);
  session.close();
  ASSERT_TRUE(delivered(1));
  std::this_thread::sleep_for(1s);  // a second mail, were there one, would be in by now
  auto got = postfix_->messages();
  ASSERT_EQ(got.size(), 1u) << "only the mail whose hook let it go";
  EXPECT_NE(got[0].find("test-21@faxbridge.example.test"), std::string::npos);
}

TEST_F(SmtpTest, AWrongPasswordIsAuthFailed) {
  auto s = submission();
  s.password = "wrong";
  SmtpSession session(s);
  auto r = session.send(to("anna@example.test"), message("anna@example.test", 4));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_smtp_auth_failed) << r.error().to_string();
  EXPECT_EQ(code_kind(r.error().code), ErrorKind::kFailedPrecondition);
  EXPECT_FALSE(session.connected());
}

TEST_F(SmtpTest, AnUntrustedOrUnpinnedCertificateIsTlsFailedAndVerificationOffTrustsIt) {
  auto s = submission();
  s.ca_file.clear();  // the system's bundle does not know this self-signed server
  {
    SmtpSession session(s);
    auto r = session.send(to("anna@example.test"), message("anna@example.test", 5));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::k_smtp_tls_failed) << r.error().to_string();
  }
  {
    auto pinned = s;
    pinned.pinned_sha256 = std::string(64, 'a');
    SmtpSession session(pinned);
    auto r = session.send(to("anna@example.test"), message("anna@example.test", 6));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::k_smtp_tls_failed) << r.error().to_string();
    EXPECT_NE(r.error().message.find(postfix_->certificate().sha256), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(postfix_->messages().empty());
  auto off = s;
  off.verify_certificate = false;
  SmtpSession session(off);
  auto r = session.send(to("anna@example.test"), message("anna@example.test", 7));
  EXPECT_TRUE(r) << r.error().to_string();
}

TEST_F(SmtpTest, RefusedAndDeferredRecipientsKeepTheServersAnswerAndTheSessionGoesOn) {
  SmtpSession session(submission());
  auto refused = session.send(to("nobody@example.test"), message("nobody@example.test", 8));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::k_smtp_rejected) << refused.error().to_string();
  EXPECT_NE(refused.error().message.find("5.1.1"), std::string::npos) << refused.error().message;
  auto deferred = session.send(to("busy@example.test"), message("busy@example.test", 9));
  ASSERT_FALSE(deferred);
  EXPECT_EQ(deferred.error().code, Code::k_smtp_temporary) << deferred.error().to_string();
  EXPECT_EQ(code_kind(deferred.error().code), ErrorKind::kUnavailable);
  EXPECT_NE(deferred.error().message.find("4.2.1"), std::string::npos) << deferred.error().message;
  auto ok = session.send(to("anna@example.test"), message("anna@example.test", 10));
  EXPECT_TRUE(ok) << ok.error().to_string();
  ASSERT_TRUE(delivered(1));
  EXPECT_EQ(postfix_->messages().size(), 1u);
}

TEST_F(SmtpTest, AServerThatIsAwayIsUnreachableAndTheSessionSendsWhenItIsBack) {
  SmtpSession session(submission());
  ASSERT_TRUE(session.send(to("anna@example.test"), message("anna@example.test", 11)));
  ASSERT_TRUE(postfix_->stop());
  auto away = session.send(to("anna@example.test"), message("anna@example.test", 12));
  ASSERT_FALSE(away);
  EXPECT_EQ(away.error().code, Code::k_smtp_unreachable) << away.error().to_string();
  auto again = session.send(to("anna@example.test"), message("anna@example.test", 13));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::k_smtp_unreachable);
  ASSERT_TRUE(postfix_->start()) << postfix_->log();
  auto back = session.send(to("anna@example.test"), message("anna@example.test", 14));
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_TRUE(delivered(2));
}

TEST_F(SmtpTest, NothingListeningIsUnreachableAndTlsModesParse) {
  SmtpSettings s;
  s.host = "127.0.0.1";
  s.port = faxbridge::testing::free_port();
  s.tls = TlsMode::kNone;
  s.timeout = 3s;
  SmtpSession session(s);
  auto r = session.send(to("anna@example.test"), "Subject: x\r\n\r\nx\r\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_smtp_unreachable) << r.error().to_string();
  TlsMode m{};
  EXPECT_TRUE(parse_tls_mode("starttls", m) && m == TlsMode::kStartTls);
  EXPECT_TRUE(parse_tls_mode("tls", m) && m == TlsMode::kImplicit);
  EXPECT_TRUE(parse_tls_mode("none", m) && m == TlsMode::kNone);
  EXPECT_FALSE(parse_tls_mode("ssl", m));
  EXPECT_FALSE(parse_tls_mode("implicit", m));
  EXPECT_STREQ(tls_mode_name(TlsMode::kImplicit), "tls");
}

}  // namespace
}  // namespace faxbridge::mail
