// DESIGN: the Test button of the seed's SMTP settings, which "also saves":
// POST /api/v1/admin/settings/smtp/test. The body holds any smtp.* settings, as PATCH
// takes them, and an optional "to" (default: company.admin_email, else the caller's own
// address). The values given are laid over the stored ones and checked as PATCH checks
// them (the catalog, the loop rule), then the account is tried for real: libs/notifier's
// smtp_config reads it exactly as the notifier will, libs/mail's SmtpSession connects
// (TLS, certificate checks, AUTH) and sends one short mail built by mail::compose
// (Auto-Submitted: auto-generated, a Message-ID of ours). Only when the server took the
// mail are the values saved, in one transaction with their audit rows and the test's
// (setting.smtp_test); a failure saves nothing and answers with the smtp.* code and the
// server's own answer in the detail (smtp.unreachable, smtp.tls_failed,
// smtp.auth_failed, smtp.rejected, smtp.temporary).
//
// It sits under /api/v1/admin/settings, where the settings it saves live, rather than at
// the /api/v1/settings/smtp/test of the issue: one prefix for everything administrators
// configure (docs/api.md). A new password in the body must be sealable before anything is
// tried (secret.key_missing otherwise), so a test never succeeds without saving.
// The request waits for the mail server: at most smtp.timeout_s per step.
#include <sodium.h>

#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/mail/message.hpp"
#include "faxbridge/mail/smtp.hpp"
#include "faxbridge/notifier/smtp_config.hpp"
#include "settings_support.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;
using namespace settings_support;

// "<32 hex digits>@<the From address's domain>": unique, and ours.
std::string test_message_id(const std::string& from) {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char hex[sizeof bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return "smtp-test." + std::string(hex) + from.substr(from.find('@'));
}

std::string test_text(const api::Principal& caller, const notifier::SmtpConfig& c) {
  const auto& s = c.smtp;
  return "This is a test mail from Faxbridge, sent by " + caller.username +
         " with the Test action of the SMTP settings.\n\n"
         "Server: " + s.host + ":" + std::to_string(s.port) + " (" + mail::tls_mode_name(s.tls) + ")\n" +
         "Signed in as: " + (s.username.empty() ? std::string("(no authentication)") : s.username) + "\n\n" +
         "It arrived, so fax-to-email, receipts and alerts can go out through this server. The settings tried "
         "have been saved.\n";
}

api::Reply smtp_test(Context& cx, api::Request& req) {
  const api::Principal& caller = *req.principal();
  const json& body = req.json();
  if (!body.is_object()) {
    return invalid({{"", Code::k_api_field_wrong_type,
                     "Must be a JSON object of smtp.* settings and an optional \"to\", such as "
                     "{\"smtp.host\": \"smtp.example.com\", \"to\": \"fax-admin@example.com\"}."}});
  }
  std::vector<Change> changes;
  std::vector<api::FieldError> errors;
  std::string to;
  for (const auto& [key, value] : body.items()) {
    const std::string pointer = "/" + api::json_pointer_token(key);
    if (key == "to") {
      if (!value.is_string()) {
        errors.push_back({pointer, Code::k_api_field_wrong_type, "Must be a mail address such as fax-admin@example.com."});
      } else if (auto a = mail::parse_address(value.get<std::string>()); !a) {
        errors.push_back({pointer, a.error().code, a.error().message});
      } else {
        to = a->email;
      }
      continue;
    }
    if (key.rfind("smtp.", 0) != 0 || !db::find_setting(key)) {
      errors.push_back({pointer, Code::k_api_field_unknown,
                        "The SMTP test takes the smtp.* settings and \"to\"; \"" + key +
                            "\" is not one of them (GET /api/v1/admin/settings lists the settings)."});
      continue;
    }
    if (auto c = change_for(key, value, pointer, errors)) changes.push_back(std::move(*c));
  }
  if (!errors.empty()) return invalid(std::move(errors));

  struct Stored {
    db::SettingsSnapshot snapshot;
    std::string caller_email;
  };
  auto stored = cx.pool.transact([&](db::Tx& tx) -> Result<Stored> {
    auto snap = db::settings::load(tx);
    if (!snap) return snap.error();
    auto user = db::users::get(tx, caller.user_id);
    if (!user) return user.error();
    return Stored{std::move(*snap), user->email};
  });
  if (!stored) return stored.error();
  if (auto refused = check_combination(stored->snapshot, changes); !refused.empty()) return invalid(std::move(refused));
  if (stores_a_secret(changes) && !cx.secret_key) {
    Error e = cx.secret_key.error();
    e.message = "Nothing was tried: the password could not be saved after the test. " + e.message;
    return e;
  }
  const db::SettingsSnapshot tried = merged(stored->snapshot, changes);
  auto config = notifier::smtp_config(tried, cx.secret_key);
  if (!config) return config.error();

  if (to.empty()) to = tried.get_string("company.admin_email");
  if (to.empty()) to = stored->caller_email;
  if (to.empty()) {
    return Error(Code::k_notification_no_recipient,
                 "There is nobody to send the test mail to: give \"to\", or set company.admin_email.");
  }
  auto recipient = mail::parse_address(to);
  if (!recipient) return recipient.error();

  mail::OutgoingMessage m;
  m.from = config->from;
  m.to = {*recipient};
  m.subject = "Faxbridge: SMTP test";
  m.text = test_text(caller, *config);
  m.message_id = test_message_id(config->from.email);
  m.auto_submitted = "auto-generated";
  auto bytes = mail::compose(m);
  if (!bytes) return bytes.error();

  const std::string server = config->smtp.host + ":" + std::to_string(config->smtp.port);
  mail::SmtpSession session(config->smtp);
  auto sent = session.send(mail::Envelope{config->from.email, {recipient->email}}, *bytes);
  session.close();
  if (!sent) {
    log::write_error(log::Level::kWarn, "settings.smtp_test_failed", sent.error(), {{"server", server}});
    return sent.error();
  }
  log::info("settings.smtp_test_sent", {{"server", server}, {"message_id", m.message_id}});

  auto applied = apply(cx, req, changes,
                       audit_event(req, "setting.smtp_test", "setting", "smtp",
                                   {{"to", recipient->email}, {"server", server}, {"message_id", m.message_id}}));
  if (!applied) return applied.error();
  // Changed by someone else while the mail was on its way (mail.address now equal).
  if (!applied->refused.empty()) return invalid(std::move(applied->refused));
  json items = json::array();
  for (const auto& c : changes) items.push_back(setting_json(*db::find_setting(c.key), applied->rows));
  return api::Response::json({{"sent", true},
                              {"to", recipient->email},
                              {"message_id", m.message_id},
                              {"server", server},
                              {"settings", items},
                              {"version", applied->version}});
}

}  // namespace

std::vector<api::Route> smtp_test_routes(Context& cx) {
  return {
      {"POST", "/api/v1/admin/settings/smtp/test", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return smtp_test(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
