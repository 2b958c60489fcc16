#pragma once
// DESIGN: the session cookie's attributes, in one place so that setting and clearing
// it can never disagree (a cookie is replaced only by one with the same name and path).
//   HttpOnly  page scripts cannot read it, so an injected script cannot steal the session;
//   SameSite=Lax  other sites' pages do not send it on their POSTs (CSRF, first line; the
//             X-CSRF-Token header is the second), yet a link from a mail still lands
//             signed in;
//   Secure    sent back only over TLS; set when the API itself speaks TLS (over plain
//             HTTP a browser would refuse to store it);
//   Path=/    the web UI and the API share it.
// No Expires/Max-Age: a browser session cookie, while the server enforces the session's
// idle and absolute limits (db/auth.hpp), so closing the browser also signs out.
#include <string>
#include <string_view>

namespace faxbridge::webapi {

struct CookieOptions {
  std::string name = "faxbridge_session";
  bool secure = false;
};

// The Set-Cookie value that stores the session secret.
std::string session_cookie(const CookieOptions& options, std::string_view secret);
// The Set-Cookie value that makes the browser forget it (sign-out).
std::string cleared_session_cookie(const CookieOptions& options);

}  // namespace faxbridge::webapi
