#pragma once
// Administrator settings (the seed's "Manage Service", "Service configuration",
// "Company info", "IP routes" and "Data retention" pages), stored as key -> JSON value.
// One catalog (Redis's config table habit) gives each key its type, bounds and default;
// writes are validated against it. Every write takes a new version, so a service that
// sees max(version) move reloads without a restart.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

enum class SettingType { kBool, kInt, kString, kChoice, kEmail };

struct SettingSpec {
  std::string key;
  SettingType type;
  std::string default_json;  // the default as JSON text
  std::int64_t min = 0;      // kInt bounds; kString max length in `max`
  std::int64_t max = 0;
  std::vector<std::string> choices;  // kChoice
  std::string description;
};

// The level users without their own inherit (db/users.hpp).
inline constexpr std::string_view kDefaultPermissionLevelKey = "users.default_permission_level";

const std::vector<SettingSpec>& setting_catalog();
const SettingSpec* find_setting(const std::string& key);
// Checks a JSON value (text) against the key's spec; returns it in canonical JSON.
Result<std::string> validate_setting(const std::string& key, const std::string& value_json);

// Every key with its value (the default when never set) as JSON text, and the version.
struct SettingsSnapshot {
  std::int64_t version = 0;
  std::map<std::string, std::string> values;

  bool get_bool(const std::string& key) const;
  std::int64_t get_int(const std::string& key) const;
  std::string get_string(const std::string& key) const;
};

namespace settings {
Result<SettingsSnapshot> load(Tx& tx);
Result<std::int64_t> version(Tx& tx);
// setting.unknown or setting.invalid (with the expectation) when refused.
Result<std::int64_t> set(Tx& tx, const std::string& key, const std::string& value_json,
                         std::optional<std::int64_t> updated_by = std::nullopt);
}  // namespace settings

}  // namespace faxbridge::db
