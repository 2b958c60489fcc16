// The session cookie's attributes: set and cleared with the same name and path, Secure
// exactly when asked (TLS), never readable by page scripts.
#include <gtest/gtest.h>

#include "faxbridge/webapi/cookies.hpp"

namespace faxbridge::webapi {
namespace {

TEST(Cookies, TheSessionCookieIsHttpOnlyLaxAndSecureOnlyOverTls) {
  EXPECT_EQ(session_cookie({"faxbridge_session", false}, "abc"),
            "faxbridge_session=abc; Path=/; HttpOnly; SameSite=Lax");
  EXPECT_EQ(session_cookie({"faxbridge_session", true}, "abc"),
            "faxbridge_session=abc; Path=/; HttpOnly; SameSite=Lax; Secure");
}

TEST(Cookies, ClearingUsesTheSameNameAndPathAndEndsItNow) {
  EXPECT_EQ(cleared_session_cookie({"sid", false}), "sid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
  EXPECT_EQ(cleared_session_cookie({"sid", true}), "sid=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0");
}

}  // namespace
}  // namespace faxbridge::webapi
