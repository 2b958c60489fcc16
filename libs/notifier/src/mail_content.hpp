#pragma once
// Internal: what the mail of one notification row says. The facts come from the
// database at delivery time (the received fax, the job and its attempts, the user),
// turned into template values (templates.hpp) and the files to attach; the template
// itself is chosen by the row's kind and the user's language.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "faxbridge/core/result.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/notifications.hpp"
#include "faxbridge/db/users.hpp"
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

// The facts a batch of mails needs, read with one statement per kind of fact rather than
// one per mail: the users, the received faxes and the files fax-to-email attaches.
// A fact missing here is read by load_mail_content itself (a kind not read ahead, a
// row that changed in between), so the batch only saves round trips, never decides.
struct BatchFacts {
  std::map<std::int64_t, db::User> users;
  std::map<std::int64_t, db::notifications::ReceivedFaxFacts> received_faxes;
  std::map<std::int64_t, db::Document> files_base64;  // by document id
  std::map<std::int64_t, nlohmann::json> payloads;     // by notification id, parsed once
};
Result<BatchFacts> read_batch_facts(db::Tx& tx, const std::vector<db::NotificationRow>& rows,
                                    const db::SettingsSnapshot& settings);

// Errors: notification.waiting (fax-to-email as PDF whose PDF the converter has not made
// yet), notification.no_recipient (the fax or job is gone), database errors.
Result<MailContent> load_mail_content(db::Tx& tx, const db::NotificationRow& row, const db::SettingsSnapshot& settings,
                                      const BatchFacts& facts = {});

// "1 min 5 s", "42 s": a call's duration as a person reads it.
std::string duration_words(double seconds);
// One attempt's result in words ("sent, 3 pages", "busy", "no answer", ...), per language.
std::string attempt_words(const db::AttemptRecord& attempt, const std::string& language);

}  // namespace faxbridge::notifier
