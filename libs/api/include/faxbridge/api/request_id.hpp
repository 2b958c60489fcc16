#pragma once
// DESIGN: every request has an id that ties the client's view (the X-Request-Id
// response header, `request_id` in every problem) to the server's log lines. A client
// or proxy may send its own, so one id follows a request across systems; it is taken
// only when it is short and plain (it lands in logs and headers), otherwise replaced.
#include <string>
#include <string_view>

namespace faxbridge::api {

inline constexpr const char* kRequestIdHeader = "X-Request-Id";
inline constexpr std::size_t kMaxRequestIdLength = 128;

// 1..128 characters of A-Z a-z 0-9 and - _ . : (UUIDs, ULIDs, hex, base64url).
bool is_acceptable_request_id(std::string_view id);
// 32 random hex characters.
std::string new_request_id();
// The client's id when acceptable, a new one otherwise.
std::string request_id_for(std::string_view incoming);

}  // namespace faxbridge::api
