#pragma once
// T.38 session parameters negotiated in SDP offer/answer (ITU-T T.38 Annex D; RFC 4612
// registers the attributes). One pure function decides what our description says and
// what our fax engine then runs with, from what the engine can do and what the far end
// wrote:
//  - T38FaxVersion: the answer never exceeds the offer; we go no higher than our engine.
//  - T38MaxBitRate: the lower of the far end's and ours.
//  - T38FaxRateManagement: the offerer's (an answerer must take it).
//  - T38FaxMaxBuffer / T38FaxMaxDatagram: each side states what IT can receive, so our
//    description carries our own sizes and the far end's bound what we send.
//  - T38FaxUdpEC: a scheme both sides have, never stronger than the offer asks for.
//  - T38FaxFillBitRemoval, T38FaxTranscodingMMR/JBIG: only when both sides have them.
// Attribute names and values are read without regard to case; unknown attributes
// (T38VendorInfo, ...) and values that do not parse are treated as not stated, so an odd
// line never costs the call.
#include <string>
#include <vector>

namespace faxbridge::sip {

enum class T38RateManagement { kTransferredTcf, kLocalTcf };
// Ordered by strength: an answer picks at most what the offer asked for.
enum class T38ErrorCorrection { kNone, kRedundancy, kFec };

// The T.38 attributes of one m=image section, as values.
struct T38Terms {
  int version = 0;       // T38FaxVersion; absent means 0
  int max_bit_rate = 0;  // T38MaxBitRate, bit/s; 0: not stated
  T38RateManagement rate_management = T38RateManagement::kTransferredTcf;
  int max_buffer = 0;    // T38FaxMaxBuffer, bytes; 0: not stated
  int max_datagram = 0;  // T38FaxMaxDatagram, bytes; 0: not stated
  T38ErrorCorrection error_correction = T38ErrorCorrection::kRedundancy;  // T38FaxUdpEC
  bool fill_bit_removal = false;
  bool transcoding_mmr = false;
  bool transcoding_jbig = false;

  // Attribute lines without "a=" ("T38FaxVersion:0", "t38faxfillbitremoval").
  static T38Terms parse(const std::vector<std::string>& attributes);
  // The attributes in their canonical spelling; values not stated are left out.
  std::vector<std::string> attributes() const;

  bool operator==(const T38Terms&) const = default;
};

// What our T.38 engine can do; the gateway describes its fax engine with it.
struct T38Capabilities {
  int max_version = 0;
  int max_bit_rate = 14400;
  int max_buffer = 0;    // the T38FaxMaxBuffer we can receive; 0: not stated
  int max_datagram = 0;  // the T38FaxMaxDatagram we can receive; 0: not stated
  bool redundancy = true;  // t38UDPRedundancy
  bool fec = false;        // t38UDPFEC
  // What our offers ask for (an answer to somebody else's offer takes theirs).
  T38RateManagement offer_rate_management = T38RateManagement::kTransferredTcf;
  T38ErrorCorrection offer_error_correction = T38ErrorCorrection::kRedundancy;
  bool fill_bit_removal = false;
  bool transcoding_mmr = false;
  bool transcoding_jbig = false;
};

enum class T38Role {
  kOffer,     // we offer; the remote attributes are not used
  kAnswer,    // we answer; the remote attributes are the far end's offer
  kAnswered,  // the far end answered our offer (made from the same capabilities)
};

struct T38Negotiation {
  T38Terms local;    // what our description says (our offer or our answer)
  // What our engine runs with: the agreed terms, with the far end's T38FaxMaxBuffer and
  // T38FaxMaxDatagram (what it can receive, so what we may send). For an offer, our own.
  T38Terms session;
};

T38Negotiation negotiate_t38(const T38Capabilities& ours, T38Role role,
                             const std::vector<std::string>& remote_attributes = {});

}  // namespace faxbridge::sip
