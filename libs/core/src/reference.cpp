#include "faxbridge/core/reference.hpp"

#include <cctype>
#include <cstdio>

namespace faxbridge {

std::string ReferenceNumber::str() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d.%08lld", year, static_cast<long long>(sequence));
  return buf;
}

Result<ReferenceNumber> ReferenceNumber::make(int year, std::int64_t sequence) {
  if (year < 1970 || year > 9999) {
    return Error(Code::k_reference_invalid,
                 "A reference number needs a four-digit year; got " + std::to_string(year) + ".");
  }
  if (sequence < 1) {
    return Error(Code::k_reference_invalid, "A reference sequence starts at 1.");
  }
  if (sequence > kMaxReferenceSequence) {
    return Error(Code::k_reference_exhausted,
                 "The reference numbers of " + std::to_string(year) +
                     " are exhausted (more than 99,999,999 faxes this year).");
  }
  return ReferenceNumber{year, sequence};
}

Result<ReferenceNumber> ReferenceNumber::parse(std::string_view text) {
  auto bad = [&] {
    return Error(Code::k_reference_invalid,
                 "\"" + std::string(text) +
                     "\" is not a reference number; expected YYYY.NNNNNNNN, e.g. 2026.00000042.");
  };
  if (text.size() != 13 || text[4] != '.') return bad();
  int year = 0;
  std::int64_t seq = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 4) continue;
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad();
    if (i < 4) year = year * 10 + (text[i] - '0');
    else seq = seq * 10 + (text[i] - '0');
  }
  auto r = make(year, seq);
  if (!r) return bad();
  return r;
}

}  // namespace faxbridge
