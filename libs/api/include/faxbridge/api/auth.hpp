#pragma once
// DESIGN: authentication is a hook, not storage. The server pulls the credentials a
// request carries (a bearer token, the session cookie, the CSRF header) into
// Credentials and, for a route that needs a caller, asks the Authenticator who that is.
// Users, sessions and tokens live in the database, so the implementation sits with
// web-api; this header is the contract it implements:
//   - no credentials at all         -> nullopt: the server answers 401 (api.unauthenticated)
//   - unknown/expired/revoked ones  -> Error api.unauthenticated (401, WWW-Authenticate)
//   - a cookie session on an unsafe method without the right CSRF token
//                                   -> Error api.csrf_invalid (403), see check_csrf()
//   - the store is down             -> its own Error (db.unavailable: 503)
//   - otherwise                     -> the Principal; the server compares its level with
//                                      the route's Access and answers 403 (api.forbidden)
// When a request carries both, the bearer token is what counts (an integration that
// also has a browser cookie is still the integration).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "faxbridge/core/result.hpp"

namespace faxbridge::api {

// The seed's permission levels.
inline constexpr int kLevelNone = 0;
inline constexpr int kLevelFaxUser = 2;
inline constexpr int kLevelAdministrator = 10;

// What a route needs from its caller.
struct Access {
  bool needs_caller = false;
  int min_level = 0;
};
inline constexpr Access kPublic{false, 0};
inline constexpr Access kSignedIn{true, kLevelNone};  // any account, even level 0 (its own /me)
inline constexpr Access kFaxUser{true, kLevelFaxUser};
inline constexpr Access kAdministrator{true, kLevelAdministrator};

enum class AuthMethod { kSession, kToken };

struct Principal {
  std::int64_t user_id = 0;
  std::string username;
  int level = kLevelNone;
  AuthMethod method = AuthMethod::kToken;
};

struct Credentials {
  std::string method;                         // the HTTP method
  std::optional<std::string> bearer_token;    // Authorization: Bearer <token>
  std::optional<std::string> session_cookie;  // the session cookie's value
  std::optional<std::string> csrf_token;      // the CSRF header's value
  std::string remote_address;

  bool empty() const { return !bearer_token && !session_cookie; }
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Called on a pool thread for every request to a non-public route: thread-safe.
  virtual Result<std::optional<Principal>> authenticate(const Credentials& credentials) = 0;
};

// GET, HEAD, OPTIONS and TRACE change nothing (RFC 9110 9.2.1); everything else needs CSRF
// protection when the browser sends the credentials by itself (a cookie).
bool is_safe_method(std::string_view method);

// The double-submit check an Authenticator applies to a cookie session: on an unsafe
// method the CSRF header must equal the session's token (compared in constant time).
// Bearer-token requests and safe methods pass: a cross-site page cannot set headers
// nor read the token.
Result<void> check_csrf(const Credentials& credentials, std::string_view session_csrf_token);

// Constant-time equality (the time depends on the length only, not on where bytes differ).
bool constant_time_equal(std::string_view a, std::string_view b);

// "Bearer abc" -> "abc" (scheme case-insensitive, RFC 9110 11.1); nullopt otherwise.
std::optional<std::string> bearer_token(std::string_view authorization);
// The value of cookie `name` in a Cookie header ("a=1; faxbridge_session=xyz").
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);

}  // namespace faxbridge::api
