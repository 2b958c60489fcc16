// `faxbridge settings list|get|set`: the administrator settings without SQL. The typed
// catalog (libs/db settings) decides what a key accepts; this file only turns what an
// operator types into the JSON the catalog validates: `true`, `42` stay as they are for
// booleans and integers, anything else is taken as text. Text given to a boolean or an
// integer key therefore reaches the catalog as a JSON string and is refused there, with
// the catalog's own sentence naming the key and what it expects (exit 2): one wording
// for a refusal, whoever writes the setting. Writes go in with an audit event. A secret
// (a mail password) is sealed with FAXBRIDGE_SECRET_KEY, which must then be in the tool's
// environment (the same key as the services'); neither it nor its sealed text is printed
// or audited.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/settings.hpp"

namespace faxbridge::cli {
namespace {

std::string_view type_name(db::SettingType t) {
  switch (t) {
    case db::SettingType::kBool: return "bool";
    case db::SettingType::kInt: return "int";
    case db::SettingType::kString: return "text";
    case db::SettingType::kChoice: return "choice";
    case db::SettingType::kEmail: return "email";
  }
  return "?";
}

// What the operator typed -> the JSON text for the catalog.
std::string to_json(const db::SettingSpec& spec, const std::string& typed) {
  if (spec.type == db::SettingType::kBool || spec.type == db::SettingType::kInt) {
    const auto v = nlohmann::json::parse(typed, nullptr, false);
    if (!v.is_discarded() && (v.is_boolean() || v.is_number_integer())) return typed;
  }
  return nlohmann::json(typed).dump();
}

// A stored JSON value as an operator reads it: text without its quotes.
std::string for_people(const std::string& json) {
  const auto v = nlohmann::json::parse(json, nullptr, false);
  return v.is_string() ? v.get<std::string>() : json;
}

// A secret (a mail password) is never printed: only whether one is stored.
std::string shown(const db::SettingSpec& spec, const std::string& json) {
  if (!spec.secret) return for_people(json);
  return for_people(json).empty() ? "(not set)" : "(set)";
}

Error unknown_key(const std::string& key) {
  return Error(Code::k_setting_unknown,
               "There is no setting named \"" + key + "\"; `faxbridge settings list` shows every key.");
}

}  // namespace

int settings_list(const std::string& dsn, std::ostream& out, std::ostream& err) {
  db::Pool pool(db::PoolSettings{dsn, 1});
  auto snap = pool.transact([](db::Tx& tx) { return db::settings::load(tx); });
  if (!snap) return fail(err, snap.error());
  for (const auto& spec : db::setting_catalog()) {
    const std::string& value = snap->values.at(spec.key);
    const auto canonical_default = db::validate_setting(spec.key, spec.default_json);
    const bool is_default = canonical_default && *canonical_default == value;
    out << std::left << std::setw(32) << spec.key << " " << std::setw(24) << ("= " + shown(spec, value)) << " "
        << std::setw(7) << type_name(spec.type) << (is_default ? "(default) " : "") << spec.description << "\n";
  }
  return 0;
}

int settings_get(const std::string& dsn, const std::string& key, std::ostream& out, std::ostream& err) {
  if (!db::find_setting(key)) return fail(err, unknown_key(key));
  db::Pool pool(db::PoolSettings{dsn, 1});
  auto snap = pool.transact([](db::Tx& tx) { return db::settings::load(tx); });
  if (!snap) return fail(err, snap.error());
  out << shown(*db::find_setting(key), snap->values.at(key)) << "\n";
  return 0;
}

int settings_set(const std::string& dsn, const std::string& key, const std::string& value, std::ostream& out,
                 std::ostream& err) {
  const db::SettingSpec* spec = db::find_setting(key);
  if (!spec) return fail(err, unknown_key(key));
  const std::string json = to_json(*spec, value);
  // Refused before connecting: a typo needs no database to be told.
  auto canonical = db::validate_setting(key, json);
  if (!canonical) return fail(err, canonical.error());
  db::Pool pool(db::PoolSettings{dsn, 1});
  auto version = pool.transact([&](db::Tx& tx) -> Result<std::int64_t> {
    // The rules between keys (the mail loop), on the settings as they would be.
    auto before = db::settings::load(tx);
    if (!before) return before.error();
    db::SettingsSnapshot after = *before;
    after.values[key] = *canonical;
    if (auto rules = db::settings::check_rules(after); !rules) return rules.error();
    // A secret is sealed with FAXBRIDGE_SECRET_KEY from this tool's environment.
    auto v = db::settings::set(tx, key, *canonical);
    if (!v) return v.error();
    nlohmann::json details{{"key", key}, {"value", nlohmann::json::parse(*canonical)}};
    if (spec->secret) details = {{"key", key}, {"secret", true}};
    auto a = db::audit::record(tx, {std::nullopt, "cli", "setting.update", "setting", key, details.dump()});
    if (!a) return a.error();
    return *v;
  });
  if (!version) return fail(err, version.error());
  out << key << " = " << shown(*spec, *canonical) << " (settings version " << *version << ").\n";
  return 0;
}

}  // namespace faxbridge::cli
