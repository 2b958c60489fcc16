// Sealed secrets (secret_box.hpp): a round trip, a fresh nonce per seal, and every way
// opening must fail as secret.unreadable (another key, a changed byte, a cut value, not
// sealed at all); key text in hex and base64, and what is not a key.
#include "faxbridge/core/secret_box.hpp"

#include <gtest/gtest.h>

#include <sodium.h>

namespace faxbridge::secret_box {
namespace {

constexpr const char* kHexKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

Key key_of(std::string_view text) {
  auto k = Key::parse(text);
  EXPECT_TRUE(k) << k.error().to_string();
  return k ? *k : Key::generate();
}

TEST(SecretBox, SealedTextOpensToThePlainTextAndNeverContainsIt) {
  const Key key = key_of(kHexKey);
  for (const std::string& plain : {std::string("s3cret!"), std::string(""), std::string(1024, 'p'),
                                  std::string("p\xc3\xa4ss\0word", 10)}) {
    const std::string sealed = seal(key, plain);
    EXPECT_TRUE(is_sealed(sealed));
    EXPECT_EQ(sealed.rfind("sealed:v1:", 0), 0u);
    if (plain.size() > 3) {
      EXPECT_EQ(sealed.find(plain), std::string::npos);
    }
    auto opened = open(key, sealed);
    ASSERT_TRUE(opened) << opened.error().to_string();
    EXPECT_EQ(*opened, plain);
  }
}

TEST(SecretBox, EachSealTakesAFreshNonce) {
  const Key key = key_of(kHexKey);
  EXPECT_NE(seal(key, "same"), seal(key, "same"));
}

TEST(SecretBox, AnotherKeyCannotOpenIt) {
  const std::string sealed = seal(key_of(kHexKey), "s3cret!");
  auto r = open(Key::generate(), sealed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_secret_unreadable);
  EXPECT_NE(r.error().message.find("Store the secret again"), std::string::npos) << r.error().message;
}

TEST(SecretBox, ATamperedOrCutValueIsUnreadable) {
  const Key key = key_of(kHexKey);
  const std::string sealed = seal(key, "s3cret!");
  // Flip one bit of each byte of the box in turn (decoded, re-encoded): every one is caught.
  const std::string b64 = sealed.substr(kSealedPrefix.size());
  std::vector<unsigned char> box(b64.size());
  std::size_t len = 0;
  ASSERT_EQ(sodium_base642bin(box.data(), box.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                              sodium_base64_VARIANT_ORIGINAL),
            0);
  for (std::size_t i = 0; i < len; ++i) {
    auto changed = box;
    changed[i] ^= 0x01;
    std::string text(sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(text.data(), text.size(), changed.data(), len, sodium_base64_VARIANT_ORIGINAL);
    text.resize(text.size() - 1);
    auto r = open(key, std::string(kSealedPrefix) + text);
    ASSERT_FALSE(r) << "byte " << i;
    EXPECT_EQ(r.error().code, Code::k_secret_unreadable);
  }
  for (const std::string& bad : {sealed.substr(0, sealed.size() - 8), std::string("sealed:v1:"),
                                std::string("sealed:v1:!!!not base64!!!"), std::string("s3cret!"),
                                std::string("sealed:v2:") + b64}) {
    auto r = open(key, bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Code::k_secret_unreadable) << bad;
  }
}

TEST(SecretBox, KeysAreHexOrBase64Of32Bytes) {
  const std::string sealed = seal(key_of(kHexKey), "x");
  // The same 32 bytes in each accepted spelling open what the hex key sealed.
  unsigned char raw[32];
  ASSERT_EQ(sodium_hex2bin(raw, sizeof raw, kHexKey, 64, nullptr, nullptr, nullptr), 0);
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                      sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
    std::string b64(sodium_base64_ENCODED_LEN(32, variant), '\0');
    sodium_bin2base64(b64.data(), b64.size(), raw, sizeof raw, variant);
    b64.resize(b64.size() - 1);
    auto opened = open(key_of(b64), sealed);
    ASSERT_TRUE(opened) << b64;
    EXPECT_EQ(*opened, "x");
  }
  // Upper-case hex and a key file's newline are fine.
  std::string upper = kHexKey;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(open(key_of(" " + upper + "\n"), sealed));

  auto missing = Key::parse("  \n");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::k_secret_key_missing);
  EXPECT_NE(missing.error().message.find("openssl rand -hex 32"), std::string::npos);
  for (const std::string& bad : {std::string(63, 'a'), std::string(65, 'a'), std::string(64, 'g'),
                                std::string("c2hvcnQ="), std::string("a password, not a key"),
                                std::string(kHexKey) + "00"}) {
    auto r = Key::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Code::k_secret_key_invalid) << bad;
    EXPECT_EQ(r.error().message.find(bad), std::string::npos) << "a bad key is never echoed";
  }
}

}  // namespace
}  // namespace faxbridge::secret_box
