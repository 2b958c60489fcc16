#include "faxbridge/core/phone.hpp"

#include <gtest/gtest.h>

namespace faxbridge {
namespace {

const DialPlan kUk{"44", "00", "0"};

std::string canon(std::string_view raw, const DialPlan& plan = {}) {
  auto r = normalize_phone(raw, plan);
  return r ? r->canonical : "error:" + std::string(r.error().name());
}

TEST(NormalizePhone, StripsVisualSeparators) {
  EXPECT_EQ(canon("+39 (02) 978-65.403"), "+390297865403");
  EXPECT_EQ(canon(" 403 "), "403");
  EXPECT_EQ(canon("[02]/97865\t403"), "0297865403");
}

TEST(NormalizePhone, InternationalPrefixBecomesPlus) {
  EXPECT_EQ(canon("0044 20 7946 0000"), "+442079460000");
  EXPECT_EQ(canon("011 1 212 555 0100", DialPlan{"1", "011", "1"}), "+12125550100");
}

TEST(NormalizePhone, NationalNumbersUseTheHomeCountry) {
  EXPECT_EQ(canon("020 7946 0000", kUk), "+442079460000");
  EXPECT_EQ(canon("020 7946 0000"), "02079460000");  // no home country: kept as dialled
  EXPECT_EQ(canon("403", kUk), "403");               // an extension stays local
  auto r = normalize_phone("403", kUk);
  EXPECT_EQ(r->kind, NumberKind::kLocal);
}

TEST(NormalizePhone, RefusesLettersWithASentence) {
  auto r = normalize_phone("1-800-FAX-ME");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_phone_invalid);
  EXPECT_NE(r.error().message.find("contains the letter 'F'"), std::string::npos);
}

TEST(NormalizePhone, RefusesBadInput) {
  EXPECT_EQ(canon(""), "error:phone.empty");
  EXPECT_EQ(canon(" - ( ) "), "error:phone.empty");
  EXPECT_EQ(canon("12+34"), "error:phone.invalid");
  EXPECT_EQ(canon("++39"), "error:phone.invalid");
  EXPECT_EQ(canon("403;drop"), "error:phone.invalid");
  EXPECT_EQ(canon("00"), "error:phone.invalid");
  EXPECT_EQ(canon(std::string("40\x01", 3)), "error:phone.invalid");
  EXPECT_EQ(canon("123456789012345678901"), "error:phone.too_long");
  EXPECT_EQ(canon("12345678901234567890"), "12345678901234567890");
}

TEST(Dialable, UsesNationalPrefixAtHomeAndInternationalAbroad) {
  EXPECT_EQ(dialable(*normalize_phone("+442079460000"), kUk), "02079460000");
  EXPECT_EQ(dialable(*normalize_phone("+390297865403"), kUk), "00390297865403");
  EXPECT_EQ(dialable(*normalize_phone("403"), kUk), "403");
}

}  // namespace
}  // namespace faxbridge
