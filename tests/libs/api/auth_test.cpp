#include "faxbridge/api/auth.hpp"

#include <gtest/gtest.h>

using namespace faxbridge;

TEST(BearerToken, TakesTheTokenOfABearerHeaderOnly) {
  EXPECT_EQ(api::bearer_token("Bearer abc.def"), "abc.def");
  EXPECT_EQ(api::bearer_token("bearer  abc "), "abc");
  EXPECT_FALSE(api::bearer_token("Basic dXNlcjpwYXNz"));
  EXPECT_FALSE(api::bearer_token("Bearer"));
  EXPECT_FALSE(api::bearer_token("Bearer a b"));
}

TEST(CookieValue, FindsTheNamedCookie) {
  EXPECT_EQ(api::cookie_value("a=1; faxbridge_session=xyz; b=2", "faxbridge_session"), "xyz");
  EXPECT_EQ(api::cookie_value("faxbridge_session=\"q\"", "faxbridge_session"), "q");
  EXPECT_FALSE(api::cookie_value("faxbridge_session_old=1", "faxbridge_session"));
  EXPECT_FALSE(api::cookie_value("", "faxbridge_session"));
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(api::constant_time_equal("abc", "abc"));
  EXPECT_FALSE(api::constant_time_equal("abc", "abd"));
  EXPECT_FALSE(api::constant_time_equal("abc", "abcd"));
  EXPECT_TRUE(api::constant_time_equal("", ""));
}

TEST(CheckCsrf, CookieSessionsNeedTheMatchingHeaderOnUnsafeMethods) {
  api::Credentials c;
  c.session_cookie = "s1";
  c.method = "POST";
  EXPECT_EQ(api::check_csrf(c, "tok").error().code, Code::k_api_csrf_invalid);  // no header
  c.csrf_token = "nope";
  EXPECT_FALSE(api::check_csrf(c, "tok"));
  c.csrf_token = "tok";
  EXPECT_TRUE(api::check_csrf(c, "tok"));
  c.csrf_token = "";
  EXPECT_FALSE(api::check_csrf(c, ""));  // an empty session token never matches
}

TEST(CheckCsrf, SafeMethodsAndBearerTokensPass) {
  api::Credentials get;
  get.session_cookie = "s1";
  get.method = "GET";
  EXPECT_TRUE(api::check_csrf(get, "tok"));
  api::Credentials token;
  token.bearer_token = "t";
  token.session_cookie = "s1";  // a browser cookie does not make it a cookie request
  token.method = "DELETE";
  EXPECT_TRUE(api::check_csrf(token, "tok"));
}
