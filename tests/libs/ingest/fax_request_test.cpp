// parse_fax_request: mails as mail programs write them, turned into fax requests or
// refused with a stable code: recipients (To and Cc, display names, several fax
// domains, duplicates), subject and cover tags, body to cover note (plain preferred,
// HTML through gumbo, quotes and signature out), attachments in order, pictures that are
// not attachments left out, body-only mails, loop protection, Authentication-Results,
// and every refusal's sentence.
#include "faxbridge/ingest/fax_request.hpp"

#include <gtest/gtest.h>

namespace faxbridge::ingest {
namespace {

IngestSettings settings() {
  IngestSettings s;
  s.fax_domains = {"fax.example.com", "Fax.Example.NET"};
  s.own_addresses = {"faxbridge@example.com"};
  return s;
}

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0, line = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
    if (++line == 19) out += "\r\n", line = 0;
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out + "\r\n";
}

struct Part {
  std::string headers;  // without the trailing blank line
  std::string body;
};

Part attachment(const std::string& name, const std::string& type, const std::string& bytes,
                const std::string& disposition = "attachment") {
  return {"Content-Type: " + type + "; name=\"" + name + "\"\r\nContent-Disposition: " + disposition +
              "; filename=\"" + name + "\"\r\nContent-Transfer-Encoding: base64",
          base64(bytes)};
}
Part text_part(const std::string& text, const std::string& type = "text/plain; charset=utf-8") {
  return {"Content-Type: " + type, text};
}
Part multipart(const std::string& subtype, const std::vector<Part>& parts, const std::string& boundary) {
  std::string body;
  for (const auto& p : parts) body += "--" + boundary + "\r\n" + p.headers + "\r\n\r\n" + p.body + "\r\n";
  body += "--" + boundary + "--\r\n";
  return {"Content-Type: multipart/" + subtype + "; boundary=\"" + boundary + "\"", body};
}
std::string mail(const std::string& headers, const Part& top) {
  return "From: Anna Rossi <Anna@Corp.Example>\r\nMessage-ID: <m1@corp.example>\r\nMIME-Version: 1.0\r\n" + headers +
         top.headers + "\r\n\r\n" + top.body;
}
std::string simple(const std::string& headers, const std::string& body = "Please fax.\r\n") {
  return mail(headers, text_part(body));
}

TEST(FaxRequest, OneRecipientWithNameSubjectNoteAndAPdf) {
  const std::string pdf = "%PDF-1.4\n" + std::string(3000, 'p');
  const auto raw = mail("To: \"Mario Bianchi\" <+390212345678@fax.example.com>\r\nSubject: Contract\r\n",
                        multipart("mixed", {text_part("Here is the contract.\r\n\r\n-- \r\nAnna\r\n"),
                                            attachment("contract.pdf", "application/pdf", pdf)},
                                  "b1"));
  auto r = parse_fax_request(raw, settings());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->sender_email, "anna@corp.example");
  EXPECT_EQ(r->sender_name, "Anna Rossi");
  EXPECT_EQ(r->message_id, "m1@corp.example");
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_EQ(r->recipients[0].number, "+390212345678");
  EXPECT_EQ(r->recipients[0].name, "Mario Bianchi");
  EXPECT_EQ(r->recipients[0].address, "+390212345678@fax.example.com");
  EXPECT_EQ(r->subject, "Contract");
  EXPECT_EQ(r->cover, CoverChoice::kSenderDefault);
  EXPECT_EQ(r->note, "Here is the contract.\n");
  ASSERT_EQ(r->documents.size(), 1u);
  EXPECT_EQ(r->documents[0].filename, "contract.pdf");
  EXPECT_EQ(r->documents[0].media_type, "application/pdf");
  EXPECT_EQ(r->documents[0].bytes, pdf);
  EXPECT_FALSE(r->body_is_document);
}

TEST(FaxRequest, RecipientsInToAndCcAtEveryFaxDomainOnceEachOthersIgnored) {
  const auto raw = simple(
      "To: 403@fax.example.com, Colleague <colleague@corp.example>\r\n"
      "Cc: \"Studio Verdi\" <+41445551234@FAX.EXAMPLE.NET>, 403@fax.example.com,\r\n"
      " Team: +4930123456@fax.example.com, anna@corp.example;\r\n"
      "Subject: x\r\n");
  auto r = parse_fax_request(raw, settings());
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->recipients.size(), 3u);
  EXPECT_EQ(r->recipients[0].number, "403");
  EXPECT_EQ(r->recipients[1].number, "+41445551234");
  EXPECT_EQ(r->recipients[1].name, "Studio Verdi");
  EXPECT_EQ(r->recipients[1].address, "+41445551234@fax.example.net");
  EXPECT_EQ(r->recipients[2].number, "+4930123456");  // from inside the group
}

TEST(FaxRequest, AttachmentsComeInTheirOrder) {
  const std::string pdf = "%PDF-1.4 " + std::string(2000, 'a');
  const std::string docx = "PK\x03\x04" + std::string(5000, 'd');
  const std::string jpeg = "\xFF\xD8\xFF\xE0" + std::string(40000, 'j');
  const auto raw = mail("To: 403@fax.example.com\r\nSubject: three\r\n",
                        multipart("mixed",
                                  {text_part("Three documents."), attachment("a.pdf", "application/pdf", pdf),
                                   attachment("b.docx",
                                              "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                              docx),
                                   attachment("c.jpg", "image/jpeg", jpeg)},
                                  "b2"));
  auto r = parse_fax_request(raw, settings());
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->documents.size(), 3u);
  EXPECT_EQ(r->documents[0].filename, "a.pdf");
  EXPECT_EQ(r->documents[1].filename, "b.docx");
  EXPECT_EQ(r->documents[1].bytes, docx);
  EXPECT_EQ(r->documents[2].filename, "c.jpg");
  EXPECT_EQ(r->documents[2].bytes, jpeg);
  EXPECT_EQ(r->note, "Three documents.\n");
}

TEST(FaxRequest, ABodyOnlyMailFaxesItsBody) {
  auto r = parse_fax_request(
      simple("To: 403@fax.example.com\r\nSubject: Note\r\n",
             "Please call me back.\r\n\r\nOn Tue, Bob wrote:\r\n> old\r\n\r\n-- \r\nAnna\r\n"),
      settings());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->body_is_document);
  EXPECT_EQ(r->note, "");
  ASSERT_EQ(r->documents.size(), 1u);
  EXPECT_EQ(r->documents[0].filename, "message.txt");
  EXPECT_EQ(r->documents[0].media_type, "text/plain");
  EXPECT_EQ(r->documents[0].bytes, "Please call me back.\n");
}

TEST(FaxRequest, AnHtmlOnlyMailIsMadeTextByTheHtmlParser) {
  const auto raw = mail("To: 403@fax.example.com\r\nSubject: html\r\n",
                        text_part("<html><body><p>Hello&nbsp;<b>Mario</b>,</p><p>see you.</p>"
                                  "<blockquote>quoted</blockquote></body></html>",
                                  "text/html; charset=utf-8"));
  auto r = parse_fax_request(raw, settings());
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->documents.size(), 1u);
  EXPECT_EQ(r->documents[0].bytes, "Hello\xC2\xA0Mario,\n\nsee you.\n");
}

TEST(FaxRequest, AlternativePrefersThePlainText) {
  const auto raw = mail("To: 403@fax.example.com\r\nSubject: alt\r\n",
                        multipart("mixed",
                                  {multipart("alternative",
                                             {text_part("Plain words."), text_part("<p>HTML words.</p>", "text/html")},
                                             "alt"),
                                   attachment("a.pdf", "application/pdf", "%PDF-1.4 x")},
                                  "mix"));
  auto r = parse_fax_request(raw, settings());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->note, "Plain words.\n");
}

TEST(FaxRequest, CoverTagsInTheSubjectChooseOrSkipTheCoverPage) {
  auto named = parse_fax_request(simple("To: 403@fax.example.com\r\nSubject: [COVER:urgent] Invoice 12\r\n"), settings());
  ASSERT_TRUE(named) << named.error().to_string();
  EXPECT_EQ(named->cover, CoverChoice::kNamed);
  EXPECT_EQ(named->cover_name, "urgent");
  EXPECT_EQ(named->subject, "Invoice 12");
  auto none = parse_fax_request(simple("To: 403@fax.example.com\r\nSubject: Invoice [cover:none] 12\r\n"), settings());
  ASSERT_TRUE(none);
  EXPECT_EQ(none->cover, CoverChoice::kNone);
  EXPECT_EQ(none->subject, "Invoice 12");
  // Not tags: kept as written.
  auto plain = parse_fax_request(simple("To: 403@fax.example.com\r\nSubject: [cover:no way] [x] a]b\r\n"), settings());
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->cover, CoverChoice::kSenderDefault);
  EXPECT_EQ(plain->subject, "[cover:no way] [x] a]b");
}

TEST(FaxRequest, EncodedSubjectNamesAndLatin1BodiesBecomeUtf8) {
  const auto raw = mail("To: =?utf-8?q?Jos=C3=A9?= <403@fax.example.com>\r\nSubject: =?iso-8859-1?q?R=E9sum=E9?=\r\n",
                        multipart("mixed",
                                  {{"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit",
                                    "Caf\xE9"},
                                   attachment("a.pdf", "application/pdf", "%PDF-1.4 x")},
                                  "b"));
  auto r = parse_fax_request(raw, settings());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->subject, "R\xC3\xA9sum\xC3\xA9");
  EXPECT_EQ(r->recipients[0].name, "Jos\xC3\xA9");
  EXPECT_EQ(r->note, "Caf\xC3\xA9\n");
}

TEST(FaxRequest, PicturesThatAreNotAttachmentsAreLeftOut) {
  const std::string pixel = "GIF89a" + std::string(37, '\0');
  const std::string logo = "\x89PNG" + std::string(6000, 'l');
  const std::string photo = "\xFF\xD8\xFF" + std::string(60000, 'p');
  const std::string shown = "\x89PNG" + std::string(50000, 's');
  Part related_image = attachment("shown.png", "image/png", shown, "inline");
  related_image.headers += "\r\nContent-ID: <shown@x>";
  const auto raw = mail(
      "To: 403@fax.example.com\r\nSubject: pictures\r\n",
      multipart("mixed",
                {multipart("related",
                           {text_part("<p>Hi<img src=\"cid:shown@x\"></p>", "text/html"), related_image}, "rel"),
                 attachment("pixel.gif", "image/gif", pixel, "attachment"),
                 attachment("logo.png", "image/png", logo, "inline"),
                 attachment("photo.jpg", "image/jpeg", photo, "inline"),
                 attachment("scan.png", "image/png", logo, "attachment")},
                "mix"));
  auto r = parse_fax_request(raw, settings());
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->documents.size(), 2u);
  EXPECT_EQ(r->documents[0].filename, "photo.jpg");  // inline, but a picture of its own
  EXPECT_EQ(r->documents[1].filename, "scan.png");   // small, but attached on purpose
  EXPECT_EQ(r->note, "Hi\n");
}

TEST(FaxRequest, SignedMailsFaxTheirContentWithoutTheSignature) {
  const auto raw = mail(
      "To: 403@fax.example.com\r\nSubject: signed\r\n",
      multipart("signed",
                {multipart("mixed", {text_part("Signed."), attachment("a.pdf", "application/pdf", "%PDF-1.4 s")}, "in"),
                 attachment("smime.p7s", "application/pkcs7-signature", std::string(2000, 's'))},
                "sig"));
  auto r = parse_fax_request(raw, settings());
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->documents.size(), 1u);
  EXPECT_EQ(r->documents[0].filename, "a.pdf");
}

Error refused(const std::string& raw, const IngestSettings& s = settings()) {
  auto r = parse_fax_request(raw, s);
  EXPECT_FALSE(r) << "accepted: " << raw.substr(0, 300);
  return r ? Error() : r.error();
}

TEST(FaxRequest, AutomaticMailsAreNeitherFaxedNorAnswered) {
  const std::vector<std::string> headers = {
      "Auto-Submitted: auto-replied\r\n", "Auto-Submitted: auto-generated; owner-email=x@y\r\n",
      "X-Autoreply: yes\r\n",             "Precedence: bulk\r\n",
      "Precedence: list\r\n",             "Precedence: junk\r\n",
      "List-Id: <sales.corp.example>\r\n", "Return-Path: <>\r\n",
  };
  for (const auto& h : headers) {
    const Error e = refused(simple("To: 403@fax.example.com\r\nSubject: s\r\n" + h));
    EXPECT_EQ(e.code, Code::k_ingest_automatic_message) << h << e.to_string();
  }
  EXPECT_EQ(refused(simple("To: 403@fax.example.com\r\nSubject: Out of Office: back Monday\r\n")).code,
            Code::k_ingest_automatic_message);
  const std::string own = "From: Faxbridge <FAXBRIDGE@example.com>\r\nTo: 403@fax.example.com\r\nSubject: Fax sent\r\n\r\nok";
  EXPECT_EQ(refused(own).code, Code::k_ingest_automatic_message);
  const auto report =
      mail("To: 403@fax.example.com\r\nSubject: Undelivered\r\n",
           {"Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"",
            "--r\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--r--\r\n"});
  EXPECT_EQ(refused(report).code, Code::k_ingest_automatic_message);
  // "no" says a person wrote it (RFC 3834), and a normal Precedence is no list.
  auto person = parse_fax_request(simple("To: 403@fax.example.com\r\nSubject: s\r\nAuto-Submitted: no\r\n"
                                         "Precedence: normal\r\nReturn-Path: <anna@corp.example>\r\n"),
                                  settings());
  EXPECT_TRUE(person) << person.error().to_string();
}

TEST(FaxRequest, TheTrustedAuthenticationResultsMustVouchForTheSenderWhenRequired) {
  IngestSettings s = settings();
  s.require_authentication = true;
  s.trusted_authserv_id = "mx.corp.example";
  auto ok = parse_fax_request(
      simple("Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example\r\n"
             "To: 403@fax.example.com\r\nSubject: s\r\n"),
      s);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(ok->authenticated_by, "dkim header.d=corp.example");
  const Error forged = refused(simple("Authentication-Results: mx.corp.example; dkim=fail header.d=corp.example\r\n"
                                      "Authentication-Results: evil.example; dkim=pass header.d=corp.example\r\n"
                                      "To: 403@fax.example.com\r\nSubject: s\r\n"),
                               s);
  EXPECT_EQ(forged.code, Code::k_ingest_sender_not_authenticated);
  EXPECT_NE(forged.message.find("corp.example"), std::string::npos) << forged.message;
  const Error none = refused(simple("To: 403@fax.example.com\r\nSubject: s\r\n"), s);
  EXPECT_EQ(none.code, Code::k_ingest_sender_not_authenticated);
  // A pass under the trusted id below the trusted server's own hop was written before it
  // saw the mail: only its own stamp above that Received counts.
  const Error below = refused(simple("Authentication-Results: mx.corp.example; dkim=none\r\n"
                                     "Received: from [192.0.2.7] by mx.corp.example with ESMTP\r\n"
                                     "Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example\r\n"
                                     "To: 403@fax.example.com\r\nSubject: s\r\n"),
                              s);
  EXPECT_EQ(below.code, Code::k_ingest_sender_not_authenticated);
  // Not required: the same mail goes.
  EXPECT_TRUE(parse_fax_request(simple("To: 403@fax.example.com\r\nSubject: s\r\n"), settings()));
}

TEST(FaxRequest, RefusalsSayWhatIsWrongAndWhoToTell) {
  const Error bad = refused(simple("To: 403@fax.example.com, call-me@fax.example.com\r\nSubject: s\r\n"));
  EXPECT_EQ(bad.code, Code::k_ingest_no_valid_number);
  EXPECT_NE(bad.message.find("call-me@fax.example.com"), std::string::npos) << bad.message;
  EXPECT_EQ(bad.context.at(bad.context.size() - 1).second, "anna@corp.example");  // "sender"
  const Error nobody = refused(simple("To: bob@corp.example\r\nSubject: s\r\n"));
  EXPECT_EQ(nobody.code, Code::k_ingest_no_valid_number);
  EXPECT_NE(nobody.message.find("<number>@fax.example.com"), std::string::npos) << nobody.message;
  std::string many = "To: ";
  for (int i = 0; i < 51; ++i) many += (i ? ", " : "") + std::to_string(1000 + i) + "@fax.example.com";
  EXPECT_EQ(refused(simple(many + "\r\nSubject: s\r\n")).code, Code::k_ingest_too_many_recipients);
  const Error zip = refused(mail("To: 403@fax.example.com\r\nSubject: s\r\n",
                                 multipart("mixed", {text_part("x"), attachment("docs.zip", "application/zip", "PK")}, "z")));
  EXPECT_EQ(zip.code, Code::k_ingest_unsupported_attachment);
  EXPECT_NE(zip.message.find("docs.zip"), std::string::npos);
  const Error encrypted =
      refused(mail("To: 403@fax.example.com\r\nSubject: s\r\n",
                   {"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n"
                    "Content-Transfer-Encoding: base64",
                    base64("garbage")}));
  EXPECT_EQ(encrypted.code, Code::k_ingest_encrypted);
  EXPECT_EQ(refused(simple("To: 403@fax.example.com\r\nSubject: s\r\n", "\r\n  \r\n")).code,
            Code::k_ingest_nothing_to_send);
  EXPECT_EQ(refused("To: 403@fax.example.com\r\nSubject: s\r\n\r\nbody").code, Code::k_ingest_no_sender);
  IngestSettings small = settings();
  small.max_attachment_bytes = 1000;
  EXPECT_EQ(refused(mail("To: 403@fax.example.com\r\nSubject: s\r\n",
                         multipart("mixed", {text_part("x"), attachment("a.pdf", "application/pdf", std::string(1001, 'a'))},
                                   "s")),
                    small)
                .code,
            Code::k_ingest_too_large);
  small.max_attachments = 1;
  small.max_attachment_bytes = 1 << 20;
  EXPECT_EQ(refused(mail("To: 403@fax.example.com\r\nSubject: s\r\n",
                         multipart("mixed",
                                   {attachment("a.pdf", "application/pdf", "%PDF a"),
                                    attachment("b.pdf", "application/pdf", "%PDF b")},
                                   "s")),
                    small)
                .code,
            Code::k_ingest_too_many_attachments);
}

}  // namespace
}  // namespace faxbridge::ingest

namespace faxbridge::ingest {
namespace {

TEST(MessageKey, IsTheMessageIdElseADigestOfTheBytes) {
  EXPECT_EQ(message_key("From: a@b.example\r\nMessage-ID: <x1@b.example>\r\n\r\nbody"), "<x1@b.example>");
  // Other Received lines, same Message-ID: the same mail delivered twice.
  EXPECT_EQ(message_key("Received: from mx2\r\nMessage-ID: <x1@b.example>\r\n\r\nbody"), "<x1@b.example>");
  const std::string a = message_key("From: a@b.example\r\n\r\nbody one");
  EXPECT_EQ(a.rfind("sha256:", 0), 0u);
  EXPECT_EQ(a.size(), 7u + 64u);
  EXPECT_NE(a, message_key("From: a@b.example\r\n\r\nbody two"));
  EXPECT_EQ(a, message_key("From: a@b.example\r\n\r\nbody one"));
}

}  // namespace
}  // namespace faxbridge::ingest
