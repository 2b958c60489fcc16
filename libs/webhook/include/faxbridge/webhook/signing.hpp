#pragma once
// Standard Webhooks signatures (spec/standard-webhooks.md, "Signature scheme" and
// "Webhook headers"): the signed content is "{msg_id}.{timestamp}.{body}", the body's
// bytes exactly as sent. Symmetric: "v1," + base64 HMAC-SHA256 keyed with the
// base64-decoded part of the "whsec_..." secret after the prefix. Asymmetric: "v1a," +
// base64 Ed25519 signature with the "whsk_..." key; receivers verify with "whpk_..."
// (base64 of the 32-byte public key). Several signatures (a secret rotation) go
// space-separated into one webhook-signature header. libsodium does both.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/result.hpp"

namespace faxbridge::webhook {

std::string signed_content(std::string_view message_id, std::int64_t timestamp, std::string_view body);

// "v1,<base64>"; an error (internal) when the secret is not "whsec_" + base64.
Result<std::string> sign_v1(std::string_view whsec_secret, std::string_view message_id, std::int64_t timestamp,
                            std::string_view body);
// "v1a,<base64>"; an error when the key is not "whsk_" + base64 of 64 bytes.
Result<std::string> sign_v1a(std::string_view whsk_key, std::string_view message_id, std::int64_t timestamp,
                             std::string_view body);
// The webhook-signature header: the signatures, space-separated.
std::string signature_header(const std::vector<std::string>& signatures);

struct Ed25519Keys {
  std::string public_key;  // "whpk_" + base64 (32 bytes)
  std::string signing_key;  // "whsk_" + base64 (libsodium's 64-byte secret key: seed and public key)
};
Result<Ed25519Keys> new_ed25519_keys();
// From a 32-byte seed (tests: known vectors).
Result<Ed25519Keys> ed25519_keys_from_seed(const std::vector<unsigned char>& seed);

}  // namespace faxbridge::webhook
