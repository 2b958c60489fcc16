#pragma once
// The SMTP account of the settings catalog (smtp.*) as libs/mail takes it: one reading of
// a settings snapshot shared by the notifier, which sends through it, and by the
// settings API's Test action (POST /api/v1/admin/settings/smtp/test), which tries it, so
// the test proves exactly what the notifier will do.
//
// Errors: notification.not_configured when smtp.host or smtp.from_address is empty (mails
// wait until an administrator sets them); mail.invalid_address when the From address is
// not one a mail server takes; the secret errors of settings::reveal for the password
// (only read when smtp.auth_enabled is on).
#include "faxbridge/core/result.hpp"
#include "faxbridge/core/secret_box.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/mail/message.hpp"
#include "faxbridge/mail/smtp.hpp"

namespace faxbridge::notifier {

struct SmtpConfig {
  mail::SmtpSettings smtp;
  mail::Address from;  // smtp.from_address with smtp.from_name as its display name
};

// The password opened with FAXBRIDGE_SECRET_KEY from the environment (settings::reveal).
Result<SmtpConfig> smtp_config(const db::SettingsSnapshot& snapshot);
// The password opened with the key given (web-api is handed its key).
Result<SmtpConfig> smtp_config(const db::SettingsSnapshot& snapshot, const Result<secret_box::Key>& key);

}  // namespace faxbridge::notifier
