#pragma once
// The SSRF guard: a webhook must not become a way into the internal network. A URL's
// host is resolved once; every address it resolves to is classified, and the delivery
// connects to the address that was checked (cpp-httplib's host -> address map), never
// resolving again, so a DNS answer that changes between the check and the connect
// (DNS rebinding) cannot slip a private address in. Refused unless the setting
// webhooks.allow_private_addresses is on: loopback (127/8, ::1), link-local
// (169.254/16, fe80::/10), private (10/8, 172.16/12, 192.168/16, fc00::/7), CGNAT
// (100.64/10), "this network" (0/8, ::), multicast (224/4, ff00::/8), the limited
// broadcast and reserved 240/4, and IPv4-mapped IPv6 forms of all of them.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/result.hpp"

namespace faxbridge::webhook {

enum class AddressClass { kPublic, kLoopback, kLinkLocal, kPrivate, kSharedCgnat, kUnspecified, kMulticast, kReserved };

std::string_view address_class_name(AddressClass c);
// A numeric IPv4 or IPv6 address ("10.0.0.1", "::1"); kReserved when it is not one.
AddressClass classify_address(std::string_view numeric);
inline bool is_public(AddressClass c) { return c == AddressClass::kPublic; }

struct Target {
  std::string scheme;  // http | https
  std::string host;    // as in the URL (brackets removed from an IPv6 literal)
  int port = 0;
  std::string path;    // with the query; "/" when the URL has none
  std::string address;  // the numeric address to connect to
};

// Parses an http(s) URL (webhook.unreachable on a malformed one: the API checked it).
Result<Target> parse_url(std::string_view url);
// Resolves target.host and picks the address to connect to: the first one, provided
// none of the addresses is refused (a name that resolves to a public and a private
// address is refused: which one a client would use is not ours to bet on).
// webhook.address_refused / webhook.unreachable (no address).
Result<Target> resolve(Target target, bool allow_private);

}  // namespace faxbridge::webhook
