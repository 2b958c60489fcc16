// RFC 8601 Authentication-Results: the grammar (comments, quoted values, versions,
// "none", properties with addresses), and the decision that trusts only the configured
// authserv-id and needs DKIM or aligned SPF (or DMARC) for the From domain.
#include "faxbridge/ingest/authentication_results.hpp"

#include <gtest/gtest.h>

namespace faxbridge::ingest {
namespace {

TEST(AuthenticationResults, ParsesTheRfcExampleWithCommentsAndProperties) {
  // RFC 8601 appendix B.4, folded as received.
  auto r = parse_authentication_results(
      "example.com;\r\n spf=pass smtp.mailfrom=example.net\r\n  (comment (nested) here) ;\r\n"
      " dkim=pass (good signature) header.d=example.org header.i=@mail.example.org header.b=\"abc\"");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->authserv_id, "example.com");
  ASSERT_EQ(r->results.size(), 2u);
  EXPECT_EQ(r->results[0].method, "spf");
  EXPECT_EQ(r->results[0].result, "pass");
  EXPECT_EQ(r->results[0].property("smtp.mailfrom"), "example.net");
  EXPECT_EQ(r->results[1].method, "dkim");
  EXPECT_EQ(r->results[1].property("header.d"), "example.org");
  EXPECT_EQ(r->results[1].property("header.i"), "@mail.example.org");
  EXPECT_EQ(r->results[1].property("header.b"), "abc");
}

TEST(AuthenticationResults, ReadsVersionsReasonsAndNone) {
  auto v = parse_authentication_results("mx.example.com 1; dkim/1=fail reason=\"bad sig\" header.d=a.example");
  ASSERT_TRUE(v);
  ASSERT_EQ(v->results.size(), 1u);
  EXPECT_EQ(v->results[0].result, "fail");
  auto none = parse_authentication_results("mx.example.com; none");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->results.empty());
  auto spf_address = parse_authentication_results("mx.example.com; spf=PASS smtp.mailfrom=anna@Example.COM");
  ASSERT_TRUE(spf_address);
  EXPECT_EQ(spf_address->results[0].result, "pass");
  EXPECT_EQ(spf_address->results[0].property("smtp.mailfrom"), "anna@Example.COM");
}

TEST(AuthenticationResults, RefusesFieldsThatDoNotFollowTheGrammar) {
  EXPECT_FALSE(parse_authentication_results(""));
  EXPECT_FALSE(parse_authentication_results("mx.example.com; dkim"));
  EXPECT_FALSE(parse_authentication_results("mx.example.com; dkim=pass header"));
  EXPECT_FALSE(parse_authentication_results("mx.example.com; dkim=pass (unclosed comment header.d=x.example"));
  EXPECT_FALSE(parse_authentication_results("mx.example.com dkim=pass"));
  EXPECT_FALSE(parse_authentication_results("mx.example.com; dkim=pass header.d=\"unterminated"));
}

TEST(AuthenticationResults, DkimPassForTheFromDomainAuthenticates) {
  std::string how;
  EXPECT_TRUE(sender_authenticated({"mx.corp.example; dkim=pass header.d=corp.example"}, "mx.corp.example",
                                   "corp.example", &how));
  EXPECT_EQ(how, "dkim header.d=corp.example");
  // header.i's domain when header.d is absent; a subdomain is aligned (relaxed).
  EXPECT_TRUE(sender_authenticated({"mx.corp.example; dkim=pass header.i=@mail.corp.example"}, "MX.corp.example",
                                   "corp.example"));
}

TEST(AuthenticationResults, SpfPassCountsOnlyWhenAlignedWithTheFromDomain) {
  EXPECT_TRUE(sender_authenticated({"mx.corp.example; spf=pass smtp.mailfrom=bounce@corp.example"},
                                   "mx.corp.example", "corp.example"));
  EXPECT_FALSE(sender_authenticated({"mx.corp.example; spf=pass smtp.mailfrom=bounce@mailer.example"},
                                    "mx.corp.example", "corp.example"));
  EXPECT_TRUE(sender_authenticated({"mx.corp.example; spf=fail smtp.mailfrom=x@other.example; dmarc=pass "
                                    "header.from=corp.example"},
                                   "mx.corp.example", "corp.example"));
}

TEST(AuthenticationResults, OtherServersFieldsAndFailuresAreIgnored) {
  // Written by the sender, claiming our server's verdict under another id.
  EXPECT_FALSE(sender_authenticated({"evil.example; dkim=pass header.d=corp.example"}, "mx.corp.example",
                                    "corp.example"));
  // A signature by another domain proves nothing about the From domain.
  EXPECT_FALSE(sender_authenticated({"mx.corp.example; dkim=pass header.d=attacker.example"}, "mx.corp.example",
                                    "corp.example"));
  EXPECT_FALSE(sender_authenticated({"mx.corp.example; dkim=fail header.d=corp.example"}, "mx.corp.example",
                                    "corp.example"));
  EXPECT_FALSE(sender_authenticated({"mx.corp.example; dkim=pass header.d=corp.example"}, "", "corp.example"));
  // Of two trusted fields, one that passes is enough.
  EXPECT_TRUE(sender_authenticated({"mx.corp.example; dkim=fail header.d=corp.example",
                                    "mx.corp.example; dkim=pass header.d=corp.example"},
                                   "mx.corp.example", "corp.example"));
}

TEST(AuthenticationResults, AlignmentNeedsTheSameOrganisationNotASuffix) {
  EXPECT_TRUE(domains_aligned("corp.example", "CORP.example"));
  EXPECT_TRUE(domains_aligned("mail.corp.example", "corp.example"));
  EXPECT_TRUE(domains_aligned("corp.example", "mail.corp.example"));
  EXPECT_FALSE(domains_aligned("notcorp.example", "corp.example"));
  EXPECT_FALSE(domains_aligned("corp.example", "example"));  // a bare suffix aligns with nothing
  EXPECT_FALSE(domains_aligned("", "corp.example"));
}

}  // namespace
}  // namespace faxbridge::ingest
