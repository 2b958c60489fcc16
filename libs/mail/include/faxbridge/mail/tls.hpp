#pragma once
// How a mail session (SMTP out, IMAP and POP3 in) protects its connection. STARTTLS is
// required when chosen: never a silent fall-back to plain text.
#include <string>

namespace faxbridge::mail {

enum class TlsMode { kNone, kStartTls, kImplicit };

// The values of the settings smtp.security and mail.security: "starttls", "tls"
// (implicit TLS: ports 465, 993, 995), "none"; false for anything else.
bool parse_tls_mode(const std::string& text, TlsMode& out);
const char* tls_mode_name(TlsMode mode);

}  // namespace faxbridge::mail
