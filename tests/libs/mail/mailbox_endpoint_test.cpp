// resolve_endpoint: the protocol and TLS mode from the port, as the product guide says
// (110 POP3, 995 POP3 over TLS, 143 IMAP, 993 IMAP over TLS), unless set.
#include <gtest/gtest.h>

#include "faxbridge/mail/mailbox.hpp"

namespace faxbridge::mail {
namespace {

MailboxEndpoint resolved(int port, std::optional<MailboxProtocol> protocol = {}, std::optional<TlsMode> tls = {}) {
  MailboxSettings s;
  s.port = port;
  s.protocol = protocol;
  s.tls = tls;
  auto e = resolve_endpoint(s);
  EXPECT_TRUE(e) << port;
  return e ? *e : MailboxEndpoint{};
}

TEST(MailboxEndpoint, TheFourKnownPortsTellProtocolAndTls) {
  EXPECT_EQ(resolved(110).protocol, MailboxProtocol::kPop3);
  EXPECT_EQ(resolved(110).tls, TlsMode::kStartTls);
  EXPECT_EQ(resolved(995).protocol, MailboxProtocol::kPop3);
  EXPECT_EQ(resolved(995).tls, TlsMode::kImplicit);
  EXPECT_EQ(resolved(143).protocol, MailboxProtocol::kImap);
  EXPECT_EQ(resolved(143).tls, TlsMode::kStartTls);
  EXPECT_EQ(resolved(993).protocol, MailboxProtocol::kImap);
  EXPECT_EQ(resolved(993).tls, TlsMode::kImplicit);
}

TEST(MailboxEndpoint, AnExplicitProtocolOrTlsModeWins) {
  EXPECT_EQ(resolved(993, MailboxProtocol::kPop3).protocol, MailboxProtocol::kPop3);
  EXPECT_EQ(resolved(993, {}, TlsMode::kNone).tls, TlsMode::kNone);
  EXPECT_EQ(resolved(10143, MailboxProtocol::kImap).protocol, MailboxProtocol::kImap);
  EXPECT_EQ(resolved(10143, MailboxProtocol::kImap).tls, TlsMode::kStartTls);
}

TEST(MailboxEndpoint, AnUnknownPortWithoutProtocolIsRefusedWithASentence) {
  MailboxSettings s;
  s.port = 2525;
  auto e = resolve_endpoint(s);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Code::k_mail_mailbox_protocol_unknown);
  EXPECT_NE(e.error().message.find("set the protocol"), std::string::npos) << e.error().message;
}

TEST(MailboxEndpoint, ProtocolNamesRoundTrip) {
  MailboxProtocol p{};
  ASSERT_TRUE(parse_mailbox_protocol("pop3", p));
  EXPECT_EQ(p, MailboxProtocol::kPop3);
  ASSERT_TRUE(parse_mailbox_protocol("imap", p));
  EXPECT_EQ(p, MailboxProtocol::kImap);
  EXPECT_FALSE(parse_mailbox_protocol("IMAP4", p));
  EXPECT_STREQ(mailbox_protocol_name(MailboxProtocol::kPop3), "pop3");
}

}  // namespace
}  // namespace faxbridge::mail
