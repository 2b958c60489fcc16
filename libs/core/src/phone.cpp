#include "faxbridge/core/phone.hpp"

#include <cctype>

namespace faxbridge {
namespace {

bool is_separator(char c) {
  return c == ' ' || c == '\t' || c == '.' || c == '-' || c == '(' || c == ')' || c == '[' ||
         c == ']' || c == '/';
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return !prefix.empty() && s.substr(0, prefix.size()) == prefix;
}

Error invalid(std::string_view raw, std::string why) {
  return Error(Code::k_phone_invalid,
               "The fax number \"" + std::string(raw) + "\" " + std::move(why) +
                   "; write it with digits, optionally a leading + and spaces, dots, dashes "
                   "or brackets.");
}

}  // namespace

Result<PhoneNumber> normalize_phone(std::string_view raw, const DialPlan& plan) {
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits += c;
    } else if (c == '+') {
      if (plus || !digits.empty()) return invalid(raw, "has a '+' that is not at the start");
      plus = true;
    } else if (is_separator(c)) {
      continue;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      return invalid(raw, std::string("contains the letter '") + c + "'");
    } else {
      std::string shown = std::isprint(static_cast<unsigned char>(c))
                              ? std::string(1, c)
                              : "\\x" + std::to_string(static_cast<unsigned char>(c));
      return invalid(raw, "contains the character '" + shown + "'");
    }
  }
  if (digits.empty()) {
    return Error(Code::k_phone_empty, "The fax number is empty; give the number to dial.");
  }
  if (digits.size() > kMaxPhoneDigits) {
    return Error(Code::k_phone_too_long,
                 "The fax number \"" + std::string(raw) + "\" has " +
                     std::to_string(digits.size()) + " digits; at most " +
                     std::to_string(kMaxPhoneDigits) + " are allowed.");
  }

  if (plus) return PhoneNumber{"+" + digits, NumberKind::kInternational};
  if (starts_with(digits, plan.international_prefix)) {
    std::string rest = digits.substr(plan.international_prefix.size());
    if (rest.empty()) return invalid(raw, "has an international prefix but no number after it");
    return PhoneNumber{"+" + rest, NumberKind::kInternational};
  }
  if (!plan.country_code.empty() && starts_with(digits, plan.national_prefix) &&
      digits.size() > plan.national_prefix.size()) {
    return PhoneNumber{"+" + plan.country_code + digits.substr(plan.national_prefix.size()),
                       NumberKind::kInternational};
  }
  return PhoneNumber{digits, NumberKind::kLocal};
}

std::string dialable(const PhoneNumber& number, const DialPlan& plan) {
  if (number.kind == NumberKind::kLocal) return number.canonical;
  std::string_view digits = std::string_view(number.canonical).substr(1);
  if (!plan.country_code.empty() && starts_with(digits, plan.country_code)) {
    return plan.national_prefix + std::string(digits.substr(plan.country_code.size()));
  }
  return plan.international_prefix + std::string(digits);
}

}  // namespace faxbridge
