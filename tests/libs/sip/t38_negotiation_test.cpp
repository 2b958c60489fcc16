// T.38 offer/answer (T.38 Annex D) over the attribute sets real gateways send. Each row is
// written from what the vendor documents its equipment to send (parameter names and
// defaults in its manual), not taken from anybody's test suite, and the answer is what
// Annex D asks of an engine like ours: spandsp 0.0.6 (no V.34, so 14,400 bit/s at most),
// our own receive sizes, the offerer's rate management, an error correction we have.
#include <gtest/gtest.h>

#include "faxbridge/sip/t38_negotiation.hpp"

namespace faxbridge::sip {
namespace {

using Lines = std::vector<std::string>;

// An engine like the gateway's: T.38 version 2 at most, 14,400 bit/s, redundancy and
// parity FEC, its own receive sizes.
T38Capabilities engine() {
  T38Capabilities c;
  c.max_version = 2;
  c.max_bit_rate = 14400;
  c.max_buffer = 2048;
  c.max_datagram = 1400;
  c.redundancy = true;
  c.fec = true;
  return c;
}

struct OfferCase {
  const char* gateway;
  Lines offer;
  Lines answer;            // what we write back
  int send_datagram = 0;   // the far end's T38FaxMaxDatagram: what we may send
  int send_buffer = 0;
};

// gtest prints a parameter's bytes otherwise.
void PrintTo(const OfferCase& c, std::ostream* os) { *os << c.gateway; }

class AnsweringRealOffers : public ::testing::TestWithParam<OfferCase> {};

TEST_P(AnsweringRealOffers, TheAnswerIsNegotiatedNotEchoed) {
  const OfferCase& c = GetParam();
  const T38Negotiation n = negotiate_t38(engine(), T38Role::kAnswer, c.offer);
  EXPECT_EQ(n.local.attributes(), c.answer) << c.gateway;
  // The engine runs with the agreed terms and the far end's receive sizes.
  EXPECT_EQ(n.session.max_datagram, c.send_datagram) << c.gateway;
  EXPECT_EQ(n.session.max_buffer, c.send_buffer) << c.gateway;
  T38Terms expected_session = T38Terms::parse(c.answer);
  expected_session.max_datagram = c.send_datagram;
  expected_session.max_buffer = c.send_buffer;
  EXPECT_EQ(n.session, expected_session) << c.gateway;
}

INSTANTIATE_TEST_SUITE_P(
    Gateways, AnsweringRealOffers,
    ::testing::Values(
        // Cisco IOS with V.34 fax relay ("fax protocol t38 version 3"): RFC 3362-style
        // ":0" flags, a small buffer and datagram.
        OfferCase{"cisco_ios_v3",
                  {"T38FaxVersion:3", "T38MaxBitRate:33600", "T38FaxFillBitRemoval:0", "T38FaxTranscodingMMR:0",
                   "T38FaxTranscodingJBIG:0", "T38FaxRateManagement:transferredTCF", "T38FaxMaxBuffer:200",
                   "T38FaxMaxDatagram:320", "T38FaxUdpEC:t38UDPRedundancy"},
                  {"T38FaxVersion:2", "T38MaxBitRate:14400", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxBuffer:2048", "T38FaxMaxDatagram:1400", "T38FaxUdpEC:t38UDPRedundancy"},
                  320, 200},
        // Cisco IOS classic T.38 fax relay (version 0, 72-byte datagrams).
        OfferCase{"cisco_ios_v0",
                  {"T38FaxVersion:0", "T38MaxBitRate:14400", "T38FaxFillBitRemoval:0", "T38FaxTranscodingMMR:0",
                   "T38FaxTranscodingJBIG:0", "T38FaxRateManagement:transferredTCF", "T38FaxMaxBuffer:200",
                   "T38FaxMaxDatagram:72", "T38FaxUdpEC:t38UDPRedundancy"},
                  {"T38FaxVersion:0", "T38MaxBitRate:14400", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxBuffer:2048", "T38FaxMaxDatagram:1400", "T38FaxUdpEC:t38UDPRedundancy"},
                  72, 200},
        // AudioCodes Mediant with V.34 relay: T38MaxDatagramSize 238 and
        // T38FaxMaxBufferSize 1024 are its documented defaults.
        OfferCase{"audiocodes_mediant",
                  {"T38FaxVersion:3", "T38MaxBitRate:33600", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxBuffer:1024", "T38FaxMaxDatagram:238", "T38FaxUdpEC:t38UDPRedundancy"},
                  {"T38FaxVersion:2", "T38MaxBitRate:14400", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxBuffer:2048", "T38FaxMaxDatagram:1400", "T38FaxUdpEC:t38UDPRedundancy"},
                  238, 1024},
        // Patton SmartNode with "fax max-bit-rate 9600": the lower rate wins.
        OfferCase{"patton_smartnode_9600",
                  {"T38FaxVersion:0", "T38MaxBitRate:9600", "T38FaxRateManagement:transferredTCF",
                   "T38FaxUdpEC:t38UDPRedundancy"},
                  {"T38FaxVersion:0", "T38MaxBitRate:9600", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxBuffer:2048", "T38FaxMaxDatagram:1400", "T38FaxUdpEC:t38UDPRedundancy"},
                  0, 0},
        // Asterisk (res_fax, t38_udptl_ec = fec, t38_udptl_maxdatagram = 400): no buffer
        // stated; FEC is kept, we have it.
        OfferCase{"asterisk_fec",
                  {"T38FaxVersion:0", "T38MaxBitRate:14400", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxDatagram:400", "T38FaxUdpEC:t38UDPFEC"},
                  {"T38FaxVersion:0", "T38MaxBitRate:14400", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxBuffer:2048", "T38FaxMaxDatagram:1400", "T38FaxUdpEC:t38UDPFEC"},
                  400, 0},
        // Asterisk with t38_udptl_ec = none.
        OfferCase{"asterisk_no_ec",
                  {"T38FaxVersion:0", "T38MaxBitRate:14400", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxDatagram:400", "T38FaxUdpEC:t38UDPNoEC"},
                  {"T38FaxVersion:0", "T38MaxBitRate:14400", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxBuffer:2048", "T38FaxMaxDatagram:1400", "T38FaxUdpEC:t38UDPNoEC"},
                  400, 0},
        // FreeSWITCH mod_spandsp with fill-bit removal and MMR transcoding switched on:
        // flags without a value (T.38 D.2.3). We have neither, so the answer omits them.
        OfferCase{"freeswitch_flags",
                  {"T38FaxVersion:0", "T38MaxBitRate:14400", "T38FaxFillBitRemoval", "T38FaxTranscodingMMR",
                   "T38FaxRateManagement:transferredTCF", "T38FaxMaxBuffer:2000", "T38FaxMaxDatagram:400",
                   "T38FaxUdpEC:t38UDPRedundancy"},
                  {"T38FaxVersion:0", "T38MaxBitRate:14400", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxBuffer:2048", "T38FaxMaxDatagram:1400", "T38FaxUdpEC:t38UDPRedundancy"},
                  400, 2000},
        // An offerer asking for localTCF: the answer must take the offerer's method.
        OfferCase{"local_tcf",
                  {"T38FaxVersion:1", "T38MaxBitRate:14400", "T38FaxRateManagement:localTCF",
                   "T38FaxMaxDatagram:500", "T38FaxUdpEC:t38UDPRedundancy"},
                  {"T38FaxVersion:1", "T38MaxBitRate:14400", "T38FaxRateManagement:localTCF",
                   "T38FaxMaxBuffer:2048", "T38FaxMaxDatagram:1400", "T38FaxUdpEC:t38UDPRedundancy"},
                  500, 0},
        // Names and values in any case; a vendor line we do not know is not echoed.
        OfferCase{"lower_case_and_vendor_info",
                  {"t38faxversion:3", "t38maxbitrate:14400", "t38faxratemanagement:TRANSFERREDTCF",
                   "t38faxmaxdatagram:300", "t38faxudpec:T38UDPREDUNDANCY", "T38VendorInfo:0 0 0"},
                  {"T38FaxVersion:2", "T38MaxBitRate:14400", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxBuffer:2048", "T38FaxMaxDatagram:1400", "T38FaxUdpEC:t38UDPRedundancy"},
                  300, 0}),
    [](const ::testing::TestParamInfo<OfferCase>& info) { return std::string(info.param.gateway); });

TEST(T38Negotiation, AnEngineWithoutFecAnswersAFecOfferWithRedundancy) {
  T38Capabilities ours = engine();
  ours.fec = false;
  const auto n = negotiate_t38(ours, T38Role::kAnswer, {"T38FaxVersion:0", "T38FaxUdpEC:t38UDPFEC"});
  EXPECT_EQ(n.local.error_correction, T38ErrorCorrection::kRedundancy);
  EXPECT_EQ(n.session.error_correction, T38ErrorCorrection::kRedundancy);
}

TEST(T38Negotiation, AnOfferWithoutRateOrVersionGetsVersion0AndOurRate) {
  const auto n = negotiate_t38(engine(), T38Role::kAnswer, {"T38FaxRateManagement:transferredTCF"});
  EXPECT_EQ(n.local.version, 0);
  EXPECT_EQ(n.local.max_bit_rate, 14400);
}

TEST(T38Negotiation, ValuesThatDoNotParseCountAsNotStated) {
  const auto n = negotiate_t38(engine(), T38Role::kAnswer,
                               {"T38FaxVersion:x", "T38MaxBitRate:-5", "T38FaxMaxDatagram:99999",
                                "T38FaxUdpEC:somethingElse"});
  EXPECT_EQ(n.local.attributes(),
            (Lines{"T38FaxVersion:0", "T38MaxBitRate:14400", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxBuffer:2048", "T38FaxMaxDatagram:1400", "T38FaxUdpEC:t38UDPRedundancy"}));
  EXPECT_EQ(n.session.max_datagram, 0);
}

TEST(T38Negotiation, OurOfferStatesWhatOurEngineCanDo) {
  const auto n = negotiate_t38(engine(), T38Role::kOffer);
  EXPECT_EQ(n.local.attributes(),
            (Lines{"T38FaxVersion:2", "T38MaxBitRate:14400", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxBuffer:2048", "T38FaxMaxDatagram:1400", "T38FaxUdpEC:t38UDPRedundancy"}));
  EXPECT_EQ(n.session, n.local);
}

// Reading the answer to our offer: the values we then run with follow the same rules.
TEST(T38Negotiation, AnAnswerAskingForMoreThanWeOfferedIsBoundedByOurOffer) {
  const auto n = negotiate_t38(engine(), T38Role::kAnswered,
                               {"T38FaxVersion:3", "T38MaxBitRate:33600", "T38FaxRateManagement:localTCF",
                                "T38FaxMaxBuffer:1024", "T38FaxMaxDatagram:238", "T38FaxUdpEC:t38UDPFEC",
                                "T38FaxFillBitRemoval"});
  EXPECT_EQ(n.local, negotiate_t38(engine(), T38Role::kOffer).local);  // our offer stands
  EXPECT_EQ(n.session.version, 2);
  EXPECT_EQ(n.session.max_bit_rate, 14400);
  EXPECT_EQ(n.session.rate_management, T38RateManagement::kTransferredTcf);  // the offerer's: ours
  EXPECT_EQ(n.session.error_correction, T38ErrorCorrection::kRedundancy);   // no stronger than offered
  EXPECT_FALSE(n.session.fill_bit_removal);
  EXPECT_EQ(n.session.max_datagram, 238);  // what the far end can receive
  EXPECT_EQ(n.session.max_buffer, 1024);
}

TEST(T38Negotiation, AnAnswerWithLowerTermsIsRunAsAnswered) {
  const auto n = negotiate_t38(engine(), T38Role::kAnswered,
                               {"T38FaxVersion:0", "T38MaxBitRate:9600", "T38FaxRateManagement:transferredTCF",
                                "T38FaxMaxDatagram:320", "T38FaxUdpEC:t38UDPNoEC"});
  EXPECT_EQ(n.session.attributes(),
            (Lines{"T38FaxVersion:0", "T38MaxBitRate:9600", "T38FaxRateManagement:transferredTCF",
                   "T38FaxMaxDatagram:320", "T38FaxUdpEC:t38UDPNoEC"}));
}

}  // namespace
}  // namespace faxbridge::sip
