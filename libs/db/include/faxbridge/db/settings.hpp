#pragma once
// Administrator settings (the seed's "Manage Service", "Service configuration",
// "Company info", "IP routes" and "Data retention" pages), stored as key -> JSON value.
// One catalog (Redis's config table habit) gives each key its type, bounds and default;
// writes are validated against it. Every write takes a new version, so a service that
// sees max(version) move reloads without a restart.
//
// Secret keys (the mail passwords) are stored sealed (core/secret_box.hpp: libsodium's
// secretbox under FAXBRIDGE_SECRET_KEY): set() seals them, the snapshot carries the sealed
// text, and reveal() opens it for the service that must hand the password on. An empty
// secret ("never set", or cleared) is stored as "" and needs no key.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/core/secret_box.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

enum class SettingType { kBool, kInt, kString, kChoice, kEmail };
// What a kString must look like besides its length (empty is always allowed).
// kHttpUrl: http:// or https://, a host, optionally a port and a path; no query,
// fragment or white space (a base that links are appended to).
enum class SettingFormat { kAny, kAbsolutePath, kSha256Fingerprint, kHttpUrl };

struct SettingSpec {
  std::string key;
  SettingType type;
  std::string default_json;  // the default as JSON text
  std::int64_t min = 0;      // kInt bounds; kString max length in `max`
  std::int64_t max = 0;
  std::vector<std::string> choices;  // kChoice
  std::string description;
  // A credential (a mail password): written, never shown (the API says set/unset).
  bool secret = false;
  SettingFormat format = SettingFormat::kAny;
};

// The level users without their own inherit (db/users.hpp).
inline constexpr std::string_view kDefaultPermissionLevelKey = "users.default_permission_level";

const std::vector<SettingSpec>& setting_catalog();
std::string_view setting_type_name(SettingType type);  // boolean, integer, string, choice, email
const SettingSpec* find_setting(const std::string& key);
// Checks a JSON value (text) against the key's spec; returns it in canonical JSON.
Result<std::string> validate_setting(const std::string& key, const std::string& value_json);
// A stored value as readers take it: validate_setting's canonical JSON, except that a
// secret's sealed text is taken as it is (it is longer than the plain text's limit).
// An error when the catalog no longer accepts it (readers then use the default).
Result<std::string> read_stored_setting(const std::string& key, const std::string& value_json);

// Every key with its value (the default when never set) as JSON text, and the version.
struct SettingsSnapshot {
  std::int64_t version = 0;
  std::map<std::string, std::string> values;

  bool get_bool(const std::string& key) const;
  std::int64_t get_int(const std::string& key) const;
  std::string get_string(const std::string& key) const;
};

// A stored row, as the administration shows it: when and by whom it was last written.
// value_json is nullopt when the row is a reset (the key reads its default again).
struct SettingRow {
  std::string key;
  std::optional<std::string> value_json;
  std::int64_t version = 0;
  TimePoint updated_at;
  std::optional<std::int64_t> updated_by;
  std::string updated_by_username;  // "" when nobody (the CLI) or a deleted user
};

namespace settings {
Result<SettingsSnapshot> load(Tx& tx);
// Every stored row (keys never written have none), by key.
Result<std::map<std::string, SettingRow>> rows(Tx& tx);
Result<std::int64_t> version(Tx& tx);
// setting.unknown or setting.invalid (with the expectation) when refused.
// A secret is sealed with secret_box::environment_key() (this overload) or the key given
// (the next); a non-empty secret without a usable key is refused with that key's error
// (secret.key_missing, secret.key_invalid) and nothing is written.
Result<std::int64_t> set(Tx& tx, const std::string& key, const std::string& value_json,
                         std::optional<std::int64_t> updated_by = std::nullopt);
Result<std::int64_t> set(Tx& tx, const std::string& key, const std::string& value_json,
                         std::optional<std::int64_t> updated_by, const Result<secret_box::Key>& sealing_key);
// Back to the catalog default. The row stays as a tombstone (JSON null) with a new
// version: deleting it could take max(version) back to a value a reader already holds,
// and that reader would then miss the change. setting.unknown for a key not in the catalog.
Result<std::int64_t> reset(Tx& tx, const std::string& key, std::optional<std::int64_t> updated_by = std::nullopt);

// The rules between keys, on the values the settings would have: the seed's loop rule,
// smtp.from_address is not mail.address (case-insensitive), or setting.mail_loop with the
// sentence that says why. Every writer (the API, the CLI) checks it before writing.
Result<void> check_rules(const SettingsSnapshot& after);

// The plain text of a secret setting in the snapshot ("" when never set), opened with
// FAXBRIDGE_SECRET_KEY from the process's environment (read once: secret_box::environment_key)
// or with the key given. Errors: setting.unknown; secret.key_missing / secret.key_invalid
// when a value is stored and there is no usable key; secret.unreadable when the key does
// not open it (the key changed: store the secret again). A value stored in clear before
// secrets were sealed is returned as it is; written again, it is sealed.
// A key that is not secret gives its string value.
Result<std::string> reveal(const SettingsSnapshot& snapshot, const std::string& key);
Result<std::string> reveal(const SettingsSnapshot& snapshot, const std::string& key,
                           const Result<secret_box::Key>& opening_key);
}  // namespace settings

}  // namespace faxbridge::db
