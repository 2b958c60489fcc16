// Signed download links without a server (libs/core/src/signed_link.cpp): a link checks
// with the key that signed it until it expires, and changing any part of it, its
// signature, or the key refuses it; the link key is a sub-key, not the secret key.
#include "faxbridge/core/signed_link.hpp"

#include <gtest/gtest.h>

#include <sodium.h>

namespace faxbridge::signed_link {
namespace {

constexpr std::int64_t kNow = 1796212800;

const secret_box::Key& master() {
  static const auto key = secret_box::Key::parse("5e0c3b2a19f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5");
  return *key;
}

Link fax_link() { return Link{std::string(kFaxes), 12, "pdf", kNow + 3600}; }

TEST(SignedLink, AGenuineLinkChecksUntilItExpiresThenIsExpired) {
  const auto key = LinkKey::derive(master());
  const Link l = fax_link();
  const std::string sig = key.sign(l);
  EXPECT_EQ(sig.size(), 43u) << "base64url of 32 bytes, no padding";
  EXPECT_EQ(sig.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
  EXPECT_TRUE(key.check(l, sig, kNow));
  EXPECT_TRUE(key.check(l, sig, l.expires)) << "valid through its last second";
  auto late = key.check(l, sig, l.expires + 1);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Code::k_link_expired);
  EXPECT_NE(late.error().message.find("expired 1 seconds ago"), std::string::npos) << late.error().message;
}

TEST(SignedLink, ChangingAnyPartOrTheSignatureIsInvalidNotExpired) {
  const auto key = LinkKey::derive(master());
  const Link l = fax_link();
  const std::string sig = key.sign(l);
  std::vector<Link> changed(5, l);
  changed[0].id = 13;
  changed[1].format = "tiff";
  changed[2].expires += 86400;
  changed[3].resource = std::string(kInbox);  // the received fax with the same number
  changed[4].expires -= 7200;                  // even an earlier (expired) expiry: not "expired"
  for (const auto& c : changed) {
    auto r = key.check(c, sig, kNow);
    ASSERT_FALSE(r) << canonical_text(c);
    EXPECT_EQ(r.error().code, Code::k_link_invalid) << canonical_text(c);
  }
  std::string flipped = sig;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  for (const std::string& s : {flipped, sig.substr(0, 42), sig + "A", std::string(), std::string(43, '*'), sig + "="}) {
    auto r = key.check(l, s, kNow);
    ASSERT_FALSE(r) << s;
    EXPECT_EQ(r.error().code, Code::k_link_invalid) << s;
  }
}

TEST(SignedLink, AnotherServersKeyAndTheRawKeyDoNotSign) {
  const auto key = LinkKey::derive(master());
  const auto other = LinkKey::derive(secret_box::Key::generate());
  const Link l = fax_link();
  EXPECT_FALSE(other.check(l, key.sign(l), kNow));
  // The link key is derived: an HMAC under FAXBRIDGE_SECRET_KEY itself is not a signature.
  const std::string text = canonical_text(l);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(text.data()), text.size(), master().data());
  char b64[sodium_base64_ENCODED_LEN(sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(b64, sizeof b64, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  EXPECT_NE(std::string(b64), key.sign(l));
  EXPECT_FALSE(key.check(l, b64, kNow));
}

TEST(SignedLink, TheUrlCarriesEveryPartUnderTheBase) {
  const auto key = LinkKey::derive(master());
  const Link l = fax_link();
  EXPECT_EQ(url("https://fax.example.com/", l, key),
            "https://fax.example.com/api/v1/links/faxes/12/file?format=pdf&expires=" + std::to_string(l.expires) +
                "&signature=" + key.sign(l));
  EXPECT_EQ(url("http://10.0.0.5:8080/faxbridge", l, key).rfind("http://10.0.0.5:8080/faxbridge/api/v1/links/", 0), 0u);
}

}  // namespace
}  // namespace faxbridge::signed_link
