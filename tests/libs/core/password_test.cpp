#include "faxbridge/core/password.hpp"

#include <gtest/gtest.h>

namespace faxbridge {
namespace {

TEST(Password, HashesWithArgon2idAndVerifies) {
  auto h = password::hash("correct horse battery");
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u) << *h;
  EXPECT_TRUE(password::verify(*h, "correct horse battery"));
  EXPECT_FALSE(password::verify(*h, "correct horse battery!"));
  EXPECT_FALSE(password::verify("not a hash", "x"));
}

TEST(Password, RefusesShortPasswords) {
  auto h = password::hash("short");
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Code::k_auth_password_invalid);
}

}  // namespace
}  // namespace faxbridge
