// compose(): the bytes vmime builds, read back by an independent MIME reader (Python's
// email package, mime_reader.hpp) as a mail client would; parse_address()'s rules.
#include "faxbridge/mail/message.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "mime_reader.hpp"

namespace faxbridge::mail {
namespace {

using testing::read_as_client;
using testing::sha256_of;

OutgoingMessage fax_to_email() {
  OutgoingMessage m;
  m.from = {"fax@faxbridge.example.test", "Faxbridge"};
  m.to = {{"anna.rossi@example.test", "Anna Rossi"}};
  m.subject = "Fax da +39 02 1234567 — 3 pagine";
  m.text = "Hai ricevuto un fax di 3 pagine.\nRiferimento: 2026.00000042\n";
  m.html = "<p>Hai ricevuto un fax di <b>3</b> pagine.</p><img src=\"cid:page1@faxbridge\">";
  m.inline_images.push_back({"page-1.png", "image/png", std::string("\x89PNG\r\n\x1a\n-fake-", 14), "page1@faxbridge"});
  std::string pdf = "%PDF-1.4\n";
  for (int i = 0; i < 3000; ++i) pdf.push_back(static_cast<char>(i * 7));  // every byte value
  m.attachments.push_back({"fax 2026.00000042 è.pdf", "application/pdf", pdf, ""});
  m.message_id = "notification-42@faxbridge.example.test";
  return m;
}

TEST(ComposeTest, AClientSeesTheTextTheHtmlTheInlineImageAndTheAttachmentIntact) {
  const auto m = fax_to_email();
  auto bytes = compose(m);
  ASSERT_TRUE(bytes) << bytes.error().to_string();
  const auto seen = read_as_client(*bytes);
  ASSERT_TRUE(seen.is_object()) << *bytes;
  EXPECT_TRUE(seen["defects"].empty()) << seen.dump();
  const std::vector<std::string> structure = seen["structure"];
  EXPECT_EQ(structure, (std::vector<std::string>{"multipart/mixed", "  multipart/related", "    multipart/alternative",
                                                 "      text/plain", "      text/html", "    image/png",
                                                 "  application/pdf"}));
  const auto& parts = seen["parts"];
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0]["charset"], "utf-8");
  EXPECT_EQ(parts[0]["text"], m.text);
  EXPECT_EQ(parts[1]["text"], m.html);
  EXPECT_EQ(parts[2]["content_id"], "<page1@faxbridge>");
  EXPECT_EQ(parts[2]["disposition"], "inline");
  EXPECT_EQ(parts[2]["sha256"], sha256_of(m.inline_images[0].bytes));
  EXPECT_EQ(parts[3]["disposition"], "attachment");
  EXPECT_EQ(parts[3]["filename"], "fax 2026.00000042 è.pdf");
  EXPECT_EQ(parts[3]["size"], m.attachments[0].bytes.size());
  EXPECT_EQ(parts[3]["sha256"], sha256_of(m.attachments[0].bytes));
}

TEST(ComposeTest, HeadersCarryTheMessageIdTheEncodedSubjectAndAutoSubmitted) {
  auto m = fax_to_email();
  m.in_reply_to = "CAF123@mail.example.test";
  m.auto_submitted = "auto-replied";
  auto bytes = compose(m);
  ASSERT_TRUE(bytes) << bytes.error().to_string();
  const auto h = read_as_client(*bytes)["headers"];
  EXPECT_EQ(h["message-id"], "<notification-42@faxbridge.example.test>");
  EXPECT_EQ(h["subject"], m.subject);  // RFC 2047 decoded back to the UTF-8 we gave
  EXPECT_EQ(h["from"], "Faxbridge <fax@faxbridge.example.test>");
  EXPECT_EQ(h["to"], "Anna Rossi <anna.rossi@example.test>");
  EXPECT_EQ(h["auto-submitted"], "auto-replied");
  EXPECT_EQ(h["in-reply-to"], "<CAF123@mail.example.test>");
  EXPECT_EQ(h["references"], "<CAF123@mail.example.test>");
  EXPECT_EQ(h["mime-version"], "1.0");
  EXPECT_TRUE(h.contains("date"));
  // On the wire: CRLF only, no line over 998 characters (RFC 5322 2.1.1), 7-bit headers.
  const std::string& raw = *bytes;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n') ASSERT_TRUE(i > 0 && raw[i - 1] == '\r') << "bare LF at " << i;
  }
  std::size_t line = 0;
  std::size_t longest = 0;
  for (char c : raw) {
    line = c == '\n' ? 0 : line + 1;
    longest = std::max(longest, line);
  }
  EXPECT_LE(longest, 998u);
  const std::string head = raw.substr(0, raw.find("\r\n\r\n"));
  for (unsigned char c : head) ASSERT_LT(c, 128) << "8-bit byte in the header";
}

TEST(ComposeTest, TextOnlyIsASinglePartAndTheSameIdComesOutTheSameEachTime) {
  OutgoingMessage m;
  m.from = {"fax@faxbridge.example.test", ""};
  m.to = {{"bob@example.test", ""}};
  m.subject = "Your fax was sent";
  m.text = "Sent.\n";
  m.message_id = "receipt-7@faxbridge.example.test";
  auto a = compose(m), b = compose(m);
  ASSERT_TRUE(a && b);
  const auto seen = read_as_client(*a);
  EXPECT_EQ(seen["structure"].size(), 1u);
  EXPECT_EQ(seen["parts"][0]["type"], "text/plain");
  EXPECT_EQ(seen["headers"]["message-id"], read_as_client(*b)["headers"]["message-id"]);
  EXPECT_EQ(seen["headers"]["auto-submitted"], "auto-generated");
}

TEST(ComposeTest, WhatCannotBeAMailIsRefusedWithACode) {
  auto base = fax_to_email();
  auto expect = [](OutgoingMessage m, Code code) {
    auto r = compose(m);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, code) << r.error().to_string();
    EXPECT_FALSE(r.error().message.empty());
  };
  { auto m = base; m.to.clear(); expect(m, Code::k_mail_invalid_message); }
  { auto m = base; m.text.clear(); expect(m, Code::k_mail_invalid_message); }
  { auto m = base; m.message_id = "no-at-sign"; expect(m, Code::k_mail_invalid_message); }
  { auto m = base; m.message_id = "<a@b>"; expect(m, Code::k_mail_invalid_message); }
  { auto m = base; m.subject = "two\r\nBcc: victim@example.test"; expect(m, Code::k_mail_invalid_message); }
  { auto m = base; m.to[0].email = "not an address"; expect(m, Code::k_mail_invalid_address); }
  { auto m = base; m.to[0].name = "Anna\r\nBcc: x@example.test"; expect(m, Code::k_mail_invalid_address); }
  { auto m = base; m.from.email = "fax@"; expect(m, Code::k_mail_invalid_address); }
  { auto m = base; m.inline_images[0].content_id = "a b"; expect(m, Code::k_mail_invalid_message); }
}

// Base64 as another encoder writes it (Python's, LF-ended lines of 76, the form
// PostgreSQL's encode(..., 'base64') returns): what Part::base64 takes.
std::string python_base64(const std::string& bytes) {
  const auto path = std::filesystem::temp_directory_path() / ("b64-" + std::to_string(::getpid()));
  { std::ofstream(path, std::ios::binary) << bytes; }
  std::string text;
  const std::string command = "/usr/bin/python3 -c 'import base64,sys; sys.stdout.write(base64.encodebytes("
                              "open(sys.argv[1],\"rb\").read()).decode())' " + path.string();
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
    ::pclose(p);
  }
  std::filesystem::remove(path);
  return text;
}

TEST(ComposeTest, AFileGivenInBase64ArrivesAsTheSameBytesAndBrokenBase64IsRefused) {
  auto m = fax_to_email();
  const std::string pdf = m.attachments[0].bytes;
  m.attachments[0].bytes.clear();
  m.attachments[0].base64 = python_base64(pdf);
  ASSERT_GT(m.attachments[0].base64.size(), 4000u);
  auto bytes = compose(m);
  ASSERT_TRUE(bytes) << bytes.error().to_string();
  const auto seen = read_as_client(*bytes);
  EXPECT_TRUE(seen["defects"].empty()) << seen.dump();
  EXPECT_EQ(seen["parts"][3]["sha256"], sha256_of(pdf));
  // CRLF-ended lines, the attachment's in lines of 76 as RFC 2045 writes them.
  std::size_t start = 0, longest = 0, full_lines = 0;
  for (std::size_t nl = bytes->find('\n'); nl != std::string::npos; nl = bytes->find('\n', start)) {
    EXPECT_EQ((*bytes)[nl - 1], '\r');
    const std::size_t length = nl - 1 - start;
    longest = std::max(longest, length);
    if (length == 76) ++full_lines;
    start = nl + 1;
  }
  EXPECT_LE(longest, 998u);
  EXPECT_GE(full_lines, pdf.size() / 57);
  // Our own encoder says the same as Python's, line for line.
  std::string ours = base64_lines(pdf), theirs = python_base64(pdf);
  for (std::size_t at; (at = ours.find("\r\n")) != std::string::npos;) ours.replace(at, 2, "\n");
  EXPECT_EQ(ours + "\n", theirs);

  for (const std::string& broken : {std::string("AAAA\nAA!A\n"), std::string(77, 'A'), std::string("QUJD\r\nRA==\x01")}) {
    auto bad = fax_to_email();
    bad.attachments[0].base64 = broken;
    auto r = compose(bad);
    ASSERT_FALSE(r) << broken;
    EXPECT_EQ(r.error().code, Code::k_mail_invalid_message);
    EXPECT_NE(r.error().message.find("base64"), std::string::npos) << r.error().message;
  }
}

TEST(ParseAddressTest, TakesOrdinaryAddressesAndSaysWhatIsWrongWithTheOthers) {
  for (const char* ok : {"a@example.test", "anna.rossi+fax@mail.example.test", "o'brien@example.test",
                         "x@localhost", "user@[192.168.1.20]", "UPPER@Example.TEST", "a-b_c@sub-1.example.test"}) {
    EXPECT_TRUE(parse_address(ok)) << ok;
  }
  for (const char* bad : {"", "plain", "@example.test", "a@", "a@@example.test", "a b@example.test", ".a@example.test",
                          "a.@example.test", "a..b@example.test", "a@-example.test", "a@example-.test",
                          "a@example..test", "\"quoted\"@example.test", "a@[300.1.1.1]", "a@exa mple.test",
                          "a@example.test\r\n", "ànna@example.test", "a@example.test>", "<a@example.test>"}) {
    auto r = parse_address(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Code::k_mail_invalid_address);
    EXPECT_NE(r.error().message.find("not an email address"), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(parse_address(std::string(65, 'a') + "@example.test"));
  EXPECT_FALSE(parse_address("a@" + std::string(250, 'b') + ".test"));
}

}  // namespace
}  // namespace faxbridge::mail
