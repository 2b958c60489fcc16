#pragma once
// Internal to libs/webapi: what the settings endpoints (settings_routes.cpp) share with
// the SMTP Test action (smtp_test_routes.cpp), which takes smtp.* values the way PATCH
// does and saves them the same way: one value checked against the catalog, the rules
// between keys, and the write of several changes with their audit rows in one
// transaction.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "context.hpp"
#include "faxbridge/api/problem.hpp"
#include "faxbridge/api/request.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/settings.hpp"

namespace faxbridge::webapi::settings_support {

// One key's new value: canonical JSON, or nullopt to reset it to the default.
struct Change {
  std::string key;
  std::optional<std::string> value;
  std::string pointer;  // where the value was in the request, for errors
};

// Checks one value against the catalog (null: back to the default); adds the field
// error under `pointer` when refused.
std::optional<Change> change_for(const std::string& key, const nlohmann::json& value, std::string pointer,
                                 std::vector<api::FieldError>& errors);

// The rules between keys, on the values the settings will have after `changes` (the
// seed's loop rule: smtp.from_address is not mail.address, setting.mail_loop).
std::vector<api::FieldError> check_combination(const db::SettingsSnapshot& before, const std::vector<Change>& changes);

// `before` with the changes made; a secret's new value is in clear (settings::reveal
// returns a value that is not sealed as it is), for a caller that tries the values
// before they are stored.
db::SettingsSnapshot merged(const db::SettingsSnapshot& before, const std::vector<Change>& changes);

// Whether a change stores a non-empty secret (it then needs the secret key).
bool stores_a_secret(const std::vector<Change>& changes);

// The 422 api.validation_failed of field errors.
api::Problem invalid(std::vector<api::FieldError> errors);

struct Applied {
  std::vector<api::FieldError> refused;  // the combination failed: nothing written
  std::map<std::string, db::SettingRow> rows;
  std::int64_t version = 0;
};

// Writes every change and its audit row, plus `extra` when given, in one transaction,
// or nothing. Secrets are sealed with the context's key.
Result<Applied> apply(Context& cx, const api::Request& req, const std::vector<Change>& changes,
                      const std::optional<db::AuditEvent>& extra = std::nullopt);

// A setting as the API shows it (secrets: value null and `set`).
nlohmann::json setting_json(const db::SettingSpec& spec, const std::map<std::string, db::SettingRow>& rows);

}  // namespace faxbridge::webapi::settings_support
