// RFC 8601 Authentication-Results: the grammar (comments, quoted values, versions,
// "none", properties with addresses), and the decision that trusts only the configured
// authserv-id and needs DKIM or aligned SPF (or DMARC) for the From domain, and of the
// trusted server's fields only the topmost run, the ones it wrote above its own hop's
// Received field (the end-to-end proof through Postfix and opendkim is
// tests/libs/mailingest/poller_dkim_test.cpp).
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

// As a mail reaches mail-ingest through Postfix with opendkim as its milter and Dovecot's
// LMTP: Dovecot's Received on top, the receiving server's fields, then Postfix's own
// Received for the hop that handed it the mail, then what the sender wrote.
std::vector<HeaderField> delivered(std::vector<HeaderField> server_fields, std::vector<HeaderField> sender_fields) {
  std::vector<HeaderField> h{{"Return-Path", "<anna@corp.example>"},
                             {"Received", "from mx.corp.example by mailstore with LMTP"}};
  for (auto& f : server_fields) h.push_back(std::move(f));
  h.push_back({"Received", "from [192.0.2.7] by mx.corp.example (Postfix) with ESMTP"});
  for (auto& f : sender_fields) h.push_back(std::move(f));
  h.push_back({"From", "anna@corp.example"});
  return h;
}

TEST(AuthenticationResults, OnlyTheTrustedServersFieldsAboveItsOwnReceivedCount) {
  // opendkim stamps an unsigned mail dkim=none; the forged spf=pass under its id, which
  // opendkim's default removal (fields with a DKIM result only) lets through, is below.
  const auto h = delivered({{"Authentication-Results", "mx.corp.example; dkim=none"}},
                           {{"Authentication-Results", "mx.corp.example; spf=pass smtp.mailfrom=anna@corp.example"},
                            {"Authentication-Results", "mx.corp.example; dmarc=pass header.from=corp.example"}});
  const auto trusted = trusted_results(h, "MX.corp.example");
  ASSERT_EQ(trusted, (std::vector<std::string>{"mx.corp.example; dkim=none"}));
  EXPECT_FALSE(sender_authenticated(trusted, "mx.corp.example", "corp.example"));
}

TEST(AuthenticationResults, EveryFilterOfTheTrustedServerCountsNotOnlyTheTopmostField) {
  // Each filter of the receiving server writes its own field with the same authserv-id.
  const auto h = delivered({{"Authentication-Results", "mx.corp.example; dkim=none"},
                            {"Authentication-Results", "other.example; dkim=pass header.d=corp.example"},
                            {"Authentication-Results", "mx.corp.example; spf=pass smtp.mailfrom=anna@corp.example"}},
                           {});
  const auto trusted = trusted_results(h, "mx.corp.example");
  ASSERT_EQ(trusted.size(), 2u);
  std::string how;
  EXPECT_TRUE(sender_authenticated(trusted, "mx.corp.example", "corp.example", &how));
  EXPECT_EQ(how, "spf smtp.mailfrom=corp.example");
}

TEST(AuthenticationResults, AnUnreadableFieldOfTheTrustedServerStillEndsTheSearch) {
  // The server's own field does not parse: the readable forgery below must not replace it.
  const auto h = delivered({{"Authentication-Results", "mx.corp.example; dkim=pass (unclosed"}},
                           {{"Authentication-Results", "mx.corp.example; dkim=pass header.d=corp.example"}});
  const auto trusted = trusted_results(h, "mx.corp.example");
  ASSERT_EQ(trusted.size(), 1u);
  EXPECT_FALSE(sender_authenticated(trusted, "mx.corp.example", "corp.example"));
}

TEST(AuthenticationResults, WithoutAFieldOfTheTrustedServerNothingCounts) {
  // A server that stamps only signed mail (opendkim without AlwaysAddARHeader) and does
  // not remove forgeries cannot be defended here: the forgery is the topmost trusted
  // field. What the rule guarantees is the empty answer when no trusted field exists.
  EXPECT_TRUE(trusted_results(delivered({{"Authentication-Results", "other.example; dkim=pass header.d=corp.example"}}, {}),
                              "mx.corp.example")
                  .empty());
  EXPECT_TRUE(trusted_results(delivered({}, {}), "mx.corp.example").empty());
  EXPECT_TRUE(trusted_results(delivered({{"Authentication-Results", "mx.corp.example; dkim=none"}}, {}), "").empty());
  // No Received at all (a mail written straight into the mailbox): every trusted field.
  EXPECT_EQ(trusted_results({{"Authentication-Results", "mx.corp.example; dkim=fail header.d=corp.example"},
                             {"Authentication-Results", "mx.corp.example; dkim=pass header.d=corp.example"}},
                            "mx.corp.example")
                .size(),
            2u);
}

}  // namespace
}  // namespace faxbridge::ingest
