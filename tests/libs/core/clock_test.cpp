#include "faxbridge/core/clock.hpp"

#include <gtest/gtest.h>

namespace faxbridge {
namespace {

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock c(utc_time(2026, 12, 31, 23, 59, 59));
  EXPECT_EQ(utc_year(c.now()), 2026);
  EXPECT_EQ(iso8601_utc(c.now()), "2026-12-31T23:59:59.000Z");
  c.advance(std::chrono::seconds(1));
  EXPECT_EQ(utc_year(c.now()), 2027);
  c.set(utc_time(2030, 1, 2));
  EXPECT_EQ(iso8601_utc(c.now()), "2030-01-02T00:00:00.000Z");
}

TEST(SystemClock, IsCloseToTheSystemTime) {
  auto d = SystemClock::instance().now() - std::chrono::system_clock::now();
  EXPECT_LT(std::chrono::abs(d), std::chrono::seconds(1));
}

}  // namespace
}  // namespace faxbridge
