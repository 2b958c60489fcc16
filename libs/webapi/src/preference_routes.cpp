// DESIGN: a fax user's own preferences (the seed's "User Preferences", level 2 and
// up): fax-to-email on or off, the address it goes to ('' = the account's email, shown
// read-only as `fax_to_email_delivers_to`), whether the fax is attached, the default
// cover page ('' = the system default; otherwise a name the cover page list has, for
// the user's language or unlocalized: the converter's lookup) and the language
// (localized cover pages, mails). The attachment format (PDF or TIFF) is the system's
// setting incoming.attachment_format, not a user's, so it is not here.
// PATCH takes any subset (unknown fields refused, every bad one listed in one 422),
// writes only those columns (an administrator editing the same account meanwhile
// keeps their fields), and records one audit entry naming each field that changed,
// with its old and new value, in the same transaction. A PATCH that changes nothing
// records nothing.
#include <regex>

#include "context.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/db/preferences.hpp"
#include "faxbridge/db/records.hpp"

namespace faxbridge::webapi {
namespace {

nlohmann::json preferences_json(const db::Preferences& p) {
  return {{"fax_to_email", p.fax_to_email},
          {"fax_to_email_address", p.fax_to_email_address},
          {"fax_to_email_delivers_to", p.fax_to_email_address.empty() ? p.account_email : p.fax_to_email_address},
          {"attach_fax", p.attach_fax},
          {"cover_page", p.cover_page},
          {"language", p.language}};
}

// A mail address a relay will take: one @, a local part and a dotted domain, no
// spaces or controls; RFC 5321's 254 characters at most.
bool is_mail_address(const std::string& s) {
  static const std::regex kAddress(R"(^[^\s@<>()\[\],;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$)");
  return s.size() <= 254 && std::regex_match(s, kAddress);
}

api::Reply get(Context& cx, api::Request& req) {
  auto p = cx.pool.transact([&](db::Tx& tx) { return db::preferences::get(tx, req.principal()->user_id); });
  if (!p) return p.error();
  return api::Response::json(preferences_json(*p));
}

api::Reply patch(Context& cx, api::Request& req) {
  api::Fields f(req.json());
  db::PreferencesChange change;
  bool fax_to_email = false, attach_fax = false;
  f.optional("fax_to_email", fax_to_email);
  f.optional("attach_fax", attach_fax);
  if (f.has("fax_to_email")) change.fax_to_email = fax_to_email;
  if (f.has("attach_fax")) change.attach_fax = attach_fax;
  f.optional("fax_to_email_address", change.fax_to_email_address, api::Text{0, 254});
  f.optional("cover_page", change.cover_page, api::Text{0, 64});
  f.optional("language", change.language, api::Text{2, 5});
  const auto& address = change.fax_to_email_address;
  if (address && !address->empty() && !is_mail_address(*address)) {
    f.reject("fax_to_email_address", Code::k_api_field_invalid,
             "Must be a mail address like fax@example.com, or empty for the account's email.");
  }
  static const std::regex kLanguage("^[a-z]{2}(-[A-Z]{2})?$");
  if (change.language && !std::regex_match(*change.language, kLanguage)) {
    f.reject("language", Code::k_api_field_invalid, "Must be a language code like en or pt-BR.");
  }
  const api::Principal& caller = *req.principal();
  const auto& cover = change.cover_page;
  if (f.ok() && cover && !cover->empty()) {
    // For the language the user will have: their new one when this PATCH sets it.
    auto exists = cx.pool.transact([&](db::Tx& tx) -> Result<bool> {
      auto before = db::preferences::get(tx, caller.user_id);
      if (!before) return before.error();
      return db::preferences::cover_page_exists(tx, *cover, change.language.value_or(before->language));
    });
    if (!exists) return exists.error();
    if (!*exists) {
      f.reject("cover_page", Code::k_cover_page_not_found,
               "There is no cover page named \"" + *cover +
                   "\"; choose one of the cover page list, or empty for the system default.");
    }
  }
  if (auto problem = f.finish()) return *problem;
  auto updated = cx.pool.transact([&](db::Tx& tx) -> Result<db::Preferences> {
    auto before = db::preferences::get(tx, caller.user_id);
    if (!before) return before;
    auto after = db::preferences::update(tx, caller.user_id, change);
    if (!after) return after;
    nlohmann::json changes = nlohmann::json::object();
    const auto b = preferences_json(*before), a = preferences_json(*after);
    for (const char* key : {"fax_to_email", "fax_to_email_address", "attach_fax", "cover_page", "language"}) {
      if (b[key] != a[key]) changes[key] = {{"from", b[key]}, {"to", a[key]}};
    }
    if (!changes.empty()) {
      auto r = db::audit::record(tx, {caller.user_id, caller.username, "preferences.update", "user",
                                      std::to_string(caller.user_id), changes.dump(), req.remote_address()});
      if (!r) return r.error();
    }
    return after;
  });
  if (!updated) return updated.error();
  return api::Response::json(preferences_json(*updated));
}

}  // namespace

std::vector<api::Route> preference_routes(Context& cx) {
  return {
      {"GET", "/api/v1/me/preferences", api::kFaxUser, api::BodyKind::kNone,
       [&cx](api::Request& r) { return get(cx, r); }},
      {"PATCH", "/api/v1/me/preferences", api::kFaxUser, api::BodyKind::kJson,
       [&cx](api::Request& r) { return patch(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
