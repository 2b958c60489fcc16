// The one TSID / calling-number rule the page header and T.30 share.
#include "faxbridge/core/station_id.hpp"

#include <gtest/gtest.h>

namespace faxbridge::station {
namespace {

TEST(StationId, TheCompanyTsidWinsAndIsCutToTwentyCharacters) {
  EXPECT_EQ(tsid("ACME Corp", "+4930 123", "+4930 999"), "ACME Corp");
  EXPECT_EQ(tsid("A TSID much longer than twenty", "", ""), "A TSID much longer t");
}

TEST(StationId, WithoutACompanyTsidTheSendersNumberThenTheCompanyNumberInDigits) {
  EXPECT_EQ(tsid("", "+49 (30) 123-45", "+4930999"), "+493012345");
  EXPECT_EQ(tsid("", "", "+49 30 999"), "+4930999");
  EXPECT_EQ(tsid("", "ext.", "030 999"), "030999");  // a "number" without digits is none
  EXPECT_EQ(tsid("", "", "", "Faxbridge"), "Faxbridge");
  EXPECT_EQ(tsid("", "", ""), "");
}

TEST(StationId, TheCallingNumberKeepsALeadingPlusAndDigitsOnly) {
  EXPECT_EQ(number_only("+1 (555) 010-0"), "+15550100");
  EXPECT_EQ(number_only("0049+30"), "004930");
  EXPECT_EQ(number_only("+"), "");
  EXPECT_EQ(calling_number("", "+1 555"), "+1555");
  EXPECT_EQ(calling_number("+44 20", "+1 555"), "+4420");
}

}  // namespace
}  // namespace faxbridge::station
