#pragma once
// Who a fax says it is from: one rule for the TSID that the page header prints on every
// page (libs/document) and that T.30 sends in its TSI frame (libs/gateway), and for the
// calling number SIP carries, so the header and the receiving machine's display agree.
//  - calling number: the sender's own fax number, else the company fax number, each kept
//    to a leading '+' and digits (what a SIP From user and a T.30 ident can carry);
//  - TSID: the company TSID when the administrator set one, else the calling number, else
//    a fallback (the gateway's configured ident); at most 20 characters (T.30 5.3.6.2.4).
#include <cstddef>
#include <string>
#include <string_view>

namespace faxbridge::station {

inline constexpr std::size_t kMaxIdent = 20;

// A leading '+' and the digits of `raw`; "" when it has no digit.
std::string number_only(std::string_view raw);
std::string calling_number(std::string_view sender_fax, std::string_view company_fax);
std::string tsid(std::string_view company_tsid, std::string_view sender_fax, std::string_view company_fax,
                 std::string_view fallback = {});

}  // namespace faxbridge::station
