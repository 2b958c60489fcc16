// Malformed mails (corpus/ and generated giants): each is refused with its stable code,
// or read despite its fault with a stated result; none crashes or hangs the parser.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "faxbridge/ingest/fax_request.hpp"

namespace faxbridge::ingest {
namespace {

IngestSettings settings() {
  IngestSettings s;
  s.fax_domains = {"fax.example.com"};
  return s;
}

std::string corpus(const std::string& name) {
  std::ifstream in(std::filesystem::path(FAXBRIDGE_INGEST_CORPUS) / name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kHead = "From: anna@corp.example\r\nTo: 403@fax.example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\n";

Code refusal(const std::string& raw, const IngestSettings& s = settings()) {
  const auto start = std::chrono::steady_clock::now();
  auto r = parse_fax_request(raw, s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(r) << "accepted";
  return r ? Code::k_internal : r.error().code;
}

TEST(MalformedMail, BrokenBoundariesAreRefusedAsUnreadable) {
  EXPECT_EQ(refusal(corpus("broken_boundary.eml")), Code::k_ingest_malformed);
}

TEST(MalformedMail, AMismatchedBoundaryIsRefusedNotGuessed) {
  // The declared boundary never appears but another does: vmime would take that one.
  EXPECT_EQ(refusal(corpus("mismatched_boundary.eml")), Code::k_ingest_malformed);
}

TEST(MalformedMail, EncryptedMailIsRefused) {
  EXPECT_EQ(refusal(corpus("pgp_encrypted.eml")), Code::k_ingest_encrypted);
}

TEST(MalformedMail, BinaryGarbageHasNoSender) {
  EXPECT_EQ(refusal(corpus("binary_garbage.eml")), Code::k_ingest_no_sender);
  EXPECT_EQ(refusal(""), Code::k_ingest_no_sender);
}

TEST(MalformedMail, MissingOrUnknownCharsetsStillGiveUtf8Text) {
  auto latin = parse_fax_request(corpus("missing_charset.eml"), settings());
  ASSERT_TRUE(latin) << latin.error().to_string();
  ASSERT_EQ(latin->documents.size(), 1u);
  // Not UTF-8, so read as Windows-1252 (0x80 is the euro sign there).
  EXPECT_EQ(latin->documents[0].bytes, "Caf\xC3\xA9 cr\xC3\xA8me \xE2\x82\xAC price\n");
  auto unknown = parse_fax_request(corpus("unknown_charset.eml"), settings());
  ASSERT_TRUE(unknown) << unknown.error().to_string();
  EXPECT_EQ(unknown->documents[0].bytes, "na\xC3\xAFve text\n");
}

TEST(MalformedMail, Base64GarbageIsPassedOnForTheConverterToRefuse) {
  auto r = parse_fax_request(corpus("base64_garbage.eml"), settings());
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->documents.size(), 1u);
  EXPECT_EQ(r->documents[0].filename, "x.pdf");
  EXPECT_LT(r->documents[0].bytes.size(), 40u);  // what the valid characters decode to, no more
}

TEST(MalformedMail, ATruncatedMailKeepsWhatArrived) {
  auto r = parse_fax_request(corpus("truncated.eml"), settings());
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->documents.size(), 1u);
  EXPECT_EQ(r->documents[0].bytes.rfind("the mail ends here", 0), 0u) << r->documents[0].bytes;
}

TEST(MalformedMail, AMegabyteHeaderLineIsRefused) {
  EXPECT_EQ(refusal(kHead + "X-Long: " + std::string(1 << 20, 'x') + "\r\n\r\nbody"), Code::k_ingest_malformed);
}

TEST(MalformedMail, TenThousandRecipientsAreTooMany) {
  std::string to = "To: ";
  for (int i = 0; i < 10000; ++i) to += (i ? ",\r\n " : "") + std::to_string(100000 + i) + "@fax.example.com";
  EXPECT_EQ(refusal("From: anna@corp.example\r\n" + to + "\r\nSubject: s\r\n\r\nbody"),
            Code::k_ingest_too_many_recipients);
}

TEST(MalformedMail, MessagesNestedTenDeepAreRefused) {
  std::string inner = "From: x@y.example\r\nSubject: level 0\r\n\r\ntext\r\n";
  for (int i = 1; i <= 10; ++i)
    inner = "From: x@y.example\r\nSubject: level " + std::to_string(i) +
            "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"L" + std::to_string(i) +
            "\"\r\n\r\n--L" + std::to_string(i) + "\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "\r\n--L" +
            std::to_string(i) + "--\r\n";
  EXPECT_EQ(refusal(kHead + "Content-Type: message/rfc822\r\n\r\n" + inner), Code::k_ingest_unsupported_attachment);
}

TEST(MalformedMail, MultipartsNestedDeeperThanTheLimitAreRefused) {
  auto nested = [](int depth) {
    std::string body = "Content-Type: text/plain\r\n\r\ndeep\r\n";
    for (int i = depth; i > 0; --i)
      body = "Content-Type: multipart/mixed; boundary=\"N" + std::to_string(i) + "\"\r\n\r\n--N" + std::to_string(i) +
             "\r\n" + body + "\r\n--N" + std::to_string(i) + "--\r\n";
    return body;
  };
  EXPECT_EQ(refusal(kHead + nested(10)), Code::k_ingest_malformed);
  // Thousands deep never reach vmime's recursive parser.
  EXPECT_EQ(refusal(kHead + nested(5000)), Code::k_ingest_malformed);
  // Within the limit it is a mail like any other.
  auto ok = parse_fax_request(kHead + nested(6), settings());
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(ok->documents[0].bytes, "deep\n");
}

TEST(MalformedMail, AMailOverTheSizeLimitIsRefusedUnparsed) {
  IngestSettings s = settings();
  s.max_message_bytes = 4096;
  EXPECT_EQ(refusal(kHead + "\r\n" + std::string(5000, 'a'), s), Code::k_ingest_too_large);
}

TEST(MalformedMail, AZipBombAttachmentIsRefused) {
  // A zip's local header and a huge declared size; the type alone refuses it, unread.
  const std::string zip = std::string("PK\x03\x04\x14\x00\x00\x00\x08\x00", 10) + std::string(200, '\0');
  std::string b64;
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i + 2 < zip.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(zip[i]) << 16) | (static_cast<unsigned char>(zip[i + 1]) << 8) |
                       static_cast<unsigned char>(zip[i + 2]);
    b64 += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  EXPECT_EQ(refusal(kHead + "Content-Type: multipart/mixed; boundary=\"z\"\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\n"
                            "see\r\n--z\r\nContent-Type: application/zip; name=\"bomb.zip\"\r\nContent-Disposition: "
                            "attachment; filename=\"bomb.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                    b64 + "\r\n--z--\r\n"),
            Code::k_ingest_unsupported_attachment);
}

}  // namespace
}  // namespace faxbridge::ingest
