#include "faxbridge/db/settings.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "pqxx_support.hpp"

namespace faxbridge::db {
namespace {

using T = SettingType;
using F = SettingFormat;

// "ab:CD:..." or "abcd...": 64 hex digits once colons and spaces are taken out.
bool is_sha256_fingerprint(const std::string& s) {
  int digits = 0;
  for (char c : s) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    ++digits;
  }
  return digits == 64;
}

// "http(s)://host[:port][/path]": a host after the scheme, nothing a link appended to
// it could be confused by (a query, a fragment, white space, user:password).
bool is_http_base_url(const std::string& s) {
  std::string_view rest = s;
  if (rest.rfind("https://", 0) == 0) rest.remove_prefix(8);
  else if (rest.rfind("http://", 0) == 0) rest.remove_prefix(7);
  else return false;
  const auto host_end = rest.find('/');
  const std::string_view authority = rest.substr(0, host_end);
  if (authority.empty() || authority.front() == ':') return false;
  for (char c : rest) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '?' || c == '#' || c == '@' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
      return false;
  }
  return true;
}

Error no_such_setting(const std::string& key) {
  return Error(Code::k_setting_unknown, "There is no setting named \"" + key + "\".");
}

}  // namespace

const std::vector<SettingSpec>& setting_catalog() {
  // key, type, default, min, max, choices, description
  static const std::vector<SettingSpec> catalog = {
      {"outgoing.enabled", T::kBool, "true", 0, 0, {}, "Enable outgoing faxes (email-to-fax, web-to-fax, API)."},
      {"incoming.enabled", T::kBool, "true", 0, 0, {}, "Enable incoming faxes."},
      {"incoming.attachment_format", T::kChoice, "\"pdf\"", 0, 0, {"pdf", "tif"}, "Format of received faxes attached to mails and stored."},
      {"incoming.notify_failed_calls", T::kBool, "false", 0, 0, {}, "Mail the recipient when a call was notified but no page arrived."},
      {"incoming.unknown_number", T::kChoice, "\"default_user\"", 0, 0, {"default_user", "refuse"}, "What to do with a fax to a number nobody owns."},
      {"incoming.default_user", T::kString, "\"\"", 0, 64, {}, "Username that receives faxes nobody else takes."},
      {"receipts.return_enabled", T::kBool, "true", 0, 0, {}, "Mail the sender when a fax was sent or finally failed."},
      {"receipts.enqueued_enabled", T::kBool, "false", 0, 0, {}, "Mail the sender when a fax entered the outgoing queue."},
      {"fax.max_attempts", T::kInt, "3", 1, 100, {}, "How many times a fax is dialled before it fails."},
      {"fax.retry_interval_s", T::kInt, "300", 10, 86400, {}, "Seconds between attempts (default for every cause)."},
      {"fax.retry_busy_s", T::kInt, "180", 10, 86400, {}, "Seconds before retrying after a busy signal."},
      {"fax.retry_no_answer_s", T::kInt, "300", 10, 86400, {}, "Seconds before retrying after no answer."},
      {"fax.retry_failure_s", T::kInt, "600", 10, 86400, {}, "Seconds before retrying after a line or protocol failure."},
      {"fax.max_concurrent_outgoing", T::kInt, "8", 0, 10000, {}, "Most faxes sent at once; the other channels stay free for incoming."},
      {"fax.resolution", T::kChoice, "\"fine\"", 0, 0, {"fine", "standard"}, "Default resolution of sent faxes."},
      {"company.name", T::kString, "\"\"", 0, 200, {}, "Company name on cover pages."},
      {"company.address", T::kString, "\"\"", 0, 500, {}, "Company address on cover pages."},
      {"company.phone", T::kString, "\"\"", 0, 64, {}, "Company phone on cover pages."},
      {"company.fax", T::kString, "\"\"", 0, 64, {}, "Company fax on cover pages."},
      {"company.tsid", T::kString, "\"\"", 0, 20, {}, "Transmitting station id; overrides the calling number in page headers."},
      {"company.admin_email", T::kEmail, "\"\"", 0, 254, {}, "Fax administrator mail for problems and significant events."},
      {"routing.global_prefix", T::kString, "\"\"", 0, 10, {}, "Prefix added to off-net numbers."},
      {"routing.network_type", T::kChoice, "\"external_only\"", 0, 0, {"external_only", "internal_and_external"}, "Whether internal numbers are dialled without the global prefix."},
      {"routing.internal_max_digits", T::kInt, "5", 1, 10, {}, "With internal_and_external routing, local numbers up to this many digits are internal (no prefix)."},
      {"routing.country_code", T::kString, "\"\"", 0, 4, {}, "Home country code for number normalisation (e.g. 39)."},
      {"routing.international_prefix", T::kString, "\"00\"", 0, 4, {}, "International dialling prefix."},
      {"routing.national_prefix", T::kString, "\"0\"", 0, 4, {}, "National trunk prefix."},
      {"sip.allow_g711_outgoing", T::kBool, "false", 0, 0, {}, "Allow G.711 for outgoing faxes."},
      {"sip.disable_t38_incoming", T::kBool, "false", 0, 0, {}, "Disable T.38 for incoming faxes."},
      {"sip.g711_memory_days", T::kInt, "30", 1, 3650, {}, "Days a number whose T.38 failed is dialled on G.711 before T.38 is tried again."},
      {"retention.fax_days", T::kInt, "0", 0, 36500, {}, "Delete faxes older than this many days (0: never)."},
      {"retention.cdr_days", T::kInt, "0", 0, 36500, {}, "Delete call detail records older than this many days (0: never)."},
      {"users.default_permission_level", T::kInt, "2", 0, 10, {}, "Permission level of users without their own: 0 no fax, 2 fax user, 10 fax administrator."},
      {"mail.poll_interval_s", T::kInt, "20", 5, 3600, {}, "Seconds between mailbox checks for email-to-fax."},
      // The seed's "Outgoing faxes (POP3/IMAP)": the mailbox email-to-fax reads.
      {"mail.host", T::kString, "\"\"", 0, 255, {}, "POP3 or IMAP server of the mailbox email-to-fax reads (empty: email-to-fax off)."},
      {"mail.port", T::kInt, "993", 1, 65535, {}, "Its port; the protocol follows from it: 110 POP3, 995 POP3 over TLS, 143 IMAP, 993 IMAP over TLS."},
      {"mail.address", T::kEmail, "\"\"", 0, 254, {}, "The mailbox's address: users send their faxes to it."},
      {"mail.username", T::kString, "\"\"", 0, 255, {}, "User name of the mailbox account."},
      {"mail.password", T::kString, "\"\"", 0, 1024, {}, "Password of the mailbox account.", true},
      // What mail-ingest needs beyond the seed's fields (issue 14; libs/mailingest reads them).
      {"mail.enabled", T::kBool, "false", 0, 0, {}, "Enable email-to-fax: mail-ingest reads the mailbox (mail.host) and faxes what users send to it."},
      {"mail.protocol", T::kChoice, "\"auto\"", 0, 0, {"auto", "imap", "pop3"}, "auto: from mail.port (110 POP3, 995 POP3 over TLS, 143 IMAP, 993 IMAP over TLS); imap or pop3 for any other port."},
      {"mail.security", T::kChoice, "\"auto\"", 0, 0, {"auto", "tls", "starttls", "none"}, "auto: TLS from the start on 993 and 995, STARTTLS otherwise; tls; starttls (required); none (plain: a server on the same host only)."},
      {"mail.verify_certificate", T::kBool, "true", 0, 0, {}, "Check the mailbox server's certificate (off: trust any certificate; a test server only)."},
      {"mail.ca_file", T::kString, "\"\"", 0, 1024, {}, "PEM file of the CAs that sign the mailbox server's certificate, an absolute path on mail-ingest's machines (empty: the system's CA bundle).", false, F::kAbsolutePath},
      {"mail.pinned_sha256", T::kString, "\"\"", 0, 95, {}, "SHA-256 of the mailbox server's certificate (its DER form); set, only that certificate is trusted.", false, F::kSha256Fingerprint},
      {"mail.folder", T::kString, "\"INBOX\"", 0, 255, {}, "IMAP folder the faxes are read from."},
      {"mail.processed_folder", T::kString, "\"processed\"", 0, 255, {}, "IMAP folder a faxed mail is moved to (created when missing); empty: it stays, marked read and flagged. POP3 deletes it."},
      {"mail.failed_folder", T::kString, "\"failed\"", 0, 255, {}, "IMAP folder a mail that cannot be faxed is moved to for the administrator (created when missing)."},
      {"mail.fax_domains", T::kString, "\"\"", 0, 1024, {}, "Fax domains, comma-separated: a mail to <number>@<fax domain> is a fax to that number."},
      {"mail.max_recipients", T::kInt, "50", 1, 1000, {}, "Most fax recipients one mail may name."},
      {"mail.max_message_bytes", T::kInt, "26214400", 65536, 104857600, {}, "Largest mail faxed, in bytes; a larger one is refused unread."},
      {"mail.require_authentication", T::kBool, "false", 0, 0, {}, "Fax only mails whose Authentication-Results from mail.trusted_authserv_id show DKIM for the sender's domain or SPF aligned with it (forged senders refused)."},
      {"mail.trusted_authserv_id", T::kString, "\"\"", 0, 255, {}, "authserv-id of the receiving mail server whose Authentication-Results are trusted (RFC 8601); others are ignored."},
      // The seed's "Incoming faxes (SMTP)": the account fax-to-email, receipts and alerts go out through.
      {"smtp.host", T::kString, "\"\"", 0, 255, {}, "SMTP server that fax-to-email, receipts and alerts are sent through (empty: no mail is sent)."},
      {"smtp.port", T::kInt, "587", 1, 65535, {}, "Its port (25, 465 with smtp.security tls, 587 with starttls)."},
      {"smtp.security", T::kChoice, "\"starttls\"", 0, 0, {"starttls", "tls", "none"}, "starttls: upgrade the connection; tls: TLS from the start (secure SMTP); none: plain (a trusted relay only)."},
      {"smtp.auth_enabled", T::kBool, "false", 0, 0, {}, "Authenticate to the SMTP server (when it requires it to relay)."},
      {"smtp.username", T::kString, "\"\"", 0, 255, {}, "SMTP user name."},
      {"smtp.password", T::kString, "\"\"", 0, 1024, {}, "SMTP password.", true},
      {"smtp.from_address", T::kEmail, "\"\"", 0, 254, {}, "From address of the mails Faxbridge sends; not the email-to-fax mailbox (mail.address), or auto-replies would loop."},
      {"smtp.from_name", T::kString, "\"Faxbridge\"", 0, 200, {}, "Display name of the From address (what readers see as the sender)."},
      {"smtp.verify_certificate", T::kBool, "true", 0, 0, {}, "Check the SMTP server's certificate (off: trust any certificate; a test server only)."},
      {"smtp.ca_file", T::kString, "\"\"", 0, 1024, {}, "PEM file of the CAs that sign the SMTP server's certificate, an absolute path on the sending services' machines (empty: the system's CA bundle).", false, F::kAbsolutePath},
      {"smtp.pinned_sha256", T::kString, "\"\"", 0, 95, {}, "SHA-256 of the SMTP server's certificate (its DER form, as openssl x509 -noout -fingerprint -sha256 prints it); set, only that certificate is trusted.", false, F::kSha256Fingerprint},
      {"smtp.timeout_s", T::kInt, "30", 5, 300, {}, "Seconds an SMTP server may take to answer each step before the mail is tried again later."},
      // The failsafe of the seed's "Incoming faxes (SMTP)": mails are queued and retried.
      {"notifications.retry_hours", T::kInt, "48", 1, 720, {}, "Hours a mail or webhook is retried while the server is down or deferring before it fails and the administrator is told (mail servers queue for 2 days)."},
      {"notifications.admin_alert_interval_min", T::kInt, "60", 1, 1440, {}, "Minutes between two alerts to the fax administrator for the same cause: an outage is one mail, not a thousand."},
      {"webhooks.link_lifetime_s", T::kInt, "3600", 60, 604800, {}, "Seconds the signed download links in a webhook body stay valid, from the delivery that carries them (each try mints its own)."},
      {"web.public_base_url", T::kString, "\"http://127.0.0.1:8080\"", 0, 500, {}, "The address web-api is reached at from outside (https://fax.example.com, or with a path prefix behind a proxy): the base of the signed download links in webhook bodies. Empty: the default, web-api's own default address.", false, F::kHttpUrl},
      // Added to the system's bundle, not instead of it (smtp.ca_file replaces it): the notifier
      // has one SMTP server but many webhook receivers, public ones among them.
      {"webhooks.ca_file", T::kString, "\"\"", 0, 1024, {}, "PEM file of private CAs trusted for https webhook URLs besides the system's CA bundle, an absolute path on the notifier's machines (empty: the system's bundle alone). Certificates are always checked, chain and host name.", false, F::kAbsolutePath},
      {"webhooks.allow_private_addresses", T::kBool, "false", 0, 0, {}, "Allow webhook URLs that resolve to loopback, link-local or private addresses (off: a webhook cannot reach the internal network)."},
      {"incoming.attach_thumbnail", T::kBool, "true", 0, 0, {}, "Show a picture of the first page inside fax-to-email mails and receipts."},
  };
  return catalog;
}

std::string_view setting_type_name(SettingType type) {
  switch (type) {
    case T::kBool: return "boolean";
    case T::kInt: return "integer";
    case T::kString: return "string";
    case T::kChoice: return "choice";
    case T::kEmail: return "email";
  }
  return "string";
}

const SettingSpec* find_setting(const std::string& key) {
  const auto& c = setting_catalog();
  auto it = std::find_if(c.begin(), c.end(), [&](const SettingSpec& s) { return s.key == key; });
  return it == c.end() ? nullptr : &*it;
}

Result<std::string> validate_setting(const std::string& key, const std::string& value_json) {
  const SettingSpec* spec = find_setting(key);
  if (!spec) return no_such_setting(key);
  auto bad = [&](const std::string& expected) {
    return Error(Code::k_setting_invalid, "The setting " + key + " must be " + expected + "; got " + value_json + ".");
  };
  nlohmann::json v = nlohmann::json::parse(value_json, nullptr, false);
  if (v.is_discarded()) return bad("valid JSON");
  switch (spec->type) {
    case T::kBool:
      if (!v.is_boolean()) return bad("true or false");
      break;
    case T::kInt:
      if (!v.is_number_integer() || v.get<std::int64_t>() < spec->min || v.get<std::int64_t>() > spec->max) {
        return bad("an integer from " + std::to_string(spec->min) + " to " + std::to_string(spec->max));
      }
      break;
    case T::kString:
      if (!v.is_string() || static_cast<std::int64_t>(v.get<std::string>().size()) > spec->max) {
        return bad("a string of at most " + std::to_string(spec->max) + " characters");
      }
      if (const auto s = v.get<std::string>(); !s.empty()) {
        if (spec->format == F::kAbsolutePath && s.front() != '/') {
          return bad("an absolute path such as /etc/faxbridge/smtp-ca.pem (or empty)");
        }
        if (spec->format == F::kHttpUrl && !is_http_base_url(s)) {
          return bad("an http:// or https:// address such as https://fax.example.com (a host, optionally a port and a "
                     "path; no query; or empty)");
        }
        if (spec->format == F::kSha256Fingerprint && !is_sha256_fingerprint(s)) {
          return bad("a SHA-256 fingerprint: 64 hex digits, colons allowed (or empty)");
        }
      }
      break;
    case T::kEmail: {
      if (!v.is_string()) return bad("a mail address");
      const auto s = v.get<std::string>();
      const auto at = s.find('@');
      if (!s.empty() && (at == std::string::npos || at == 0 || at + 1 == s.size() || s.size() > 254)) {
        return bad("a mail address like fax-admin@example.com");
      }
      break;
    }
    case T::kChoice: {
      std::string expected = "one of";
      for (const auto& c : spec->choices) expected += " \"" + c + "\"";
      if (!v.is_string() ||
          std::find(spec->choices.begin(), spec->choices.end(), v.get<std::string>()) == spec->choices.end()) {
        return bad(expected);
      }
      break;
    }
  }
  return v.dump();
}

Result<std::string> read_stored_setting(const std::string& key, const std::string& value_json) {
  const SettingSpec* spec = find_setting(key);
  if (spec && spec->secret) {
    const auto v = nlohmann::json::parse(value_json, nullptr, false);
    if (v.is_string() && secret_box::is_sealed(v.get<std::string>())) return v.dump();
  }
  return validate_setting(key, value_json);
}

bool SettingsSnapshot::get_bool(const std::string& key) const {
  auto it = values.find(key);
  return it != values.end() && nlohmann::json::parse(it->second, nullptr, false) == true;
}

std::int64_t SettingsSnapshot::get_int(const std::string& key) const {
  auto it = values.find(key);
  if (it == values.end()) return 0;
  auto v = nlohmann::json::parse(it->second, nullptr, false);
  return v.is_number_integer() ? v.get<std::int64_t>() : 0;
}

std::string SettingsSnapshot::get_string(const std::string& key) const {
  auto it = values.find(key);
  if (it == values.end()) return "";
  auto v = nlohmann::json::parse(it->second, nullptr, false);
  return v.is_string() ? v.get<std::string>() : "";
}

namespace settings {

Result<SettingsSnapshot> load(Tx& tx) {
  SettingsSnapshot snap;
  for (const auto& spec : setting_catalog()) snap.values[spec.key] = spec.default_json;
  // Prepared: each submission reads the dial plan through this.
  static const std::string sql = "SELECT key, value::text, version FROM settings";
  auto rows = exec_prepared_text(tx, sql);
  for (const auto& r : rows) {
    const auto key = r[0].as<std::string>();
    // A stored value that no longer validates (an older catalog) falls back to the default.
    if (auto v = read_stored_setting(key, r[1].as<std::string>())) snap.values[key] = *v;
    snap.version = std::max(snap.version, r[2].as<std::int64_t>());
  }
  return snap;
}

Result<std::map<std::string, SettingRow>> rows(Tx& tx) {
  std::map<std::string, SettingRow> out;
  auto rs = W(tx).exec(
      "SELECT s.key, s.value::text, s.version, s.updated_at, s.updated_by, coalesce(u.username, '') "
      "FROM settings s LEFT JOIN users u ON u.id = s.updated_by");
  for (const auto& r : rs) {
    SettingRow row;
    row.key = r[0].as<std::string>();
    const auto text = r[1].as<std::string>();
    if (text != "null") row.value_json = text;
    row.version = r[2].as<std::int64_t>();
    row.updated_at = from_sql_time(r[3].as<std::string>());
    row.updated_by = opt<std::int64_t>(r[4]);
    row.updated_by_username = r[5].as<std::string>();
    out.emplace(row.key, std::move(row));
  }
  return out;
}

Result<std::int64_t> version(Tx& tx) {
  return exec_prepared_text(tx, "SELECT coalesce(max(version), 0) FROM settings")[0][0].as<std::int64_t>();
}

Result<std::int64_t> set(Tx& tx, const std::string& key, const std::string& value_json,
                         std::optional<std::int64_t> updated_by) {
  return set(tx, key, value_json, updated_by, secret_box::environment_key());
}

Result<std::int64_t> set(Tx& tx, const std::string& key, const std::string& value_json,
                         std::optional<std::int64_t> updated_by, const Result<secret_box::Key>& sealing_key) {
  auto v = validate_setting(key, value_json);
  if (!v) return v.error();
  if (find_setting(key)->secret) {
    // Sealed before it leaves the process; "" (no secret) stays "" and needs no key.
    const auto plain = nlohmann::json::parse(*v).get<std::string>();
    if (!plain.empty()) {
      if (!sealing_key) {
        Error e = sealing_key.error();
        e.message = "The secret setting " + key + " was not stored. " + e.message;
        return e;
      }
      v = nlohmann::json(secret_box::seal(*sealing_key, plain)).dump();
    }
  }
  auto r = W(tx).exec_params(
      "INSERT INTO settings (key, value, updated_by) VALUES ($1, $2::jsonb, $3) "
      "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = nextval('settings_version_seq'), "
      "updated_at = now(), updated_by = EXCLUDED.updated_by RETURNING version",
      key, *v, updated_by);
  return r[0][0].as<std::int64_t>();
}

Result<std::int64_t> reset(Tx& tx, const std::string& key, std::optional<std::int64_t> updated_by) {
  if (!find_setting(key)) return no_such_setting(key);
  auto r = W(tx).exec_params(
      "INSERT INTO settings (key, value, updated_by) VALUES ($1, 'null'::jsonb, $2) "
      "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = nextval('settings_version_seq'), "
      "updated_at = now(), updated_by = EXCLUDED.updated_by RETURNING version",
      key, updated_by);
  return r[0][0].as<std::int64_t>();
}

Result<void> check_rules(const SettingsSnapshot& after) {
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
  };
  const auto from = lower(after.get_string("smtp.from_address"));
  if (!from.empty() && from == lower(after.get_string("mail.address"))) {
    return Error(Code::k_setting_mail_loop,
                 "smtp.from_address must not be the email-to-fax mailbox (mail.address): receipts and replies sent "
                 "from it would come back to that mailbox and be read as new faxes to send, a loop (a fax to a wrong "
                 "address or an out-of-office reply too). Use another address.");
  }
  return ok();
}

Result<std::string> reveal(const SettingsSnapshot& snapshot, const std::string& key) {
  return reveal(snapshot, key, secret_box::environment_key());
}

Result<std::string> reveal(const SettingsSnapshot& snapshot, const std::string& key,
                           const Result<secret_box::Key>& opening_key) {
  const SettingSpec* spec = find_setting(key);
  if (!spec) return no_such_setting(key);
  const std::string text = snapshot.get_string(key);
  if (!spec->secret || !secret_box::is_sealed(text)) return text;
  if (!opening_key) {
    Error e = opening_key.error();
    e.message = "The secret setting " + key + " cannot be read. " + e.message;
    return e;
  }
  auto plain = secret_box::open(*opening_key, text);
  if (!plain) {
    Error e = plain.error();
    e.message = "The secret setting " + key + " cannot be read. " + e.message;
    return e;
  }
  return *plain;
}

}  // namespace settings
}  // namespace faxbridge::db
