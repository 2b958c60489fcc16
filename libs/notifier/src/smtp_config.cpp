// See smtp_config.hpp. The catalog has already checked each value's type and bounds; this
// file only maps them, and refuses what libs/mail would refuse later anyway (an empty
// host, a From address parse_address does not take), so the error comes before a
// connection is tried.
#include "faxbridge/notifier/smtp_config.hpp"

#include <chrono>

namespace faxbridge::notifier {

Result<SmtpConfig> smtp_config(const db::SettingsSnapshot& snapshot) {
  return smtp_config(snapshot, secret_box::environment_key());
}

Result<SmtpConfig> smtp_config(const db::SettingsSnapshot& snapshot, const Result<secret_box::Key>& key) {
  SmtpConfig out;
  mail::SmtpSettings& s = out.smtp;
  s.host = snapshot.get_string("smtp.host");
  const std::string from = snapshot.get_string("smtp.from_address");
  if (s.host.empty() || from.empty()) {
    return Error(Code::k_notification_not_configured,
                 std::string("No mail can be sent: ") +
                     (s.host.empty() ? "no SMTP server is set (smtp.host)" : "no From address is set (smtp.from_address)") +
                     ". An administrator sets it under the settings (SMTP).");
  }
  s.port = static_cast<int>(snapshot.get_int("smtp.port"));
  if (!mail::parse_tls_mode(snapshot.get_string("smtp.security"), s.tls)) s.tls = mail::TlsMode::kStartTls;
  s.verify_certificate = snapshot.get_bool("smtp.verify_certificate");
  s.ca_file = snapshot.get_string("smtp.ca_file");
  s.pinned_sha256 = snapshot.get_string("smtp.pinned_sha256");
  s.timeout = std::chrono::seconds(snapshot.get_int("smtp.timeout_s"));
  if (snapshot.get_bool("smtp.auth_enabled")) {
    s.username = snapshot.get_string("smtp.username");
    auto password = db::settings::reveal(snapshot, "smtp.password", key);
    if (!password) return password.error();
    s.password = std::move(*password);
  }
  auto address = mail::parse_address(from, snapshot.get_string("smtp.from_name"));
  if (!address) {
    Error e = address.error();
    e.message = "The From address (smtp.from_address) cannot be used: " + e.message;
    return e;
  }
  out.from = std::move(*address);
  return out;
}

}  // namespace faxbridge::notifier
