// DESIGN: see request_id.hpp. Ids come from libsodium's CSPRNG: they are not secrets,
// but a predictable id would let one client's id collide with another's on purpose.
#include "faxbridge/api/request_id.hpp"

#include <algorithm>

#include <sodium.h>

namespace faxbridge::api {

bool is_acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':';
  });
}

std::string new_request_id() {
  static const bool initialised = sodium_init() >= 0;
  (void)initialised;  // sodium_init is idempotent; randombytes works after it
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (std::size_t i = 0; i < sizeof bytes; ++i) {
    id[2 * i] = kHex[bytes[i] >> 4];
    id[2 * i + 1] = kHex[bytes[i] & 0x0f];
  }
  return id;
}

std::string request_id_for(std::string_view incoming) {
  return is_acceptable_request_id(incoming) ? std::string(incoming) : new_request_id();
}

}  // namespace faxbridge::api
