#include "faxbridge/core/password.hpp"

#include <sodium.h>

namespace faxbridge::password {

Result<std::string> hash(std::string_view password) {
  if (sodium_init() < 0) return Error(Code::k_internal, "libsodium could not be initialised.");
  if (password.size() < kMinLength) {
    return Error(Code::k_auth_password_invalid,
                 "The password is too short; use at least " + std::to_string(kMinLength) +
                     " characters.");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Error(Code::k_internal, "Hashing the password ran out of memory.");
  }
  return std::string(out);
}

bool verify(std::string_view hash_text, std::string_view password) {
  if (sodium_init() < 0) return false;
  std::string h(hash_text);  // must be NUL-terminated
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

}  // namespace faxbridge::password
