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
//
// Which of the trusted server's fields count (trusted_results): those it wrote when the
// message reached it, the topmost run. A receiving server prepends its fields above the
// Received field of the hop that handed it the message (Postfix puts a milter's field
// above its own Received; RFC 8601 section 4 asks for the top), so the first field of
// the trusted authserv-id from the top starts the run and the next Received field ends
// it; a field of the trusted id below that Received was in the message before the trusted
// server saw it: the sender wrote it. The server must still delete such fields (RFC 8601
// section 5), and opendkim does for fields with a DKIM result, but by default not a
// forged `spf=pass` or `dmarc=pass` under its id (RemoveARAll is off), which this rule
// then ignores as long as the server stamps every mail (opendkim's AlwaysAddARHeader).
// Several fields in the run all count: one per filter of the same server (opendkim's
// DKIM, an SPF checker, opendmarc), each its own field with the same authserv-id.
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

// One header field as it stands in the message: its name and its raw value.
struct HeaderField {
  std::string name;
  std::string value;
};

// The values of the Authentication-Results fields the trusted server wrote on receipt
// (see above), from the header's fields listed top first; empty when it wrote none.
std::vector<std::string> trusted_results(const std::vector<HeaderField>& fields_top_first,
                                         std::string_view authserv_id);

}  // namespace faxbridge::ingest
