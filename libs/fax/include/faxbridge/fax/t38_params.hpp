#pragma once
// The T.38 session parameters that SDP carries (T.38 Annex D, RFC 4612 / T.38 2010 D.2.3),
// as a value type with its attribute text form. SIP call control negotiates these; the
// session (session.hpp) applies them to the T.38 engine and the UDPTL layer.
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/result.hpp"

namespace faxbridge::fax {

enum class RateManagement { kTransferredTcf, kLocalTcf };
enum class UdpErrorCorrection { kNone, kRedundancy, kFec };

struct T38Params {
  int version = 0;                                   // T38FaxVersion, 0..3
  int max_bit_rate = 14400;                          // T38MaxBitRate, bit/s
  RateManagement rate_management = RateManagement::kTransferredTcf;  // T38FaxRateManagement
  int max_buffer = 0;                                // T38FaxMaxBuffer, bytes; 0 = not stated
  int max_datagram = 0;                              // T38FaxMaxDatagram, bytes; 0 = not stated
  UdpErrorCorrection udp_ec = UdpErrorCorrection::kRedundancy;  // T38FaxUdpEC
  bool fill_bit_removal = false;                     // T38FaxFillBitRemoval
  bool transcoding_mmr = false;                      // T38FaxTranscodingMMR
  bool transcoding_jbig = false;                     // T38FaxTranscodingJBIG

  // Parses the attribute lines of one m=image section. Lines may carry the "a=" prefix and
  // end in CRLF or LF; attribute names are matched without regard to case; attributes this
  // type does not know (T38VendorInfo, rtpmap, ...) are ignored. Bad values are refused
  // with fax.sdp_invalid naming the attribute.
  static Result<T38Params> parse_sdp(std::string_view text);
  // Applies one attribute ("T38FaxVersion:1", "a=T38FaxFillBitRemoval").
  Result<void> apply_attribute(std::string_view line);

  // The attributes in their canonical spelling, without "a=" or line ends.
  std::vector<std::string> to_sdp_attributes() const;
  // "a=T38FaxVersion:0\r\n..." ready to append to an m=image section.
  std::string to_sdp() const;

  bool operator==(const T38Params&) const = default;
};

}  // namespace faxbridge::fax
