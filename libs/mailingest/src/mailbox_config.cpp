// The mail.* settings mapped (mailbox_config.hpp). The catalog has checked each value's
// type and bounds already; this file maps them and refuses only what would make every
// poll fail, so the administrator reads the reason once, in words.
#include "faxbridge/mailingest/mailbox_config.hpp"

#include <cctype>

namespace faxbridge::mailingest {
namespace {

std::vector<std::string> split_domains(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(cur);
    cur.clear();
  };
  for (char c : text) {
    if (c == ',' || c == ' ' || c == ';' || c == '\t') flush();
    else cur.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  flush();
  return out;
}

}  // namespace

namespace {

void map_account(const db::SettingsSnapshot& s, mail::MailboxSettings& m) {
  m.host = s.get_string("mail.host");
  m.port = static_cast<int>(s.get_int("mail.port"));
  const std::string protocol = s.get_string("mail.protocol");
  mail::MailboxProtocol p{};
  if (mail::parse_mailbox_protocol(protocol, p)) m.protocol = p;
  const std::string security = s.get_string("mail.security");
  mail::TlsMode t{};
  if (mail::parse_tls_mode(security, t)) m.tls = t;
  m.verify_certificate = s.get_bool("mail.verify_certificate");
  m.ca_file = s.get_string("mail.ca_file");
  m.pinned_sha256 = s.get_string("mail.pinned_sha256");
  m.username = s.get_string("mail.username");
  m.folder = s.get_string("mail.folder").empty() ? "INBOX" : s.get_string("mail.folder");
  m.processed_folder = s.get_string("mail.processed_folder");
  m.failed_folder = s.get_string("mail.failed_folder").empty() ? "failed" : s.get_string("mail.failed_folder");
}

}  // namespace

Result<mail::MailboxSettings> mailbox_settings(const db::SettingsSnapshot& s, const Result<secret_box::Key>& key) {
  mail::MailboxSettings m;
  map_account(s, m);
  // As the session itself would answer: nothing to reach (503 from the Test action).
  if (m.host.empty()) return Error(Code::k_mail_mailbox_unreachable, "No mailbox server is set (mail.host).");
  if (auto e = mail::resolve_endpoint(m); !e) return e.error();
  auto password = db::settings::reveal(s, "mail.password", key);
  if (!password) return password.error();
  m.password = std::move(*password);
  return m;
}

Result<MailIngestConfig> mail_ingest_config(const db::SettingsSnapshot& snapshot) {
  return mail_ingest_config(snapshot, secret_box::environment_key());
}

Result<MailIngestConfig> mail_ingest_config(const db::SettingsSnapshot& s, const Result<secret_box::Key>& key) {
  MailIngestConfig out;
  out.enabled = s.get_bool("mail.enabled") && s.get_bool("outgoing.enabled");
  out.poll_interval = std::chrono::seconds(s.get_int("mail.poll_interval_s"));
  mail::MailboxSettings& m = out.mailbox;
  map_account(s, m);
  out.mailbox_name = m.username + "@" + m.host + ":" + std::to_string(m.port) + "/" + m.folder;
  out.admin_email = s.get_string("company.admin_email");
  out.alert_interval = std::chrono::minutes(s.get_int("notifications.admin_alert_interval_min"));

  ingest::IngestSettings& i = out.ingest;
  i.fax_domains = split_domains(s.get_string("mail.fax_domains"));
  i.dial_plan.country_code = s.get_string("routing.country_code");
  i.dial_plan.international_prefix = s.get_string("routing.international_prefix");
  i.dial_plan.national_prefix = s.get_string("routing.national_prefix");
  if (const std::string own = s.get_string("smtp.from_address"); !own.empty()) i.own_addresses.push_back(own);
  i.require_authentication = s.get_bool("mail.require_authentication");
  i.trusted_authserv_id = s.get_string("mail.trusted_authserv_id");
  i.max_recipients = static_cast<std::size_t>(s.get_int("mail.max_recipients"));
  i.max_message_bytes = static_cast<std::size_t>(s.get_int("mail.max_message_bytes"));

  if (!out.enabled) return out;
  if (m.host.empty())
    return Error(Code::k_config_invalid, "Email-to-fax is enabled but no mailbox server is set (mail.host).");
  if (i.fax_domains.empty())
    return Error(Code::k_config_invalid, "Email-to-fax is enabled but no fax domain is set (mail.fax_domains): "
                                         "users write to <number>@<fax domain>.");
  if (i.require_authentication && i.trusted_authserv_id.empty())
    return Error(Code::k_config_invalid, "mail.require_authentication is on but no mail.trusted_authserv_id is set: "
                                         "no Authentication-Results could be trusted, so every mail would be refused.");
  auto account = mailbox_settings(s, key);
  if (!account) return account.error();
  m = std::move(*account);
  return out;
}

}  // namespace faxbridge::mailingest
