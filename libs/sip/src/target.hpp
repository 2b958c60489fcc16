#pragma once
// Where a call or a ping goes: gateway addresses, numbers and header text as the API
// takes them, turned into SIP URIs or refused. Private to libs/sip; no sofia here, so
// the public functions check their arguments before anything reaches the loop thread.
#include <string>
#include <string_view>

#include "faxbridge/core/result.hpp"
#include "faxbridge/sip/user_agent.hpp"

namespace faxbridge::sip::detail {

// The far end's user parts and numbers are short; longer ones are refused, not truncated.
inline constexpr std::size_t kMaxUserLength = 64;

// Digits with + * #, at most kMaxUserLength.
bool valid_number(std::string_view number);
// host[:port] with an IPv6 host in brackets; letters, digits, . - : [ ].
bool valid_host_port(std::string_view host_port);
// Nothing a header could be split or forged with (control characters, < > ").
bool safe_header_text(std::string_view text);

// A gateway address as routes give it, "host[:port][;transport=udp|tcp|tls]" (the one
// URI parameter it may carry), as the SIP URI of `user` there; with no user, the URI of
// the address itself. Calls and the OPTIONS monitor read addresses with this one function.
Result<std::string> address_uri(std::string_view address, std::string_view user);
// The OPTIONS monitor's targets: an address, "sip:" in front of it allowed.
Result<std::string> monitor_uri(std::string_view target);
// A call's Request-URI: a full sip:/sips: URI as given, or the number at an address.
Result<std::string> target_uri(const CallRequest& request);

// "sip:+390297865403@gw:5060" -> "sip:+3902978***03@gw:5060": errors reach logs at
// info and above, where numbers are masked.
std::string masked_target(std::string_view uri);

}  // namespace faxbridge::sip::detail
