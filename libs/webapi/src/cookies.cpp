// DESIGN: see cookies.hpp; the attributes are built once for both uses.
#include "faxbridge/webapi/cookies.hpp"

namespace faxbridge::webapi {
namespace {
std::string attributes(const CookieOptions& options) {
  return std::string("; Path=/; HttpOnly; SameSite=Lax") + (options.secure ? "; Secure" : "");
}
}  // namespace

std::string session_cookie(const CookieOptions& options, std::string_view secret) {
  return options.name + "=" + std::string(secret) + attributes(options);
}

std::string cleared_session_cookie(const CookieOptions& options) {
  // Max-Age=0 deletes it now (RFC 6265 5.2.2); the empty value covers old browsers.
  return options.name + "=" + attributes(options) + "; Max-Age=0";
}

}  // namespace faxbridge::webapi
