#include "faxbridge/db/preferences.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db::preferences {
namespace {

constexpr const char* kColumns =
    "enable_fax_to_email, fax_to_email_address, attach_fax, cover_page_name, language, email";

Preferences from(const pqxx::row& r) {
  Preferences p;
  p.fax_to_email = r[0].as<bool>();
  p.fax_to_email_address = r[1].as<std::string>();
  p.attach_fax = r[2].as<bool>();
  p.cover_page = r[3].as<std::string>();
  p.language = r[4].as<std::string>();
  p.account_email = r[5].as<std::string>();
  return p;
}

Error not_found(std::int64_t id) { return Error(Code::k_user_not_found, "No user has the id " + std::to_string(id) + "."); }

}  // namespace

Result<Preferences> get(Tx& tx, std::int64_t user_id) {
  auto r = W(tx).exec_params(std::string("SELECT ") + kColumns + " FROM users WHERE id = $1", user_id);
  if (r.empty()) return not_found(user_id);
  return from(r[0]);
}

Result<Preferences> update(Tx& tx, std::int64_t user_id, const PreferencesChange& c) {
  auto r = W(tx).exec_params(
      std::string("UPDATE users SET enable_fax_to_email = coalesce($2, enable_fax_to_email), "
                  "fax_to_email_address = coalesce($3, fax_to_email_address), attach_fax = coalesce($4, attach_fax), "
                  "cover_page_name = coalesce($5, cover_page_name), language = coalesce($6, language), "
                  "updated_at = now() WHERE id = $1 RETURNING ") +
          kColumns,
      user_id, c.fax_to_email, c.fax_to_email_address, c.attach_fax, c.cover_page, c.language);
  if (r.empty()) return not_found(user_id);
  return from(r[0]);
}

Result<bool> cover_page_exists(Tx& tx, const std::string& name, const std::string& language) {
  const std::string short_language = language.substr(0, 2);
  auto r = W(tx).exec_params(
      "SELECT EXISTS (SELECT 1 FROM cover_pages WHERE name IN ($1, $2 || '_' || $1, $3 || '_' || $1))", name,
      language, short_language);
  return r[0][0].as<bool>();
}

}  // namespace faxbridge::db::preferences
