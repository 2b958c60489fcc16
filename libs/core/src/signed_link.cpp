// DESIGN: see signed_link.hpp. Everything cryptographic is libsodium: crypto_kdf for the
// sub-key, crypto_auth_hmacsha256 for the MAC, sodium_memcmp to compare, sodium_memzero
// to wipe the key when it goes.
#include "faxbridge/core/signed_link.hpp"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace faxbridge::signed_link {
namespace {

constexpr char kContext[crypto_kdf_CONTEXTBYTES + 1] = "FBXLINK1";  // 8 bytes, libsodium's rule
constexpr std::uint64_t kSubkeyId = 1;
static_assert(LinkKey::kBytes == crypto_auth_hmacsha256_KEYBYTES);
static_assert(secret_box::Key::kBytes == crypto_kdf_KEYBYTES);

void init_sodium() {
  if (sodium_init() < 0) std::abort();  // no randomness source: nothing here could work
}

Error invalid(const std::string& why) {
  return Error(Code::k_link_invalid,
               "This download link is not valid (" + why +
                   "): it was changed or cut when copied. Use the link exactly as the webhook delivered it, or "
                   "download the fax with the API (GET /api/v1/faxes/{id}/file, /api/v1/inbox/{id}/file).");
}

}  // namespace

LinkKey LinkKey::derive(const secret_box::Key& master) {
  init_sodium();
  LinkKey k;
  crypto_kdf_derive_from_key(k.bytes_, kBytes, kSubkeyId, kContext, master.data());
  return k;
}

LinkKey::LinkKey(const LinkKey& other) { std::memcpy(bytes_, other.bytes_, kBytes); }
LinkKey& LinkKey::operator=(const LinkKey& other) {
  std::memcpy(bytes_, other.bytes_, kBytes);
  return *this;
}
LinkKey::~LinkKey() { sodium_memzero(bytes_, kBytes); }

std::string canonical_text(const Link& link) {
  return "faxbridge-link-v1\n" + link.resource + "\n" + std::to_string(link.id) + "\n" + link.format + "\n" +
         std::to_string(link.expires);
}

std::string LinkKey::sign(const Link& link) const {
  init_sodium();
  const std::string text = canonical_text(link);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, bytes_, kBytes);
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  crypto_auth_hmacsha256_final(&st, mac);
  sodium_memzero(&st, sizeof st);
  std::string out(sodium_base64_ENCODED_LEN(sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

Result<void> LinkKey::check(const Link& link, std::string_view signature, std::int64_t now) const {
  init_sodium();
  unsigned char given[crypto_auth_hmacsha256_BYTES];
  std::size_t len = 0;
  const char* end = nullptr;
  if (signature.empty() ||
      sodium_base642bin(given, sizeof given, signature.data(), signature.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != signature.data() + signature.size() || len != sizeof given) {
    return invalid("its signature is not 43 characters of base64url");
  }
  // Recomputed in binary so the comparison covers the MAC's bytes, in constant time.
  const std::string expected_text = sign(link);
  unsigned char expected[crypto_auth_hmacsha256_BYTES];
  sodium_base642bin(expected, sizeof expected, expected_text.data(), expected_text.size(), nullptr, &len, nullptr,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  if (sodium_memcmp(given, expected, sizeof given) != 0) return invalid("its signature does not match it");
  if (now > link.expires) {
    return Error(Code::k_link_expired,
                 "This download link expired " + std::to_string(now - link.expires) +
                     " seconds ago (links last webhooks.link_lifetime_s from the delivery that carried them). "
                     "Ask for the webhook again (POST .../deliveries/{id}/redeliver mints fresh links) or download "
                     "the fax with the API.");
  }
  return ok();
}

std::string url(std::string_view public_base_url, const Link& link, const LinkKey& key) {
  while (!public_base_url.empty() && public_base_url.back() == '/') public_base_url.remove_suffix(1);
  // The signature is base64url and the other parts digits and fixed words: nothing to
  // percent-encode.
  return std::string(public_base_url) + "/api/v1/links/" + link.resource + "/" + std::to_string(link.id) +
         "/file?format=" + link.format + "&expires=" + std::to_string(link.expires) + "&signature=" + key.sign(link);
}

}  // namespace faxbridge::signed_link
