// DESIGN: the administrator's settings (the seed's "Manage Service" pages), over the
// typed catalog of libs/db (settings.hpp): every key has a type, bounds and a default,
// and a value is written only when the catalog accepts it. GET lists every key of the
// catalog, written or not, with its default, constraints and who changed it last. PATCH
// takes several keys as one JSON object ({"fax.max_attempts": 5, ...}, merge-patch
// style: null puts a key back to its default) and writes all of them or none: every
// refused key is named in one 422 (setting.unknown, setting.invalid), plus the rules
// between keys (the seed's warning: the SMTP From address must not be the email-to-fax
// mailbox, or receipts and auto-replies loop: setting.mail_loop, on PATCH and PUT alike).
// PUT /{key} sets one ({"value": ...}), DELETE /{key} resets it. Secrets (the mail
// passwords) are written and never shown: `value` is null and `set` says whether one is
// stored; they are stored sealed under the service's FAXBRIDGE_SECRET_KEY (without one,
// writing a secret is refused with secret.key_missing), and neither their value nor
// their sealed text reaches an audit row or a log line. Each change and its audit row (db::audit) are
// one transaction; the write takes a new settings version, and the services, which
// read the settings per call or reload when the version moves, see it on their next
// call without a restart.
#include <algorithm>
#include <map>

#include "admin_support.hpp"
#include "context.hpp"
#include "settings_support.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/settings.hpp"

namespace faxbridge::webapi {
namespace settings_support {

using nlohmann::json;

namespace {
json parse(const std::string& text) { return json::parse(text, nullptr, false); }

}  // namespace

namespace {
json constraints_json(const db::SettingSpec& s) {
  switch (s.type) {
    case db::SettingType::kInt: return {{"minimum", s.min}, {"maximum", s.max}};
    case db::SettingType::kString:
    case db::SettingType::kEmail: return {{"max_length", s.max}};
    case db::SettingType::kChoice: return {{"choices", s.choices}};
    case db::SettingType::kBool: return json::object();
  }
  return json::object();
}

}  // namespace

json setting_json(const db::SettingSpec& spec, const std::map<std::string, db::SettingRow>& rows) {
  const auto row = rows.find(spec.key);
  // A stored value the catalog no longer accepts reads as the default (settings::load).
  std::optional<std::string> value;
  if (row != rows.end() && row->second.value_json) {
    if (auto v = db::read_stored_setting(spec.key, *row->second.value_json)) value = *v;
  }
  json j{{"key", spec.key},
         {"type", std::string(db::setting_type_name(spec.type))},
         {"description", spec.description},
         {"constraints", constraints_json(spec)},
         {"secret", spec.secret},
         {"is_default", !value.has_value()},
         {"updated_at", nullptr},
         {"updated_by", nullptr}};
  if (spec.secret) {
    j["value"] = nullptr;
    j["default"] = nullptr;
    j["set"] = value && parse(*value) != json("");
  } else {
    j["value"] = parse(value.value_or(spec.default_json));
    j["default"] = parse(spec.default_json);
  }
  if (row != rows.end()) {
    j["updated_at"] = iso8601_utc(row->second.updated_at);
    if (row->second.updated_by) {
      j["updated_by"] = {{"id", *row->second.updated_by}, {"username", row->second.updated_by_username}};
    }
  }
  return j;
}

api::Problem invalid(std::vector<api::FieldError> errors) {
  api::Problem p(Code::k_api_validation_failed, errors.size() == 1
                                                    ? std::string("One setting is invalid; see errors.")
                                                    : std::to_string(errors.size()) + " settings are invalid; see errors.");
  p.errors = std::move(errors);
  return p;
}

std::vector<api::FieldError> check_combination(const db::SettingsSnapshot& before, const std::vector<Change>& changes) {
  std::vector<api::FieldError> errors;
  auto rules = db::settings::check_rules(merged(before, changes));
  if (!rules) {
    // Named where the request touched it; the From address when it touched both.
    std::string pointer = "/smtp.from_address";
    for (const auto& c : changes) {
      if (c.key == "smtp.from_address") {
        pointer = c.pointer;
        break;
      }
      if (c.key == "mail.address") pointer = c.pointer;
    }
    errors.push_back({pointer, rules.error().code, rules.error().message});
  }
  return errors;
}

db::SettingsSnapshot merged(const db::SettingsSnapshot& before, const std::vector<Change>& changes) {
  db::SettingsSnapshot out = before;
  for (const auto& c : changes) out.values[c.key] = c.value.value_or(db::find_setting(c.key)->default_json);
  return out;
}

bool stores_a_secret(const std::vector<Change>& changes) {
  return std::any_of(changes.begin(), changes.end(), [](const Change& c) {
    return db::find_setting(c.key)->secret && c.value && parse(*c.value) != json("");
  });
}

Result<Applied> apply(Context& cx, const api::Request& req, const std::vector<Change>& changes,
                      const std::optional<db::AuditEvent>& extra) {
  const api::Principal& caller = *req.principal();
  return cx.pool.transact([&](db::Tx& tx) -> Result<Applied> {
    Applied out;
    auto before = db::settings::load(tx);
    if (!before) return before.error();
    out.refused = check_combination(*before, changes);
    if (!out.refused.empty()) return out;
    // The default level is a level too: lowering it must not leave the system without
    // an enabled administrator (the same guard as the users' endpoints, under its lock).
    const bool touches_default_level = std::any_of(
        changes.begin(), changes.end(), [](const Change& c) { return c.key == "users.default_permission_level"; });
    if (touches_default_level) {
      if (auto locked = db::users::lock_administrators(tx); !locked) return locked.error();
    }
    for (const auto& c : changes) {
      const auto* spec = db::find_setting(c.key);
      auto written = c.value ? db::settings::set(tx, c.key, *c.value, caller.user_id, cx.secret_key)
                             : db::settings::reset(tx, c.key, caller.user_id);
      if (!written) return written.error();
      json details;
      // A secret's audit says that it changed, never to what (neither in clear nor sealed).
      if (spec->secret) {
        details = {{"secret", true}, {"set", c.value && parse(*c.value) != json("")}};
      } else {
        details = {{"from", parse(before->values.at(c.key))}, {"to", parse(c.value.value_or(spec->default_json))}};
      }
      auto a = db::audit::record(tx, audit_event(req, c.value ? "setting.update" : "setting.reset", "setting", c.key,
                                                 details));
      if (!a) return a.error();
    }
    if (extra) {
      if (auto a = db::audit::record(tx, *extra); !a) return a.error();
    }
    if (touches_default_level) {
      if (auto kept = db::users::require_an_administrator(tx); !kept) return kept.error();
    }
    auto rows = db::settings::rows(tx);
    if (!rows) return rows.error();
    out.rows = std::move(*rows);
    auto version = db::settings::version(tx);
    if (!version) return version.error();
    out.version = *version;
    return out;
  });
}

std::optional<Change> change_for(const std::string& key, const json& value, std::string pointer,
                                 std::vector<api::FieldError>& errors) {
  if (value.is_null()) return Change{key, std::nullopt, std::move(pointer)};
  auto v = db::validate_setting(key, value.dump());
  if (!v) {
    errors.push_back({std::move(pointer), v.error().code, v.error().message});
    return std::nullopt;
  }
  return Change{key, *v, std::move(pointer)};
}

}  // namespace settings_support

namespace {

using namespace settings_support;

api::Problem no_such_setting(std::string_view key) {
  return api::Problem(Code::k_api_not_found, "There is no setting named \"" + std::string(key) +
                                                 "\"; GET /api/v1/admin/settings lists them.");
}

api::Reply list(Context& cx, api::Request& req) {
  if (auto problem = refuse_unknown_query(req)) return *problem;
  struct View {
    std::map<std::string, db::SettingRow> rows;
    std::int64_t version = 0;
  };
  auto v = cx.pool.transact([&](db::Tx& tx) -> Result<View> {
    auto rows = db::settings::rows(tx);
    if (!rows) return rows.error();
    auto version = db::settings::version(tx);
    if (!version) return version.error();
    return View{std::move(*rows), *version};
  });
  if (!v) return v.error();
  json items = json::array();
  for (const auto& spec : db::setting_catalog()) items.push_back(setting_json(spec, v->rows));
  return api::Response::json({{"settings", items}, {"version", v->version}});
}

api::Reply get_one(Context& cx, api::Request& req) {
  const std::string key(req.param("key"));
  const auto* spec = db::find_setting(key);
  if (!spec) return no_such_setting(key);
  auto rows = cx.pool.transact([&](db::Tx& tx) { return db::settings::rows(tx); });
  if (!rows) return rows.error();
  return api::Response::json(setting_json(*spec, *rows));
}

api::Reply patch(Context& cx, api::Request& req) {
  const json& body = req.json();
  if (!body.is_object()) {
    return invalid({{"", Code::k_api_field_wrong_type,
                     "Must be a JSON object of setting keys and values, such as {\"fax.max_attempts\": 5}."}});
  }
  if (body.empty()) {
    return invalid({{"", Code::k_api_field_required, "Name at least one setting to change, such as {\"fax.max_attempts\": 5}."}});
  }
  std::vector<Change> changes;
  std::vector<api::FieldError> errors;
  for (const auto& [key, value] : body.items()) {
    const std::string pointer = "/" + api::json_pointer_token(key);
    if (!db::find_setting(key)) {
      errors.push_back({pointer, Code::k_setting_unknown,
                        "There is no setting named \"" + key + "\"; GET /api/v1/admin/settings lists them."});
      continue;
    }
    if (auto c = change_for(key, value, pointer, errors)) changes.push_back(std::move(*c));
  }
  if (!errors.empty()) return invalid(std::move(errors));
  auto applied = apply(cx, req, changes);
  if (!applied) return applied.error();
  if (!applied->refused.empty()) return invalid(std::move(applied->refused));
  json items = json::array();
  for (const auto& c : changes) items.push_back(setting_json(*db::find_setting(c.key), applied->rows));
  return api::Response::json({{"settings", items}, {"version", applied->version}});
}

api::Reply put_one(Context& cx, api::Request& req) {
  const std::string key(req.param("key"));
  if (!db::find_setting(key)) return no_such_setting(key);
  const json& body = req.json();
  std::vector<api::FieldError> errors;
  if (!body.is_object()) {
    return invalid({{"", Code::k_api_field_wrong_type, "Must be a JSON object: {\"value\": ...}."}});
  }
  for (const auto& [name, _] : body.items()) {
    if (name != "value") errors.push_back({"/" + api::json_pointer_token(name), Code::k_api_field_unknown,
                                           "This endpoint has no field \"" + name + "\"."});
  }
  if (!body.contains("value")) errors.push_back({"/value", Code::k_api_field_required, "This field is required."});
  std::optional<Change> change;
  if (body.contains("value")) change = change_for(key, body["value"], "/value", errors);
  if (!errors.empty()) return invalid(std::move(errors));
  auto applied = apply(cx, req, {*change});
  if (!applied) return applied.error();
  if (!applied->refused.empty()) return invalid(std::move(applied->refused));
  return api::Response::json(setting_json(*db::find_setting(key), applied->rows));
}

api::Reply reset_one(Context& cx, api::Request& req) {
  const std::string key(req.param("key"));
  if (!db::find_setting(key)) return no_such_setting(key);
  auto applied = apply(cx, req, {Change{key, std::nullopt, ""}});
  if (!applied) return applied.error();
  if (!applied->refused.empty()) {
    // Resetting one key can only break a rule with its default (""), which breaks none
    // today; named at the key all the same.
    for (auto& e : applied->refused) e.field = "";
    return invalid(std::move(applied->refused));
  }
  return api::Response::json(setting_json(*db::find_setting(key), applied->rows));
}

}  // namespace

std::vector<api::Route> settings_routes(Context& cx) {
  return {
      {"GET", "/api/v1/admin/settings", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return list(cx, r); }},
      {"PATCH", "/api/v1/admin/settings", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return patch(cx, r); }},
      {"GET", "/api/v1/admin/settings/{key}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return get_one(cx, r); }},
      {"PUT", "/api/v1/admin/settings/{key}", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return put_one(cx, r); }},
      {"DELETE", "/api/v1/admin/settings/{key}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return reset_one(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
