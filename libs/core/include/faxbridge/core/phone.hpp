#pragma once
// Phone-number normalisation. Numbers arrive as people write them ("+39 (02) 978-65.403",
// "0044 20 7946 0000", "403"); routing, DID matching and duplicate-call limits need one
// canonical form:
//   - international numbers become "+<country code><national number>";
//   - with a home country configured, national numbers ("02 9786 5403") become
//     international too;
//   - anything else (an extension, a short code) stays as its digits.
// Letters are refused rather than guessed from a keypad.
#include <string>
#include <string_view>

#include "faxbridge/core/result.hpp"

namespace faxbridge {

struct DialPlan {
  std::string country_code;                // home country without '+', e.g. "39"; empty: unknown
  std::string international_prefix = "00"; // what callers dial before a country code
  std::string national_prefix = "0";       // trunk prefix before a national number
};

enum class NumberKind { kInternational, kLocal };

struct PhoneNumber {
  std::string canonical;  // "+390297865403" or "403"
  NumberKind kind = NumberKind::kLocal;

  bool operator==(const PhoneNumber&) const = default;
};

// E.164 allows 15 digits; the backstop leaves room for dial prefixes and PBX codes.
inline constexpr std::size_t kMaxPhoneDigits = 20;

Result<PhoneNumber> normalize_phone(std::string_view raw, const DialPlan& plan = {});

// The digits to dial through a gateway in this plan: national numbers of the home
// country with the national prefix, others with the international prefix.
std::string dialable(const PhoneNumber& number, const DialPlan& plan);

}  // namespace faxbridge
