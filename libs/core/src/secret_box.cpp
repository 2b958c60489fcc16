// DESIGN: see secret_box.hpp. Everything here is libsodium: the cipher
// (crypto_secretbox_easy / _open_easy), the nonce (randombytes_buf), hex and base64
// (sodium_hex2bin, sodium_base642bin) and wiping the key (sodium_memzero).
#include "faxbridge/core/secret_box.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

namespace faxbridge::secret_box {
namespace {

void init_sodium() {
  // Idempotent and thread-safe; fails only when the system has no randomness source,
  // which no later call could work around either.
  if (sodium_init() < 0) std::abort();
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Exactly 32 bytes from `text` in the base64 variant given, or false.
bool decode_base64(std::string_view text, int variant, unsigned char* out) {
  std::size_t len = 0;
  const char* end = nullptr;
  std::vector<unsigned char> buf(text.size());
  if (sodium_base642bin(buf.data(), buf.size(), text.data(), text.size(), nullptr, &len, &end, variant) != 0) return false;
  if (end != text.data() + text.size() || len != Key::kBytes) return false;
  std::copy(buf.begin(), buf.begin() + Key::kBytes, out);
  sodium_memzero(buf.data(), buf.size());
  return true;
}

Error unreadable(const std::string& why) {
  return Error(Code::k_secret_unreadable,
               "A stored secret could not be opened with FAXBRIDGE_SECRET_KEY (" + why +
                   "): the key changed since it was stored, or the value was altered. Store the secret again.");
}

}  // namespace

Result<Key> Key::parse(std::string_view text) {
  init_sodium();
  text = trimmed(text);
  if (text.empty()) {
    return Error(Code::k_secret_key_missing,
                 "FAXBRIDGE_SECRET_KEY is not set: secret settings (the SMTP and mailbox passwords) are stored "
                 "encrypted under it. Set it to 32 random bytes as 64 hex digits (openssl rand -hex 32) in the "
                 "environment of web-api, the notifier, mail-ingest and the faxbridge tool; docs/configuration.md.");
  }
  Key key;
  std::size_t len = 0;
  const char* end = nullptr;
  const bool hex = text.size() == 2 * kBytes &&
                   sodium_hex2bin(key.bytes_.data(), kBytes, text.data(), text.size(), nullptr, &len, &end) == 0 &&
                   len == kBytes && end == text.data() + text.size();
  if (hex) return key;
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                      sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
    if (decode_base64(text, variant, key.bytes_.data())) return key;
  }
  return Error(Code::k_secret_key_invalid,
               "FAXBRIDGE_SECRET_KEY is not a key: it must be 32 bytes written as 64 hex digits (openssl rand -hex "
               "32) or as base64 (openssl rand -base64 32); got " + std::to_string(text.size()) + " characters.");
}

Key Key::generate() {
  init_sodium();
  Key key;
  randombytes_buf(key.bytes_.data(), kBytes);
  return key;
}

Key::Key(const Key& other) : bytes_(other.bytes_) {}
Key& Key::operator=(const Key& other) {
  bytes_ = other.bytes_;
  return *this;
}
Key::~Key() { sodium_memzero(bytes_.data(), bytes_.size()); }

const Result<Key>& environment_key() {
  // A function-local static: read once, thread-safe, and never before main() needs it.
  static const Result<Key> key = [] {
    const char* text = std::getenv(std::string(kKeyVariable).c_str());
    return Key::parse(text ? text : "");
  }();
  return key;
}

bool is_sealed(std::string_view text) { return text.substr(0, kSealedPrefix.size()) == kSealedPrefix; }

std::string seal(const Key& key, std::string_view plain) {
  init_sodium();
  std::vector<unsigned char> box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size());
  unsigned char* nonce = box.data();
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(box.data() + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(plain.data()),
                        plain.size(), nonce, key.data());
  std::string b64(sodium_base64_ENCODED_LEN(box.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), box.data(), box.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(b64.size() - 1);  // the terminating NUL sodium writes
  return std::string(kSealedPrefix) + b64;
}

Result<std::string> open(const Key& key, std::string_view sealed) {
  init_sodium();
  if (!is_sealed(sealed)) return unreadable("not in the sealed:v1: form");
  const std::string_view b64 = sealed.substr(kSealedPrefix.size());
  std::vector<unsigned char> box(b64.size());
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(box.data(), box.size(), b64.data(), b64.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != b64.data() + b64.size()) {
    return unreadable("not valid base64");
  }
  if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return unreadable("too short");
  const std::size_t cipher_len = len - crypto_secretbox_NONCEBYTES;
  std::string plain(cipher_len - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), box.data() + crypto_secretbox_NONCEBYTES,
                                 cipher_len, box.data(), key.data()) != 0) {
    return unreadable("its authentication failed");
  }
  return plain;
}

}  // namespace faxbridge::secret_box
