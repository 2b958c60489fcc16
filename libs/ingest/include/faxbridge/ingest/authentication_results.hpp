#pragma once
// RFC 8601 Authentication-Results: the receiving mail server's verdicts (DKIM, SPF,
// DMARC) on a message, as one header field per server that checked it. Only the fields
// of the server we trust (its authserv-id, a setting) count: any other field may have
// been written by the sender (RFC 8601 section 5), so it is ignored, never believed.
//
// The sender counts as authenticated for its From domain when the trusted results show
//   dkim=pass with header.d (or header.i's domain) aligned with the From domain, or
//   spf=pass with smtp.mailfrom's domain aligned with it (DMARC's identifier alignment,
//   RFC 7489 section 3.1), or
//   dmarc=pass with header.from the From domain.
// Aligned: the same domain, or one a subdomain of the other (DMARC's relaxed mode,
// approximated without the public suffix list: a domain under a public suffix cannot
// pass SPF or DKIM as the suffix itself).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faxbridge::ingest {

struct AuthResult {
  std::string method;  // lower case: "dkim", "spf", "dmarc", ...
  std::string result;  // lower case: "pass", "fail", "none", ...
  // "ptype.property" (lower case) -> value as written: {"header.d", "example.com"}
  std::vector<std::pair<std::string, std::string>> properties;
  std::string property(std::string_view key) const;
};

struct AuthenticationResults {
  std::string authserv_id;
  std::vector<AuthResult> results;  // empty for "; none"
};

// One field's value (without "Authentication-Results:"); nullopt when it does not follow
// the RFC's grammar (such a field is ignored, section 2.2).
std::optional<AuthenticationResults> parse_authentication_results(std::string_view value);

bool domains_aligned(std::string_view a, std::string_view b);

// Whether the fields of `authserv_id` (case-insensitive) among `field_values` show the
// From domain authenticated (see above). Which rule passed is put into `how` when given.
bool sender_authenticated(const std::vector<std::string>& field_values, std::string_view authserv_id,
                          std::string_view from_domain, std::string* how = nullptr);

}  // namespace faxbridge::ingest
