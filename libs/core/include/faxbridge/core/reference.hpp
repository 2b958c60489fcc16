#pragma once
// Reference numbers: every fax sent or received gets "YYYY.NNNNNNNN", the year and a
// sequence padded to 8 digits that restarts each year. The sequence is drawn from
// Postgres (db::ReferenceCounter) so any number of instances stay unique; this type
// only formats and parses.
#include <cstdint>
#include <string>
#include <string_view>

#include "faxbridge/core/result.hpp"

namespace faxbridge {

inline constexpr std::int64_t kMaxReferenceSequence = 99'999'999;

struct ReferenceNumber {
  int year = 0;
  std::int64_t sequence = 0;

  std::string str() const;
  static Result<ReferenceNumber> make(int year, std::int64_t sequence);
  static Result<ReferenceNumber> parse(std::string_view text);
  bool operator==(const ReferenceNumber&) const = default;
};

}  // namespace faxbridge
