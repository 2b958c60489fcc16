// T.38 Annex D offer/answer over attribute text: parsing into T38Terms, the choice of
// each parameter, and the canonical attribute spelling. See t38_negotiation.hpp for the
// rules; this file only applies them.
#include "faxbridge/sip/t38_negotiation.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

namespace faxbridge::sip {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// A decimal integer within [lo, hi]; anything else leaves `out` as it was.
void read_int(std::string_view v, int lo, int hi, int& out) {
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec == std::errc() && p == v.data() + v.size() && !v.empty() && n >= lo && n <= hi) out = n;
}

// T.38 D.2.3: a boolean attribute is true by its presence; older stacks write ":1"/":0".
void read_flag(std::string_view v, bool has_value, bool& out) {
  if (!has_value || v == "1") {
    out = true;
  } else if (v == "0") {
    out = false;
  }
}

// The strongest scheme we have that is no stronger than `asked`.
T38ErrorCorrection supported_up_to(T38ErrorCorrection asked, const T38Capabilities& ours) {
  if (asked == T38ErrorCorrection::kFec && ours.fec) return T38ErrorCorrection::kFec;
  if (asked != T38ErrorCorrection::kNone && ours.redundancy) return T38ErrorCorrection::kRedundancy;
  return T38ErrorCorrection::kNone;
}

// The lower of two rates, a rate not stated (0) giving way to the other.
int lower_rate(int a, int b) {
  if (a <= 0) return b;
  if (b <= 0) return a;
  return std::min(a, b);
}

T38Terms our_offer(const T38Capabilities& ours) {
  T38Terms t;
  t.version = ours.max_version;
  t.max_bit_rate = ours.max_bit_rate;
  t.rate_management = ours.offer_rate_management;
  t.max_buffer = ours.max_buffer;
  t.max_datagram = ours.max_datagram;
  t.error_correction = supported_up_to(ours.offer_error_correction, ours);
  t.fill_bit_removal = ours.fill_bit_removal;
  t.transcoding_mmr = ours.transcoding_mmr;
  t.transcoding_jbig = ours.transcoding_jbig;
  return t;
}

}  // namespace

T38Terms T38Terms::parse(const std::vector<std::string>& attributes) {
  T38Terms t;
  for (const auto& line : attributes) {
    std::string_view a = trim(line);
    if (a.size() >= 2 && (a[0] == 'a' || a[0] == 'A') && a[1] == '=') a.remove_prefix(2);
    const auto colon = a.find(':');
    const bool has_value = colon != std::string_view::npos;
    const std::string_view name = trim(a.substr(0, colon));
    const std::string_view value = has_value ? trim(a.substr(colon + 1)) : std::string_view();
    // Bounds are sanity, not policy: a version or rate beyond ours is simply lowered.
    if (iequals(name, "T38FaxVersion")) {
      read_int(value, 0, 255, t.version);
    } else if (iequals(name, "T38MaxBitRate")) {
      read_int(value, 1, 1 << 20, t.max_bit_rate);
    } else if (iequals(name, "T38FaxRateManagement")) {
      if (iequals(value, "transferredTCF")) t.rate_management = T38RateManagement::kTransferredTcf;
      if (iequals(value, "localTCF")) t.rate_management = T38RateManagement::kLocalTcf;
    } else if (iequals(name, "T38FaxMaxBuffer")) {
      read_int(value, 1, 1 << 24, t.max_buffer);
    } else if (iequals(name, "T38FaxMaxDatagram")) {
      read_int(value, 1, 65507, t.max_datagram);  // the largest UDP payload
    } else if (iequals(name, "T38FaxUdpEC")) {
      if (iequals(value, "t38UDPRedundancy")) t.error_correction = T38ErrorCorrection::kRedundancy;
      if (iequals(value, "t38UDPFEC")) t.error_correction = T38ErrorCorrection::kFec;
      if (iequals(value, "t38UDPNoEC")) t.error_correction = T38ErrorCorrection::kNone;
    } else if (iequals(name, "T38FaxFillBitRemoval")) {
      read_flag(value, has_value, t.fill_bit_removal);
    } else if (iequals(name, "T38FaxTranscodingMMR")) {
      read_flag(value, has_value, t.transcoding_mmr);
    } else if (iequals(name, "T38FaxTranscodingJBIG")) {
      read_flag(value, has_value, t.transcoding_jbig);
    }
  }
  return t;
}

std::vector<std::string> T38Terms::attributes() const {
  std::vector<std::string> a;
  a.push_back("T38FaxVersion:" + std::to_string(version));
  if (max_bit_rate > 0) a.push_back("T38MaxBitRate:" + std::to_string(max_bit_rate));
  if (fill_bit_removal) a.emplace_back("T38FaxFillBitRemoval");
  if (transcoding_mmr) a.emplace_back("T38FaxTranscodingMMR");
  if (transcoding_jbig) a.emplace_back("T38FaxTranscodingJBIG");
  a.push_back(std::string("T38FaxRateManagement:") +
              (rate_management == T38RateManagement::kLocalTcf ? "localTCF" : "transferredTCF"));
  if (max_buffer > 0) a.push_back("T38FaxMaxBuffer:" + std::to_string(max_buffer));
  if (max_datagram > 0) a.push_back("T38FaxMaxDatagram:" + std::to_string(max_datagram));
  switch (error_correction) {
    case T38ErrorCorrection::kRedundancy: a.emplace_back("T38FaxUdpEC:t38UDPRedundancy"); break;
    case T38ErrorCorrection::kFec: a.emplace_back("T38FaxUdpEC:t38UDPFEC"); break;
    case T38ErrorCorrection::kNone: a.emplace_back("T38FaxUdpEC:t38UDPNoEC"); break;
  }
  return a;
}

T38Negotiation negotiate_t38(const T38Capabilities& ours, T38Role role,
                             const std::vector<std::string>& remote_attributes) {
  const T38Terms offer = our_offer(ours);
  if (role == T38Role::kOffer) return {offer, offer};

  const T38Terms remote = T38Terms::parse(remote_attributes);
  // The terms both sides then hold to. As answerer we bound the far end's offer by our
  // engine; reading the answer to our offer we bound it by what we offered, so an answer
  // that asks for more than the offer (which Annex D forbids) cannot raise anything.
  const T38Terms& bound = role == T38Role::kAnswer ? remote : offer;
  T38Terms agreed;
  agreed.version = std::min(remote.version, role == T38Role::kAnswer ? ours.max_version : offer.version);
  agreed.max_bit_rate = lower_rate(remote.max_bit_rate, ours.max_bit_rate);
  // The offerer's choice stands (T.38 D.2.3): theirs when we answer, ours when we offered.
  agreed.rate_management = bound.rate_management;
  agreed.error_correction =
      supported_up_to(std::min(remote.error_correction, bound.error_correction), ours);
  agreed.fill_bit_removal = remote.fill_bit_removal && bound.fill_bit_removal && ours.fill_bit_removal;
  agreed.transcoding_mmr = remote.transcoding_mmr && bound.transcoding_mmr && ours.transcoding_mmr;
  agreed.transcoding_jbig = remote.transcoding_jbig && bound.transcoding_jbig && ours.transcoding_jbig;

  T38Negotiation n;
  // Our description: as answerer, the agreed terms with our own receive sizes; having
  // offered, our offer stands as it was sent.
  if (role == T38Role::kAnswer) {
    n.local = agreed;
    n.local.max_buffer = ours.max_buffer;
    n.local.max_datagram = ours.max_datagram;
  } else {
    n.local = offer;
  }
  n.session = agreed;
  n.session.max_buffer = remote.max_buffer;
  n.session.max_datagram = remote.max_datagram;
  return n;
}

}  // namespace faxbridge::sip
