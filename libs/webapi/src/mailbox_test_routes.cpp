// DESIGN: the Test button of the seed's "Outgoing faxes (POP3/IMAP)" settings, which
// "also saves": POST /api/v1/admin/settings/mailbox/test. The body holds any mail.*
// settings, as PATCH takes them, laid over the stored ones and checked as PATCH checks
// them; then the account is tried for real, the way mail-ingest will use it
// (libs/mailingest's mailbox_settings, libs/mail's MailboxSession): connect (TLS and its
// certificate checks), sign in, open the folder, count the messages. Only when that
// worked are the values saved, with their audit rows and the test's
// (setting.mailbox_test); a failure saves nothing and answers with the mail.mailbox_*
// code and the server's answer in the detail. Nothing in the mailbox is read or moved.
// It sits beside the SMTP test (smtp_test_routes.cpp) under /api/v1/admin/settings.
#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/mail/mailbox.hpp"
#include "faxbridge/mailingest/mailbox_config.hpp"
#include "settings_support.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;
using namespace settings_support;

api::Reply mailbox_test(Context& cx, api::Request& req) {
  const json& body = req.json();
  if (!body.is_object()) {
    return invalid({{"", Code::k_api_field_wrong_type,
                     "Must be a JSON object of mail.* settings, such as {\"mail.host\": \"imap.example.com\", "
                     "\"mail.port\": 993}."}});
  }
  std::vector<Change> changes;
  std::vector<api::FieldError> errors;
  for (const auto& [key, value] : body.items()) {
    const std::string pointer = "/" + api::json_pointer_token(key);
    if (key.rfind("mail.", 0) != 0 || !db::find_setting(key)) {
      errors.push_back({pointer, Code::k_api_field_unknown,
                        "The mailbox test takes the mail.* settings; \"" + key +
                            "\" is not one of them (GET /api/v1/admin/settings lists the settings)."});
      continue;
    }
    if (auto c = change_for(key, value, pointer, errors)) changes.push_back(std::move(*c));
  }
  if (!errors.empty()) return invalid(std::move(errors));

  auto stored = cx.pool.transact([](db::Tx& tx) { return db::settings::load(tx); });
  if (!stored) return stored.error();
  if (auto refused = check_combination(*stored, changes); !refused.empty()) return invalid(std::move(refused));
  if (stores_a_secret(changes) && !cx.secret_key) {
    Error e = cx.secret_key.error();
    e.message = "Nothing was tried: the password could not be saved after the test. " + e.message;
    return e;
  }
  const db::SettingsSnapshot tried = merged(*stored, changes);
  auto account = mailingest::mailbox_settings(tried, cx.secret_key);
  if (!account) return account.error();
  const auto endpoint = mail::resolve_endpoint(*account);
  const std::string server = account->host + ":" + std::to_string(account->port);

  mail::MailboxSession session(*account);
  auto count = session.count();
  (void)session.close();
  if (!count) {
    log::write_error(log::Level::kWarn, "settings.mailbox_test_failed", count.error(), {{"server", server}});
    return count.error();
  }
  log::info("settings.mailbox_test_passed", {{"server", server}, {"messages", std::to_string(*count)}});

  auto applied = apply(cx, req, changes,
                       audit_event(req, "setting.mailbox_test", "setting", "mail",
                                   {{"server", server}, {"messages", std::to_string(*count)}}));
  if (!applied) return applied.error();
  if (!applied->refused.empty()) return invalid(std::move(applied->refused));
  json items = json::array();
  for (const auto& c : changes) items.push_back(setting_json(*db::find_setting(c.key), applied->rows));
  return api::Response::json({{"connected", true},
                              {"server", server},
                              {"protocol", mail::mailbox_protocol_name(endpoint->protocol)},
                              {"security", mail::tls_mode_name(endpoint->tls)},
                              {"folder", account->folder},
                              {"messages", *count},
                              {"settings", items},
                              {"version", applied->version}});
}

}  // namespace

std::vector<api::Route> mailbox_test_routes(Context& cx) {
  return {
      {"POST", "/api/v1/admin/settings/mailbox/test", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return mailbox_test(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
