// DESIGN: see signing.hpp. Keys are decoded on every signature (a few microseconds) so
// nothing secret outlives the call; the decoded bytes are wiped before returning.
#include "faxbridge/webhook/signing.hpp"

#include <sodium.h>

namespace faxbridge::webhook {
namespace {

bool init() { return sodium_init() >= 0; }

std::string b64(const unsigned char* data, std::size_t n) {
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// The bytes of "<prefix><base64>"; empty on a wrong prefix or base64.
std::vector<unsigned char> decode(std::string_view text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return {};
  const std::string_view b = text.substr(prefix.size());
  std::vector<unsigned char> out(b.size());
  std::size_t len = 0;
  if (sodium_base642bin(out.data(), out.size(), b.data(), b.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return {};
  }
  out.resize(len);
  return out;
}

Error bad_key(std::string_view what) {
  return Error(Code::k_internal, "The endpoint's " + std::string(what) +
                                     " is not in the Standard Webhooks form; rotate it (POST .../rotate-secret).");
}

}  // namespace

std::string signed_content(std::string_view message_id, std::int64_t timestamp, std::string_view body) {
  std::string out;
  out.reserve(message_id.size() + body.size() + 24);
  out.append(message_id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  return out;
}

Result<std::string> sign_v1(std::string_view secret, std::string_view message_id, std::int64_t timestamp,
                            std::string_view body) {
  if (!init()) return Error(Code::k_internal, "libsodium could not be initialised.");
  auto key = decode(secret, "whsec_");
  if (key.empty()) return bad_key("secret");
  const std::string content = signed_content(message_id, timestamp, body);
  crypto_auth_hmacsha256_state st;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(content.data()), content.size());
  crypto_auth_hmacsha256_final(&st, mac);
  sodium_memzero(key.data(), key.size());
  sodium_memzero(&st, sizeof st);
  return "v1," + b64(mac, sizeof mac);
}

Result<std::string> sign_v1a(std::string_view signing_key, std::string_view message_id, std::int64_t timestamp,
                             std::string_view body) {
  if (!init()) return Error(Code::k_internal, "libsodium could not be initialised.");
  auto key = decode(signing_key, "whsk_");
  if (key.size() != crypto_sign_SECRETKEYBYTES) return bad_key("signing key");
  const std::string content = signed_content(message_id, timestamp, body);
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(content.data()), content.size(),
                       key.data());
  sodium_memzero(key.data(), key.size());
  return "v1a," + b64(sig, sizeof sig);
}

std::string signature_header(const std::vector<std::string>& signatures) {
  std::string out;
  for (const auto& s : signatures) out += (out.empty() ? "" : " ") + s;
  return out;
}

Result<Ed25519Keys> ed25519_keys_from_seed(const std::vector<unsigned char>& seed) {
  if (!init()) return Error(Code::k_internal, "libsodium could not be initialised.");
  if (seed.size() != crypto_sign_SEEDBYTES) return Error(Code::k_internal, "An Ed25519 seed is 32 bytes.");
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, seed.data());
  Ed25519Keys k{"whpk_" + b64(pk, sizeof pk), "whsk_" + b64(sk, sizeof sk)};
  sodium_memzero(sk, sizeof sk);
  return k;
}

Result<Ed25519Keys> new_ed25519_keys() {
  if (!init()) return Error(Code::k_internal, "libsodium could not be initialised.");
  std::vector<unsigned char> seed(crypto_sign_SEEDBYTES);
  randombytes_buf(seed.data(), seed.size());
  auto k = ed25519_keys_from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return k;
}

}  // namespace faxbridge::webhook
