#include "faxbridge/core/station_id.hpp"

namespace faxbridge::station {

namespace {

std::string ident(std::string_view text) { return std::string(text.substr(0, kMaxIdent)); }

}  // namespace

std::string number_only(std::string_view raw) {
  std::string out;
  for (const char c : raw) {
    if (c >= '0' && c <= '9') out += c;
    else if (c == '+' && out.empty()) out += c;
  }
  return out == "+" ? std::string() : out;
}

std::string calling_number(std::string_view sender_fax, std::string_view company_fax) {
  std::string n = number_only(sender_fax);
  return n.empty() ? number_only(company_fax) : n;
}

std::string tsid(std::string_view company_tsid, std::string_view sender_fax, std::string_view company_fax,
                 std::string_view fallback) {
  if (!company_tsid.empty()) return ident(company_tsid);
  const std::string n = calling_number(sender_fax, company_fax);
  return ident(n.empty() ? fallback : std::string_view(n));
}

}  // namespace faxbridge::station
