// DESIGN: the pure pieces of authentication (header parsing, the CSRF rule, a
// constant-time compare) so that the Authenticator web-api writes holds only storage.
#include "faxbridge/api/auth.hpp"

#include <cctype>

namespace faxbridge::api {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}
}  // namespace

bool is_safe_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  // volatile keeps the compiler from turning the loop into an early-exit memcmp.
  const volatile unsigned char* pa = reinterpret_cast<const unsigned char*>(a.data());
  const volatile unsigned char* pb = reinterpret_cast<const unsigned char*>(b.data());
  for (std::size_t i = 0; i < a.size(); ++i) diff = static_cast<unsigned char>(diff | (pa[i] ^ pb[i]));
  return diff == 0;
}

Result<void> check_csrf(const Credentials& credentials, std::string_view session_csrf_token) {
  if (credentials.bearer_token || !credentials.session_cookie || is_safe_method(credentials.method)) {
    return ok();
  }
  if (!credentials.csrf_token || credentials.csrf_token->empty() || session_csrf_token.empty() ||
      !constant_time_equal(*credentials.csrf_token, session_csrf_token)) {
    return Error(Code::k_api_csrf_invalid,
                 "This change needs the X-CSRF-Token header of your session; reload the page and try again.");
  }
  return ok();
}

std::optional<std::string> bearer_token(std::string_view authorization) {
  authorization = trim(authorization);
  const auto space = authorization.find(' ');
  if (space == std::string_view::npos || !iequals(authorization.substr(0, space), "Bearer")) return std::nullopt;
  const auto token = trim(authorization.substr(space + 1));
  if (token.empty() || token.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
  return std::string(token);
}

std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name) {
  while (!cookie_header.empty()) {
    const auto semi = cookie_header.find(';');
    const auto pair = trim(cookie_header.substr(0, semi));
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
      auto value = trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      return std::string(value);
    }
    if (semi == std::string_view::npos) break;
    cookie_header.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

}  // namespace faxbridge::api
