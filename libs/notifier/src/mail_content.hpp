#pragma once
// Internal: what the mail of one notification row says. The facts come from the
// database at delivery time (the received fax, the job and its attempts, the user),
// turned into template values (templates.hpp) and the files to attach; the template
// itself is chosen by the row's kind and the user's language.
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/result.hpp"
#include "faxbridge/db/notifications.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/mail/message.hpp"
#include "faxbridge/notifier/templates.hpp"

namespace faxbridge::notifier {

struct MailContent {
  std::string template_name;  // the row's kind
  std::string language = "en";
  TemplateValues values;
  std::vector<mail::Part> inline_images;
  std::vector<mail::Part> attachments;
  std::string auto_submitted = "auto-generated";
  std::string in_reply_to;
  std::string alert_cause;  // admin_alert: the cause its rate limit counts by
};

// Errors: notification.waiting (fax-to-email as PDF whose PDF the converter has not made
// yet), notification.no_recipient (the fax or job is gone), database errors.
Result<MailContent> load_mail_content(db::Tx& tx, const db::NotificationRow& row, const db::SettingsSnapshot& settings);

// "1 min 5 s", "42 s": a call's duration as a person reads it.
std::string duration_words(double seconds);
// One attempt's result in words ("sent, 3 pages", "busy", "no answer", ...), per language.
std::string attempt_words(const db::AttemptRecord& attempt, const std::string& language);

}  // namespace faxbridge::notifier
