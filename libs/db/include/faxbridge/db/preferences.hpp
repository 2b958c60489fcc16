#pragma once
// A user's own preferences (the seed's "User Preferences": what a fax user may change
// about themselves), written apart from the administrator's user record so that a
// user's change and an administrator's edit of the same account never overwrite each
// other's fields.
#include <cstdint>
#include <optional>
#include <string>

#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

struct Preferences {
  bool fax_to_email = false;
  std::string fax_to_email_address;  // '' = the account's email
  bool attach_fax = true;
  std::string cover_page;  // '' = the system default
  std::string language = "en";
  std::string account_email;  // read only: where '' delivers
};

// The fields a change sets; unset ones stay.
struct PreferencesChange {
  std::optional<bool> fax_to_email;
  std::optional<std::string> fax_to_email_address;
  std::optional<bool> attach_fax;
  std::optional<std::string> cover_page;
  std::optional<std::string> language;
};

namespace preferences {
Result<Preferences> get(Tx& tx, std::int64_t user_id);  // user.not_found
Result<Preferences> update(Tx& tx, std::int64_t user_id, const PreferencesChange& change);
// Whether a cover page of this name exists for a user of this language: "<lang>_<name>"
// or "<name>" (the converter's lookup, cover_pages::resolve).
Result<bool> cover_page_exists(Tx& tx, const std::string& name, const std::string& language);
}  // namespace preferences

}  // namespace faxbridge::db
