// The SSRF guard's address classes and URL parsing (libs/webhook/src/address.cpp).
#include "faxbridge/webhook/address.hpp"

#include <gtest/gtest.h>

namespace faxbridge::webhook {
namespace {

TEST(Address, ClassifiesEveryRefusedIpv4Range) {
  EXPECT_EQ(classify_address("127.0.0.1"), AddressClass::kLoopback);
  EXPECT_EQ(classify_address("127.255.1.2"), AddressClass::kLoopback);
  EXPECT_EQ(classify_address("169.254.169.254"), AddressClass::kLinkLocal);
  EXPECT_EQ(classify_address("10.1.2.3"), AddressClass::kPrivate);
  EXPECT_EQ(classify_address("172.16.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(classify_address("172.31.255.255"), AddressClass::kPrivate);
  EXPECT_EQ(classify_address("192.168.1.1"), AddressClass::kPrivate);
  EXPECT_EQ(classify_address("100.64.0.1"), AddressClass::kSharedCgnat);
  EXPECT_EQ(classify_address("100.127.255.254"), AddressClass::kSharedCgnat);
  EXPECT_EQ(classify_address("0.0.0.0"), AddressClass::kUnspecified);
  EXPECT_EQ(classify_address("0.1.2.3"), AddressClass::kUnspecified);
  EXPECT_EQ(classify_address("224.0.0.251"), AddressClass::kMulticast);
  EXPECT_EQ(classify_address("255.255.255.255"), AddressClass::kReserved);
}

TEST(Address, KeepsTheNeighboursOfRefusedRangesPublic) {
  EXPECT_EQ(classify_address("172.15.255.255"), AddressClass::kPublic);
  EXPECT_EQ(classify_address("172.32.0.0"), AddressClass::kPublic);
  EXPECT_EQ(classify_address("100.63.255.255"), AddressClass::kPublic);
  EXPECT_EQ(classify_address("100.128.0.0"), AddressClass::kPublic);
  EXPECT_EQ(classify_address("11.0.0.1"), AddressClass::kPublic);
  EXPECT_EQ(classify_address("93.184.216.34"), AddressClass::kPublic);
  EXPECT_EQ(classify_address("2001:db8::1"), AddressClass::kPublic);
  EXPECT_EQ(classify_address("2a00:1450:4001::200e"), AddressClass::kPublic);
}

TEST(Address, ClassifiesIpv6AndIpv4MappedForms) {
  EXPECT_EQ(classify_address("::1"), AddressClass::kLoopback);
  EXPECT_EQ(classify_address("::"), AddressClass::kUnspecified);
  EXPECT_EQ(classify_address("fe80::1"), AddressClass::kLinkLocal);
  EXPECT_EQ(classify_address("fd12:3456::1"), AddressClass::kPrivate);
  EXPECT_EQ(classify_address("fc00::1"), AddressClass::kPrivate);
  EXPECT_EQ(classify_address("ff02::1"), AddressClass::kMulticast);
  EXPECT_EQ(classify_address("::ffff:127.0.0.1"), AddressClass::kLoopback);
  EXPECT_EQ(classify_address("::ffff:10.0.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(classify_address("::ffff:169.254.169.254"), AddressClass::kLinkLocal);
  EXPECT_EQ(classify_address("not an address"), AddressClass::kReserved);
}

TEST(Address, ParsesUrlsIntoSchemeHostPortAndPath) {
  auto t = parse_url("https://hooks.example.com/fax?x=1#frag");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->scheme, "https");
  EXPECT_EQ(t->host, "hooks.example.com");
  EXPECT_EQ(t->port, 443);
  EXPECT_EQ(t->path, "/fax?x=1");
  t = parse_url("http://[::1]:8080");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, 8080);
  EXPECT_EQ(t->path, "/");
  EXPECT_FALSE(parse_url("ftp://x/"));
  EXPECT_FALSE(parse_url("http://user:pw@host/"));
  EXPECT_FALSE(parse_url("http://host:99999/"));
}

TEST(Address, ResolvingRefusesLoopbackUnlessAllowedAndKeepsTheCheckedAddress) {
  auto t = parse_url("http://localhost:9/hook");
  ASSERT_TRUE(t);
  auto refused = resolve(*t, false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::k_webhook_address_refused);
  EXPECT_NE(refused.error().message.find("webhooks.allow_private_addresses"), std::string::npos);
  auto allowed = resolve(*parse_url("http://127.0.0.1:9/hook"), true);
  ASSERT_TRUE(allowed) << allowed.error().to_string();
  EXPECT_EQ(allowed->address, "127.0.0.1");
  EXPECT_EQ(resolve(*parse_url("http://[::ffff:7f00:1]/"), false).error().code, Code::k_webhook_address_refused);
}

}  // namespace
}  // namespace faxbridge::webhook
