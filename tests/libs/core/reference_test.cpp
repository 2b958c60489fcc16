#include "faxbridge/core/reference.hpp"

#include <gtest/gtest.h>

namespace faxbridge {
namespace {

TEST(ReferenceNumber, FormatsYearDotEightDigits) {
  EXPECT_EQ(ReferenceNumber::make(2026, 42)->str(), "2026.00000042");
  EXPECT_EQ(ReferenceNumber::make(2027, 99'999'999)->str(), "2027.99999999");
}

TEST(ReferenceNumber, ParsesWhatItFormats) {
  auto r = ReferenceNumber::parse("2026.00000042");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->year, 2026);
  EXPECT_EQ(r->sequence, 42);
}

TEST(ReferenceNumber, RefusesMalformedText) {
  for (const char* bad : {"", "2026.42", "2026-00000042", "20a6.00000042", "2026.0000004x",
                          "2026.000000420", "2026.00000000"}) {
    auto r = ReferenceNumber::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Code::k_reference_invalid) << bad;
  }
}

TEST(ReferenceNumber, ReportsExhaustion) {
  auto r = ReferenceNumber::make(2026, 100'000'000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_reference_exhausted);
}

}  // namespace
}  // namespace faxbridge
