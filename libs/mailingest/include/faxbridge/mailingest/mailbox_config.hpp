#pragma once
// The mail.* settings (and the few others mail-ingest follows: routing.* for numbers,
// smtp.from_address as our own address) as the mailbox session's and the parser's
// settings. Read from one snapshot, so a poll uses one consistent set; mail-ingest takes
// a new snapshot when the settings version moves (a reload without restart).
//
// Errors: config.invalid when email-to-fax is enabled but cannot work (no host, no fax
// domain), naming the setting; the secret_box errors when the password cannot be
// opened. Disabled is not an error: `enabled` is false.
#include <chrono>

#include "faxbridge/core/result.hpp"
#include "faxbridge/core/secret_box.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/ingest/fax_request.hpp"
#include "faxbridge/mail/mailbox.hpp"

namespace faxbridge::mailingest {

struct MailIngestConfig {
  bool enabled = false;
  std::chrono::seconds poll_interval{20};
  mail::MailboxSettings mailbox;
  ingest::IngestSettings ingest;
  std::string mailbox_name;  // the ledger's key: "<user>@<host>:<port>/<folder>"
  // Who hears that the mailbox cannot be read (company.admin_email; empty: nobody) and
  // how often per cause (notifications.admin_alert_interval_min), as the other alerts.
  std::string admin_email;
  std::chrono::minutes alert_interval{60};
};

Result<MailIngestConfig> mail_ingest_config(const db::SettingsSnapshot& snapshot);

// The mailbox account alone (server, protocol, TLS, certificates, user, password,
// folders), whether email-to-fax is enabled or not: what the settings' Test action tries.
// Errors: mail.mailbox_unreachable (no mail.host), mail.mailbox_protocol_unknown, secret_box's.
Result<mail::MailboxSettings> mailbox_settings(const db::SettingsSnapshot& snapshot,
                                               const Result<secret_box::Key>& key);
Result<MailIngestConfig> mail_ingest_config(const db::SettingsSnapshot& snapshot,
                                            const Result<secret_box::Key>& key);

}  // namespace faxbridge::mailingest
