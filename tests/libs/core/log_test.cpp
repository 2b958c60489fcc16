#include "faxbridge/core/log.hpp"

#include <gtest/gtest.h>

namespace faxbridge::log {
namespace {

TEST(Log, FormatsOneJsonObjectPerLine) {
  init("router", Level::kInfo);
  std::string line = format_line(Level::kInfo, "job.state",
                                 {{"job", 812}, {"from", "ready"}, {"ok", true}, {"q", "a\"b\n"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find(R"("service":"router")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("event":"job.state")"), std::string::npos);
  EXPECT_NE(line.find(R"("job":812)"), std::string::npos);
  EXPECT_NE(line.find(R"("from":"ready")"), std::string::npos);
  EXPECT_NE(line.find(R"("ok":true)"), std::string::npos);
  EXPECT_NE(line.find(R"("q":"a\"b\n")"), std::string::npos);
}

TEST(Log, SurvivesInvalidUtf8) {
  std::string line = format_line(Level::kWarn, "mail.subject", {{"s", std::string("\xff\xfe")}});
  EXPECT_NE(line.find("mail.subject"), std::string::npos);
}

TEST(Log, LevelsFilter) {
  init("t", Level::kWarn);
  EXPECT_FALSE(enabled(Level::kInfo));
  EXPECT_TRUE(enabled(Level::kError));
  Level l{};
  EXPECT_TRUE(parse_level("debug", l));
  EXPECT_EQ(l, Level::kDebug);
  EXPECT_FALSE(parse_level("loud", l));
  init("t", Level::kInfo);
}

TEST(Log, MasksNumbers) {
  EXPECT_EQ(mask_number("+390297865403"), "+3902978***03");
  EXPECT_EQ(mask_number("403"), "***");
}

}  // namespace
}  // namespace faxbridge::log
