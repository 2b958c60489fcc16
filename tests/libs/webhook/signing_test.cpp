// Standard Webhooks signatures against vectors computed by an independent
// implementation (Python's hmac/hashlib/base64 and PyNaCl, see the comment of each).
#include "faxbridge/webhook/signing.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace faxbridge::webhook {
namespace {

// python3: key = b"faxbridge-webhook-test-key-32byt";
//   base64.b64encode(hmac.new(key, b"msg_42.1764662400." + body, hashlib.sha256).digest())
constexpr const char* kSecret = "whsec_ZmF4YnJpZGdlLXdlYmhvb2stdGVzdC1rZXktMzJieXQ=";
constexpr const char* kOldSecret = "whsec_YW5vdGhlci1zZWNyZXQtZm9yLXJvdGF0aW9uLTAwMDE=";
constexpr const char* kBody = R"({"data":{"id":7},"timestamp":"2025-12-02T08:00:00Z","type":"fax.sent"})";
constexpr std::int64_t kTimestamp = 1764662400;

TEST(Signing, SignedContentIsIdTimestampAndBodyJoinedByFullStops) {
  EXPECT_EQ(signed_content("msg_1", 1700000000, "{}"), "msg_1.1700000000.{}");
}

TEST(Signing, V1MatchesPythonsHmacSha256) {
  auto s = sign_v1(kSecret, "msg_42", kTimestamp, kBody);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(*s, "v1,mgSQf+88kOSHRJ4N054XygN3+BP3I8TZx039/2UD4Zs=");
  auto old = sign_v1(kOldSecret, "msg_42", kTimestamp, kBody);
  ASSERT_TRUE(old);
  EXPECT_EQ(*old, "v1,wTEZ/dDMPUGIpXXyQ3Nv/XQJTGq6j1vsBJHMLxlOz2w=");
  EXPECT_EQ(signature_header({*s, *old}),
            "v1,mgSQf+88kOSHRJ4N054XygN3+BP3I8TZx039/2UD4Zs= v1,wTEZ/dDMPUGIpXXyQ3Nv/XQJTGq6j1vsBJHMLxlOz2w=");
}

TEST(Signing, AnyChangeOfIdTimestampOrBodyChangesTheSignature) {
  const auto base = *sign_v1(kSecret, "msg_42", kTimestamp, kBody);
  EXPECT_NE(*sign_v1(kSecret, "msg_43", kTimestamp, kBody), base);
  EXPECT_NE(*sign_v1(kSecret, "msg_42", kTimestamp + 1, kBody), base);
  EXPECT_NE(*sign_v1(kSecret, "msg_42", kTimestamp, std::string(kBody) + " "), base);
}

TEST(Signing, ASecretNotInTheStandardFormIsAnError) {
  EXPECT_FALSE(sign_v1("ZmF4YnJpZGdl", "msg_1", 1, "{}")) << "no whsec_ prefix";
  EXPECT_FALSE(sign_v1("whsec_not base64!", "msg_1", 1, "{}"));
  EXPECT_FALSE(sign_v1a("whsk_AAAA", "msg_1", 1, "{}")) << "too short for an Ed25519 key";
}

// python3: sk = nacl.signing.SigningKey(bytes(range(32)));
//   "whpk_" + b64(sk.verify_key), "v1a," + b64(sk.sign(content).signature)
TEST(Signing, V1aMatchesPyNaClsEd25519) {
  std::vector<unsigned char> seed(32);
  std::iota(seed.begin(), seed.end(), 0);
  auto keys = ed25519_keys_from_seed(seed);
  ASSERT_TRUE(keys) << keys.error().to_string();
  EXPECT_EQ(keys->public_key, "whpk_A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=");
  EXPECT_EQ(keys->signing_key,
            "whsk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8DoQe/884Qvh1w3RjnS8CZZ+TWMJulDV8d3IZkElUxuA==");
  auto s = sign_v1a(keys->signing_key, "msg_42", kTimestamp, kBody);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(*s, "v1a,vicnN51OF18JJ3Aq2IvgMWwFNpYU7A56lr+RRqwXsu3PRZNn2sMzlLGBc2Mj+V4M0xgpMMowVyJpimSA9ui+DQ==");
}

TEST(Signing, NewKeyPairsDiffer) {
  auto a = new_ed25519_keys(), b = new_ed25519_keys();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->public_key, b->public_key);
  EXPECT_EQ(a->public_key.rfind("whpk_", 0), 0u);
  EXPECT_EQ(a->signing_key.rfind("whsk_", 0), 0u);
}

}  // namespace
}  // namespace faxbridge::webhook
