#pragma once
// Password hashing with Argon2id (libsodium's crypto_pwhash_str): the hash string
// carries its own salt and parameters, so it can be verified after a parameter change.
#include <string>
#include <string_view>

#include "faxbridge/core/result.hpp"

namespace faxbridge::password {

inline constexpr std::size_t kMinLength = 10;

// auth.password_invalid when too short; internal when libsodium fails (out of memory).
Result<std::string> hash(std::string_view password);
bool verify(std::string_view hash, std::string_view password);

}  // namespace faxbridge::password
