#include "faxbridge/fax/t38_params.hpp"

#include <gtest/gtest.h>

namespace faxbridge::fax {
namespace {

TEST(T38Params, ParsesATypicalOffer) {
  auto p = T38Params::parse_sdp(
      "a=T38FaxVersion:0\r\n"
      "a=T38MaxBitRate:14400\r\n"
      "a=T38FaxRateManagement:transferredTCF\r\n"
      "a=T38FaxMaxBuffer:262\r\n"
      "a=T38FaxMaxDatagram:176\r\n"
      "a=T38FaxUdpEC:t38UDPRedundancy\r\n");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->version, 0);
  EXPECT_EQ(p->max_bit_rate, 14400);
  EXPECT_EQ(p->rate_management, RateManagement::kTransferredTcf);
  EXPECT_EQ(p->max_buffer, 262);
  EXPECT_EQ(p->max_datagram, 176);
  EXPECT_EQ(p->udp_ec, UdpErrorCorrection::kRedundancy);
  EXPECT_FALSE(p->fill_bit_removal);
}

TEST(T38Params, ReadsFlagsInBothFormsAndIgnoresCase) {
  auto p = T38Params::parse_sdp(
      "t38faxversion:3\nT38FaxFillBitRemoval\nT38FaxTranscodingMMR:1\nT38FaxTranscodingJBIG:0\n"
      "T38FaxRateManagement:LOCALTCF\nT38FaxUdpEC:t38UDPFEC\na=T38VendorInfo:0 0 0\na=rtpmap:96 t38/8000\n");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->version, 3);
  EXPECT_TRUE(p->fill_bit_removal);
  EXPECT_TRUE(p->transcoding_mmr);
  EXPECT_FALSE(p->transcoding_jbig);
  EXPECT_EQ(p->rate_management, RateManagement::kLocalTcf);
  EXPECT_EQ(p->udp_ec, UdpErrorCorrection::kFec);
}

TEST(T38Params, PrintsCanonicalAttributesThatParseBack) {
  T38Params p;
  p.version = 1;
  p.max_bit_rate = 9600;
  p.fill_bit_removal = true;
  p.max_datagram = 400;
  p.rate_management = RateManagement::kLocalTcf;
  EXPECT_EQ(p.to_sdp(),
            "a=T38FaxVersion:1\r\n"
            "a=T38MaxBitRate:9600\r\n"
            "a=T38FaxFillBitRemoval\r\n"
            "a=T38FaxRateManagement:localTCF\r\n"
            "a=T38FaxMaxDatagram:400\r\n"
            "a=T38FaxUdpEC:t38UDPRedundancy\r\n");
  auto back = T38Params::parse_sdp(p.to_sdp());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, p);
}

TEST(T38Params, RefusesBadValuesNamingTheAttribute) {
  for (const char* bad : {"a=T38FaxVersion:4", "a=T38FaxVersion:", "a=T38FaxVersion:1x",
                          "a=T38MaxBitRate:-1", "a=T38MaxBitRate:99999999999",
                          "a=T38FaxRateManagement:sometimes", "a=T38FaxUdpEC:magic",
                          "a=T38FaxMaxDatagram:0", "a=T38FaxFillBitRemoval:yes"}) {
    auto p = T38Params::parse_sdp(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code, Code::k_fax_sdp_invalid) << bad;
    ASSERT_FALSE(p.error().context.empty());
    EXPECT_EQ(p.error().context[0].first, "attribute");
  }
}

}  // namespace
}  // namespace faxbridge::fax
