#include "faxbridge/api/throttle.hpp"

#include <gtest/gtest.h>

using namespace faxbridge;
using namespace std::chrono_literals;

namespace {
ManualClock clock_at_noon() { return ManualClock(utc_time(2026, 3, 1, 12)); }
}  // namespace

TEST(Throttle, AllowsTheBurstThenSaysHowLongToWait) {
  auto clock = clock_at_noon();
  api::Throttle t(clock, {.burst = 3, .refill_every = 60s});
  EXPECT_TRUE(t.attempt("account:alice").allowed);
  EXPECT_TRUE(t.attempt("account:alice").allowed);
  EXPECT_TRUE(t.attempt("account:alice").allowed);
  auto refused = t.attempt("account:alice");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 60s);
  clock.advance(45s);
  EXPECT_EQ(t.attempt("account:alice").retry_after, 15s);
}

TEST(Throttle, WaitingTheAnnouncedTimeLetsTheNextAttemptThrough) {
  auto clock = clock_at_noon();
  api::Throttle t(clock, {.burst = 1, .refill_every = 30s});
  EXPECT_TRUE(t.attempt("k").allowed);
  auto refused = t.attempt("k");
  ASSERT_FALSE(refused.allowed);
  clock.advance(refused.retry_after);
  EXPECT_TRUE(t.attempt("k").allowed);
  EXPECT_FALSE(t.attempt("k").allowed);
}

TEST(Throttle, KeysAreIndependentAndResetForgetsOne) {
  auto clock = clock_at_noon();
  api::Throttle t(clock, {.burst = 1, .refill_every = 60s});
  EXPECT_TRUE(t.attempt("account:alice").allowed);
  EXPECT_FALSE(t.attempt("account:alice").allowed);
  EXPECT_TRUE(t.attempt("address:192.0.2.7").allowed);
  t.reset("account:alice");
  EXPECT_TRUE(t.attempt("account:alice").allowed);
}

TEST(Throttle, RefillsNoFurtherThanTheBurst) {
  auto clock = clock_at_noon();
  api::Throttle t(clock, {.burst = 2, .refill_every = 10s});
  EXPECT_TRUE(t.attempt("k").allowed);
  clock.advance(24h);
  EXPECT_TRUE(t.attempt("k").allowed);
  EXPECT_TRUE(t.attempt("k").allowed);
  EXPECT_FALSE(t.attempt("k").allowed);
}

TEST(Throttle, AClockThatStepsBackGivesNothingBack) {
  auto clock = clock_at_noon();
  api::Throttle t(clock, {.burst = 1, .refill_every = 60s});
  EXPECT_TRUE(t.attempt("k").allowed);
  clock.advance(-1h);
  EXPECT_FALSE(t.attempt("k").allowed);
}

TEST(Throttle, TheTableStaysBoundedAndKeepsThrottledKeysOverRefilledOnes) {
  auto clock = clock_at_noon();
  api::Throttle t(clock, {.burst = 1, .refill_every = 60s}, /*max_keys=*/3);
  EXPECT_TRUE(t.attempt("hot").allowed);  // now throttled for 60 s
  EXPECT_TRUE(t.attempt("a").allowed);
  clock.advance(61s);                      // "hot" and "a" are full again...
  EXPECT_TRUE(t.attempt("hot").allowed);   // ...and "hot" spends its token at once
  EXPECT_TRUE(t.attempt("b").allowed);
  EXPECT_TRUE(t.attempt("c").allowed);     // full table: "a" (refilled) is dropped
  EXPECT_LE(t.tracked_keys(), 3u);
  EXPECT_FALSE(t.attempt("hot").allowed);  // still remembered
}
