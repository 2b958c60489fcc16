// DESIGN: a mailbox mail-ingest cannot read fails every poll, silently for the senders
// (their mails just wait), so the fax administrator is told, the way the notifier's
// watchdog tells of a stalled queue: an admin_alert row in the notifications outbox,
// payload {cause, error{code, message}}, which the notifier mails with the admin_alert
// template. The cause is the error's code (mail.mailbox_unreachable, _tls_failed,
// _auth_failed, ...), so a wrong password after a fixed host is news and the same
// refusal every 20 s is not. Rate limit on both sides, as the watchdog's: here no second
// row while one of the cause is younger than notifications.admin_alert_interval_min
// (db::notifications::alert_written_since; otherwise a poll every 20 s would write 180
// rows an hour), and at delivery the notifier's alert_causes slot, which also covers two
// mail-ingest instances racing past this check. Best effort: an alert that cannot be
// written is logged and the poll goes on failing as before.
#include "mailbox_alert.hpp"

#include <nlohmann/json.hpp>

#include "faxbridge/db/notifications.hpp"
#include "faxbridge/db/records.hpp"

namespace faxbridge::mailingest {
namespace {

const char* what_to_check(Code code) {
  switch (code) {
    case Code::k_mail_mailbox_unreachable:
      return "Check that the mailbox server is running and reachable from the Faxbridge servers (firewall, DNS), "
             "and the settings mail.host and mail.port.";
    case Code::k_mail_mailbox_tls_failed:
      return "Check mail.security (TLS on connect or STARTTLS, as the server offers) and the server's certificate "
             "against mail.ca_file or mail.pinned_sha256; the certificate may have been renewed.";
    case Code::k_mail_mailbox_auth_failed:
      return "Check mail.username and mail.password: the mailbox password may have been changed or the account "
             "locked.";
    case Code::k_mail_mailbox_protocol_unknown:
      return "Set mail.protocol (imap or pop3), or use the port of the protocol.";
    default:
      return "Check that the folder mail.folder exists and that the account may read it.";
  }
}

const char* protocol_name(const MailIngestConfig& c) {
  if (!c.mailbox.protocol) return "IMAP or POP3";
  return *c.mailbox.protocol == mail::MailboxProtocol::kPop3 ? "POP3" : "IMAP";
}

}  // namespace

std::string unreadable_mailbox_message(const MailIngestConfig& c, const Error& error) {
  const mail::MailboxSettings& m = c.mailbox;
  std::string reason = error.message;
  // The session's messages never carry the password, but a server's reply is quoted in
  // them: should one ever echo it, it goes no further than here.
  if (!m.password.empty())
    for (auto at = reason.find(m.password); at != std::string::npos; at = reason.find(m.password, at))
      reason.replace(at, m.password.size(), "(password)");
  std::string where = protocol_name(c);
  where += " mailbox " + m.username + " on " + m.host + " port " + std::to_string(m.port);
  if (!c.mailbox.protocol || *c.mailbox.protocol == mail::MailboxProtocol::kImap) where += ", folder " + m.folder;
  return "Email-to-fax cannot read its " + where + ": " + reason + " " + what_to_check(error.code) +
         " Until then mails to the fax domains wait in the mailbox, unanswered; mail-ingest tries again every " +
         std::to_string(c.poll_interval.count()) + " s and faxes them once it can read the mailbox.";
}

Result<bool> alert_unreadable_mailbox(db::Pool& pool, const MailIngestConfig& c, const Error& error) {
  if (c.admin_email.empty()) return false;  // nobody to tell (company.admin_email)
  const std::string cause(error.name());
  const auto interval = std::chrono::duration_cast<std::chrono::seconds>(c.alert_interval);
  const std::string message = unreadable_mailbox_message(c, error);
  return pool.transact([&](db::Tx& tx) -> Result<bool> {
    auto seen = db::notifications::alert_written_since(tx, cause, interval);
    if (!seen) return seen.error();
    if (*seen) return false;
    db::NewNotification n;
    n.kind = "admin_alert";
    n.channel = "email";
    n.recipient = c.admin_email;
    n.payload_json = nlohmann::json{{"cause", cause},
                                    {"mailbox", c.mailbox_name},
                                    {"error", {{"code", cause}, {"message", message}}}}
                         .dump();
    auto id = db::notifications::enqueue(tx, n);
    if (!id) return id.error();
    return true;
  });
}

}  // namespace faxbridge::mailingest
