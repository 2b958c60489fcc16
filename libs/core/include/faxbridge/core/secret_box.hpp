#pragma once
// DESIGN: sealed secrets. A credential Faxbridge must hand on in clear (the SMTP and
// mailbox passwords: the far server wants the password itself, so a hash will not do)
// is stored sealed: libsodium's crypto_secretbox_easy (XSalsa20-Poly1305) under a 32-byte
// key that lives outside the database, in the environment variable FAXBRIDGE_SECRET_KEY
// of the processes that write or read secrets. A copy of the database alone (a backup, a
// replica, a support dump) then holds no usable password.
//
// The sealed text is "sealed:v1:" + base64(nonce || MAC || ciphertext), with a fresh random
// 24-byte nonce per seal, so sealing one password twice gives two different texts. The
// version names the scheme, so a later one can be read beside it. Opening checks the
// MAC: a wrong key and a changed byte are the same failure, secret.unreadable.
//
// The key is written as 64 hex digits or as base64 (standard or URL-safe, padded or not)
// of 32 bytes; `openssl rand -hex 32` makes one. Key holds the bytes and wipes them when
// it goes.
#include <array>
#include <string>
#include <string_view>

#include "faxbridge/core/result.hpp"

namespace faxbridge::secret_box {

inline constexpr std::string_view kKeyVariable = "FAXBRIDGE_SECRET_KEY";
inline constexpr std::string_view kSealedPrefix = "sealed:v1:";

class Key final {
 public:
  static constexpr std::size_t kBytes = 32;
  // secret.key_missing when the text is empty, secret.key_invalid when it is not 32
  // bytes in hex or base64. Surrounding white space (a key file's newline) is ignored.
  static Result<Key> parse(std::string_view text);
  // 32 random bytes (tests, and `scripts/run`'s first start uses openssl instead).
  static Key generate();

  Key(const Key& other);
  Key& operator=(const Key& other);
  ~Key();

  const unsigned char* data() const { return bytes_.data(); }

 private:
  Key() = default;
  std::array<unsigned char, kBytes> bytes_{};
};

// The key in the process's environment, read and parsed once (the first call): what a
// service that reads or writes secrets without being handed a key uses. The one
// exception to config.hpp's "libraries never call getenv": every process that opens a
// secret (the notifier, mail-ingest, the CLI) needs this very key, read the same way;
// web-api, whose tests run with and without one, is handed it instead. Its error is
// secret.key_missing (unset or empty) or secret.key_invalid, with a sentence saying what
// to set.
const Result<Key>& environment_key();

// Whether the text is in the sealed form (it may still fail to open).
bool is_sealed(std::string_view text);
// The sealed text of `plain`.
std::string seal(const Key& key, std::string_view plain);
// The plain text; secret.unreadable when the text is not a sealed value this key opens
// (another key, a changed byte, a truncated value, an unknown version).
Result<std::string> open(const Key& key, std::string_view sealed);

}  // namespace faxbridge::secret_box
