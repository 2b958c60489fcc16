#include "faxbridge/fax/t38_params.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace faxbridge::fax {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Error invalid(std::string_view attribute, std::string_view value, std::string sentence) {
  Error e(Code::k_fax_sdp_invalid, std::move(sentence));
  e.with("attribute", std::string(attribute));
  // Keep the echoed value short: it comes from the network.
  e.with("value", std::string(value.substr(0, 32)));
  return e;
}

// A decimal integer within [lo, hi], nothing else.
bool parse_int(std::string_view v, long lo, long hi, int& out) {
  if (v.empty() || v.size() > 10) return false;
  long n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi) return false;
  out = static_cast<int>(n);
  return true;
}

// A boolean attribute: present without a value means true (T.38 D.2.3); some stacks
// write ":0" or ":1" (RFC 3362-era form), which we read too.
bool parse_flag(std::string_view v, bool has_value, bool& out) {
  if (!has_value) {
    out = true;
    return true;
  }
  if (v == "1") {
    out = true;
    return true;
  }
  if (v == "0") {
    out = false;
    return true;
  }
  return false;
}

}  // namespace

Result<void> T38Params::apply_attribute(std::string_view line) {
  line = trim(line);
  if (line.size() >= 2 && (line[0] == 'a' || line[0] == 'A') && line[1] == '=') line.remove_prefix(2);
  auto colon = line.find(':');
  bool has_value = colon != std::string_view::npos;
  std::string_view name = trim(line.substr(0, colon));
  std::string_view value = has_value ? trim(line.substr(colon + 1)) : std::string_view();

  if (iequals(name, "T38FaxVersion")) {
    if (!parse_int(value, 0, 3, version))
      return invalid(name, value, "T38FaxVersion must be a number from 0 to 3.");
  } else if (iequals(name, "T38MaxBitRate")) {
    // Rates up to V.34's 33600 exist; anything beyond is nonsense.
    if (!parse_int(value, 2400, 33600, max_bit_rate))
      return invalid(name, value, "T38MaxBitRate must be a bit rate from 2400 to 33600.");
  } else if (iequals(name, "T38FaxRateManagement")) {
    if (iequals(value, "transferredTCF")) {
      rate_management = RateManagement::kTransferredTcf;
    } else if (iequals(value, "localTCF")) {
      rate_management = RateManagement::kLocalTcf;
    } else {
      return invalid(name, value, "T38FaxRateManagement must be transferredTCF or localTCF.");
    }
  } else if (iequals(name, "T38FaxMaxBuffer")) {
    if (!parse_int(value, 1, 1 << 20, max_buffer))
      return invalid(name, value, "T38FaxMaxBuffer must be a positive number of bytes.");
  } else if (iequals(name, "T38FaxMaxDatagram")) {
    // A UDP payload cannot exceed 65507 bytes.
    if (!parse_int(value, 1, 65507, max_datagram))
      return invalid(name, value, "T38FaxMaxDatagram must be a number of bytes from 1 to 65507.");
  } else if (iequals(name, "T38FaxUdpEC")) {
    if (iequals(value, "t38UDPRedundancy")) {
      udp_ec = UdpErrorCorrection::kRedundancy;
    } else if (iequals(value, "t38UDPFEC")) {
      udp_ec = UdpErrorCorrection::kFec;
    } else if (iequals(value, "t38UDPNoEC")) {
      udp_ec = UdpErrorCorrection::kNone;
    } else {
      return invalid(name, value, "T38FaxUdpEC must be t38UDPRedundancy, t38UDPFEC or t38UDPNoEC.");
    }
  } else if (iequals(name, "T38FaxFillBitRemoval")) {
    if (!parse_flag(value, has_value, fill_bit_removal))
      return invalid(name, value, "T38FaxFillBitRemoval takes no value (or 0 or 1).");
  } else if (iequals(name, "T38FaxTranscodingMMR")) {
    if (!parse_flag(value, has_value, transcoding_mmr))
      return invalid(name, value, "T38FaxTranscodingMMR takes no value (or 0 or 1).");
  } else if (iequals(name, "T38FaxTranscodingJBIG")) {
    if (!parse_flag(value, has_value, transcoding_jbig))
      return invalid(name, value, "T38FaxTranscodingJBIG takes no value (or 0 or 1).");
  }
  // Anything else belongs to somebody else (rtpmap, T38VendorInfo, ...): ignored.
  return ok();
}

Result<T38Params> T38Params::parse_sdp(std::string_view text) {
  // SDP text is small; a bound keeps a hostile body from costing much.
  constexpr std::size_t kMaxSdpBytes = 64 * 1024;
  if (text.size() > kMaxSdpBytes) {
    return Error(Code::k_fax_sdp_invalid, "The SDP text is too large to be a T.38 offer.")
        .with("bytes", std::to_string(text.size()));
  }
  T38Params p;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (trim(line).empty()) continue;
    if (auto r = p.apply_attribute(line); !r) return std::move(r).error();
  }
  return p;
}

std::vector<std::string> T38Params::to_sdp_attributes() const {
  std::vector<std::string> a;
  a.push_back("T38FaxVersion:" + std::to_string(version));
  a.push_back("T38MaxBitRate:" + std::to_string(max_bit_rate));
  if (fill_bit_removal) a.emplace_back("T38FaxFillBitRemoval");
  if (transcoding_mmr) a.emplace_back("T38FaxTranscodingMMR");
  if (transcoding_jbig) a.emplace_back("T38FaxTranscodingJBIG");
  a.push_back(std::string("T38FaxRateManagement:") +
              (rate_management == RateManagement::kLocalTcf ? "localTCF" : "transferredTCF"));
  if (max_buffer > 0) a.push_back("T38FaxMaxBuffer:" + std::to_string(max_buffer));
  if (max_datagram > 0) a.push_back("T38FaxMaxDatagram:" + std::to_string(max_datagram));
  switch (udp_ec) {
    case UdpErrorCorrection::kRedundancy: a.emplace_back("T38FaxUdpEC:t38UDPRedundancy"); break;
    case UdpErrorCorrection::kFec: a.emplace_back("T38FaxUdpEC:t38UDPFEC"); break;
    case UdpErrorCorrection::kNone: a.emplace_back("T38FaxUdpEC:t38UDPNoEC"); break;
  }
  return a;
}

std::string T38Params::to_sdp() const {
  std::string s;
  for (const auto& a : to_sdp_attributes()) {
    s += "a=";
    s += a;
    s += "\r\n";
  }
  return s;
}

}  // namespace faxbridge::fax
