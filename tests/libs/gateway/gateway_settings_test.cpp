// The media-gateway's variable table: defaults, the transports, the trunk account
// (registration and INVITE credentials), and every bad value named at once.
#include "faxbridge/gateway/gateway_settings.hpp"

#include <gtest/gtest.h>

namespace faxbridge::gateway {
namespace {

TEST(GatewaySettingsTable, WithNothingSetTheDefaultsApply) {
  config::ConfigReader cfg(config::map_env({}));
  const auto gs = read_gateway_settings(cfg, "gw-1");
  ASSERT_TRUE(cfg.finish());
  EXPECT_EQ(gs.instance, "gw-1");
  EXPECT_EQ(gs.sip.port, 5060);
  EXPECT_FALSE(gs.sip.tcp);
  EXPECT_TRUE(gs.sip.tls_certificate_dir.empty());
  EXPECT_FALSE(gs.registration.has_value());
  EXPECT_FALSE(gs.credentials.has_value());
  EXPECT_EQ(gs.channels, 8);
  EXPECT_GE(gs.media_threads, 1);  // one per core
  EXPECT_EQ(gs.media_realtime_priority, 0);
  EXPECT_EQ(gs.audio_redundancy, 0);  // RED not offered
}

TEST(GatewaySettingsTable, AudioRedundancyIsReadWithinRfc2198sUsefulRange) {
  config::ConfigReader cfg(config::map_env({{"FAXBRIDGE_GATEWAY_AUDIO_REDUNDANCY", "3"}}));
  const auto gs = read_gateway_settings(cfg, "gw-1");
  ASSERT_TRUE(cfg.finish());
  EXPECT_EQ(gs.audio_redundancy, 3);
}

TEST(GatewaySettingsTable, DecodeAheadPagesAreReadAndDefaultTo20) {
  config::ConfigReader plain(config::map_env({}));
  EXPECT_EQ(read_gateway_settings(plain, "gw-1").decode_ahead_pages, 20);
  config::ConfigReader cfg(config::map_env({{"FAXBRIDGE_GATEWAY_DECODE_AHEAD_PAGES", "0"}}));
  const auto gs = read_gateway_settings(cfg, "gw-1");
  ASSERT_TRUE(cfg.finish());
  EXPECT_EQ(gs.decode_ahead_pages, 0);
  config::ConfigReader bad(config::map_env({{"FAXBRIDGE_GATEWAY_DECODE_AHEAD_PAGES", "-1"}}));
  (void)read_gateway_settings(bad, "gw-1");
  EXPECT_FALSE(bad.finish());
}

TEST(GatewaySettingsTable, MediaWorkersAndTheirPriorityAreRead) {
  config::ConfigReader cfg(config::map_env({{"FAXBRIDGE_GATEWAY_MEDIA_THREADS", "3"},
                                            {"FAXBRIDGE_GATEWAY_MEDIA_RT_PRIORITY", "10"}}));
  const auto gs = read_gateway_settings(cfg, "gw-1");
  ASSERT_TRUE(cfg.finish());
  EXPECT_EQ(gs.media_threads, 3);
  EXPECT_EQ(gs.media_realtime_priority, 10);
}

TEST(GatewaySettingsTable, TransportsAndTheTrunkAccountAreRead) {
  config::ConfigReader cfg(config::map_env({{"FAXBRIDGE_GATEWAY_SIP_PORT", "5070"},
                                            {"FAXBRIDGE_GATEWAY_SIP_TCP", "true"},
                                            {"FAXBRIDGE_GATEWAY_SIP_TLS_CERT_DIR", "/etc/faxbridge/tls"},
                                            {"FAXBRIDGE_GATEWAY_SIP_TLS_PORT", "5071"},
                                            {"FAXBRIDGE_GATEWAY_SIP_TLS_VERIFY", "false"},
                                            {"FAXBRIDGE_GATEWAY_REGISTER_USER", "trunk"},
                                            {"FAXBRIDGE_GATEWAY_REGISTER_AUTH_USER", "auth-trunk"},
                                            {"FAXBRIDGE_GATEWAY_REGISTER_PASSWORD", "s3cret"}}));
  const auto gs = read_gateway_settings(cfg, "gw-1");
  ASSERT_TRUE(cfg.finish());
  EXPECT_EQ(gs.sip.port, 5070);
  EXPECT_TRUE(gs.sip.tcp);
  EXPECT_EQ(gs.sip.tls_certificate_dir, "/etc/faxbridge/tls");
  EXPECT_EQ(gs.sip.tls_port, 5071);
  EXPECT_FALSE(gs.sip.tls_verify_peer);
  // No registrar: nothing to REGISTER with, but challenged INVITEs still get the account.
  EXPECT_FALSE(gs.registration.has_value());
  ASSERT_TRUE(gs.credentials.has_value());
  EXPECT_EQ(gs.credentials->user, "auth-trunk");
  EXPECT_EQ(gs.credentials->password, "s3cret");
}

TEST(GatewaySettingsTable, EveryBadValueIsNamed) {
  config::ConfigReader cfg(config::map_env({{"FAXBRIDGE_GATEWAY_SIP_PORT", "70000"},
                                            {"FAXBRIDGE_GATEWAY_SIP_TCP", "maybe"},
                                            {"FAXBRIDGE_GATEWAY_SIP_TLS_PORT", "-1"},
                                            {"FAXBRIDGE_GATEWAY_MEDIA_RT_PRIORITY", "100"},
                                            {"FAXBRIDGE_GATEWAY_AUDIO_REDUNDANCY", "9"}}));
  (void)read_gateway_settings(cfg, "gw-1");
  auto r = cfg.finish();
  ASSERT_FALSE(r);
  const std::string text = r.error().to_string();
  for (const char* name : {"FAXBRIDGE_GATEWAY_SIP_PORT", "FAXBRIDGE_GATEWAY_SIP_TCP", "FAXBRIDGE_GATEWAY_SIP_TLS_PORT",
                           "FAXBRIDGE_GATEWAY_MEDIA_RT_PRIORITY", "FAXBRIDGE_GATEWAY_AUDIO_REDUNDANCY"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name << " in " << text;
  }
}

}  // namespace
}  // namespace faxbridge::gateway
