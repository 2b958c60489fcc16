#include "faxbridge/core/config.hpp"

#include <gtest/gtest.h>

namespace faxbridge::config {
namespace {

using namespace std::chrono_literals;

TEST(ConfigReader, ReadsValuesAndFallsBackToDefaults) {
  ConfigReader r(map_env({{"FAXBRIDGE_PORT", "9100"}, {"FAXBRIDGE_DEBUG", "yes"}}));
  EXPECT_EQ(r.integer("FAXBRIDGE_PORT", 80, 1, 65535), 9100);
  EXPECT_TRUE(r.boolean("FAXBRIDGE_DEBUG", false));
  EXPECT_EQ(r.duration_ms("FAXBRIDGE_LEASE_MS", 30000ms, 100ms, 3600000ms), 30000ms);
  EXPECT_EQ(r.one_of("FAXBRIDGE_LOG_LEVEL", "info", {"debug", "info"}), "info");
  ASSERT_TRUE(r.finish());
  ASSERT_EQ(r.effective().size(), 4u);
  EXPECT_FALSE(r.effective()[0].from_default);
  EXPECT_TRUE(r.effective()[2].from_default);
}

TEST(ConfigReader, ListsEveryBadVariableInOneError) {
  ConfigReader r(map_env({{"FAXBRIDGE_PORT", "90x"},
                          {"FAXBRIDGE_DEBUG", "maybe"},
                          {"FAXBRIDGE_LOG_LEVEL", "loud"},
                          {"FAXBRIDGE_LEASE_MS", "5"}}));
  (void)r.integer("FAXBRIDGE_PORT", 80, 1, 65535);
  (void)r.boolean("FAXBRIDGE_DEBUG", false);
  (void)r.one_of("FAXBRIDGE_LOG_LEVEL", "info", {"debug", "info"});
  (void)r.duration_ms("FAXBRIDGE_LEASE_MS", 30000ms, 100ms, 60000ms);
  (void)r.string("FAXBRIDGE_DB_DSN", std::nullopt, "a libpq connection string");
  auto res = r.finish();
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Code::k_config_invalid);
  const auto& msg = res.error().message;
  EXPECT_NE(msg.find("FAXBRIDGE_PORT=\"90x\" is invalid; expected an integer from 1 to 65535"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("FAXBRIDGE_DEBUG=\"maybe\" is invalid; expected true or false"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("FAXBRIDGE_LOG_LEVEL=\"loud\" is invalid; expected one of debug, info"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("FAXBRIDGE_LEASE_MS=\"5\" is invalid; expected an integer from 100 to 60000 "
                     "(milliseconds)"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("FAXBRIDGE_DB_DSN is not set; expected a libpq connection string"),
            std::string::npos) << msg;
  EXPECT_EQ(r.problems().size(), 5u);
}

TEST(ConfigReader, RefusesOutOfRangeAndTrailingGarbage) {
  ConfigReader r(map_env({{"A", "70000"}, {"B", "12 "}, {"C", "-3"}}));
  (void)r.integer("A", 1, 1, 65535);
  (void)r.integer("B", 1, 1, 65535);
  EXPECT_EQ(r.integer("C", 1, -5, 5), -3);
  EXPECT_EQ(r.problems().size(), 2u);
}

TEST(ConfigReader, EmptyValueCountsAsUnset) {
  ConfigReader r(map_env({{"FAXBRIDGE_X", ""}}));
  EXPECT_EQ(r.string("FAXBRIDGE_X", "dflt", "text"), "dflt");
  ASSERT_TRUE(r.finish());
}

TEST(ConfigReader, MasksSecretsInTheEffectiveConfig) {
  ConfigReader r(map_env({{"FAXBRIDGE_TOKEN", "hunter2"}}));
  EXPECT_EQ(r.string("FAXBRIDGE_TOKEN", std::nullopt, "a token", Visibility::kSecret), "hunter2");
  EXPECT_EQ(r.effective()[0].value, "***");
}

TEST(MaskDsn, HidesPasswordsInBothForms) {
  EXPECT_EQ(mask_dsn("host=db user=fax password=s3cret dbname=fax"),
            "host=db user=fax password=*** dbname=fax");
  EXPECT_EQ(mask_dsn("password='a b' host=x"), "password=*** host=x");
  EXPECT_EQ(mask_dsn("postgresql://fax:s3cret@db:5432/fax"), "postgresql://fax:***@db:5432/fax");
  EXPECT_EQ(mask_dsn("postgresql://db/fax"), "postgresql://db/fax");
}

}  // namespace
}  // namespace faxbridge::config
