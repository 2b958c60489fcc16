#include "faxbridge/db/settings.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "pqxx_support.hpp"

namespace faxbridge::db {
namespace {

using T = SettingType;

}  // namespace

const std::vector<SettingSpec>& setting_catalog() {
  // key, type, default, min, max, choices, description
  static const std::vector<SettingSpec> catalog = {
      {"outgoing.enabled", T::kBool, "true", 0, 0, {}, "Enable outgoing faxes (email-to-fax, web-to-fax, API)."},
      {"incoming.enabled", T::kBool, "true", 0, 0, {}, "Enable incoming faxes."},
      {"incoming.attachment_format", T::kChoice, "\"pdf\"", 0, 0, {"pdf", "tif"}, "Format of received faxes attached to mails and stored."},
      {"incoming.notify_failed_calls", T::kBool, "false", 0, 0, {}, "Mail the recipient when a call was notified but no page arrived."},
      {"incoming.unknown_number", T::kChoice, "\"default_user\"", 0, 0, {"default_user", "refuse"}, "What to do with a fax to a number nobody owns."},
      {"incoming.default_user", T::kString, "\"\"", 0, 64, {}, "Username that receives faxes nobody else takes."},
      {"receipts.return_enabled", T::kBool, "true", 0, 0, {}, "Mail the sender when a fax was sent or finally failed."},
      {"receipts.enqueued_enabled", T::kBool, "false", 0, 0, {}, "Mail the sender when a fax entered the outgoing queue."},
      {"fax.max_attempts", T::kInt, "3", 1, 100, {}, "How many times a fax is dialled before it fails."},
      {"fax.retry_interval_s", T::kInt, "300", 10, 86400, {}, "Seconds between attempts (default for every cause)."},
      {"fax.retry_busy_s", T::kInt, "180", 10, 86400, {}, "Seconds before retrying after a busy signal."},
      {"fax.retry_no_answer_s", T::kInt, "300", 10, 86400, {}, "Seconds before retrying after no answer."},
      {"fax.retry_failure_s", T::kInt, "600", 10, 86400, {}, "Seconds before retrying after a line or protocol failure."},
      {"fax.max_concurrent_outgoing", T::kInt, "8", 0, 10000, {}, "Most faxes sent at once; the other channels stay free for incoming."},
      {"fax.resolution", T::kChoice, "\"fine\"", 0, 0, {"fine", "standard"}, "Default resolution of sent faxes."},
      {"company.name", T::kString, "\"\"", 0, 200, {}, "Company name on cover pages."},
      {"company.address", T::kString, "\"\"", 0, 500, {}, "Company address on cover pages."},
      {"company.phone", T::kString, "\"\"", 0, 64, {}, "Company phone on cover pages."},
      {"company.fax", T::kString, "\"\"", 0, 64, {}, "Company fax on cover pages."},
      {"company.tsid", T::kString, "\"\"", 0, 20, {}, "Transmitting station id; overrides the calling number in page headers."},
      {"company.admin_email", T::kEmail, "\"\"", 0, 254, {}, "Fax administrator mail for problems and significant events."},
      {"routing.global_prefix", T::kString, "\"\"", 0, 10, {}, "Prefix added to off-net numbers."},
      {"routing.network_type", T::kChoice, "\"external_only\"", 0, 0, {"external_only", "internal_and_external"}, "Whether internal numbers are dialled without the global prefix."},
      {"routing.internal_max_digits", T::kInt, "5", 1, 10, {}, "With internal_and_external routing, local numbers up to this many digits are internal (no prefix)."},
      {"routing.country_code", T::kString, "\"\"", 0, 4, {}, "Home country code for number normalisation (e.g. 39)."},
      {"routing.international_prefix", T::kString, "\"00\"", 0, 4, {}, "International dialling prefix."},
      {"routing.national_prefix", T::kString, "\"0\"", 0, 4, {}, "National trunk prefix."},
      {"sip.allow_g711_outgoing", T::kBool, "false", 0, 0, {}, "Allow G.711 for outgoing faxes."},
      {"sip.disable_t38_incoming", T::kBool, "false", 0, 0, {}, "Disable T.38 for incoming faxes."},
      {"sip.g711_memory_days", T::kInt, "30", 1, 3650, {}, "Days a number whose T.38 failed is dialled on G.711 before T.38 is tried again."},
      {"retention.fax_days", T::kInt, "0", 0, 36500, {}, "Delete faxes older than this many days (0: never)."},
      {"retention.cdr_days", T::kInt, "0", 0, 36500, {}, "Delete call detail records older than this many days (0: never)."},
      {"users.default_permission_level", T::kInt, "2", 0, 10, {}, "Permission level of users without their own: 0 no fax, 2 fax user, 10 fax administrator."},
      {"mail.poll_interval_s", T::kInt, "20", 5, 3600, {}, "Seconds between mailbox checks for email-to-fax."},
  };
  return catalog;
}

const SettingSpec* find_setting(const std::string& key) {
  const auto& c = setting_catalog();
  auto it = std::find_if(c.begin(), c.end(), [&](const SettingSpec& s) { return s.key == key; });
  return it == c.end() ? nullptr : &*it;
}

Result<std::string> validate_setting(const std::string& key, const std::string& value_json) {
  const SettingSpec* spec = find_setting(key);
  if (!spec) return Error(Code::k_setting_unknown, "There is no setting named \"" + key + "\".");
  auto bad = [&](const std::string& expected) {
    return Error(Code::k_setting_invalid, "The setting " + key + " must be " + expected + "; got " + value_json + ".");
  };
  nlohmann::json v = nlohmann::json::parse(value_json, nullptr, false);
  if (v.is_discarded()) return bad("valid JSON");
  switch (spec->type) {
    case T::kBool:
      if (!v.is_boolean()) return bad("true or false");
      break;
    case T::kInt:
      if (!v.is_number_integer() || v.get<std::int64_t>() < spec->min || v.get<std::int64_t>() > spec->max) {
        return bad("an integer from " + std::to_string(spec->min) + " to " + std::to_string(spec->max));
      }
      break;
    case T::kString:
      if (!v.is_string() || static_cast<std::int64_t>(v.get<std::string>().size()) > spec->max) {
        return bad("a string of at most " + std::to_string(spec->max) + " characters");
      }
      break;
    case T::kEmail: {
      if (!v.is_string()) return bad("a mail address");
      const auto s = v.get<std::string>();
      const auto at = s.find('@');
      if (!s.empty() && (at == std::string::npos || at == 0 || at + 1 == s.size() || s.size() > 254)) {
        return bad("a mail address like fax-admin@example.com");
      }
      break;
    }
    case T::kChoice: {
      std::string expected = "one of";
      for (const auto& c : spec->choices) expected += " \"" + c + "\"";
      if (!v.is_string() ||
          std::find(spec->choices.begin(), spec->choices.end(), v.get<std::string>()) == spec->choices.end()) {
        return bad(expected);
      }
      break;
    }
  }
  return v.dump();
}

bool SettingsSnapshot::get_bool(const std::string& key) const {
  auto it = values.find(key);
  return it != values.end() && nlohmann::json::parse(it->second, nullptr, false) == true;
}

std::int64_t SettingsSnapshot::get_int(const std::string& key) const {
  auto it = values.find(key);
  if (it == values.end()) return 0;
  auto v = nlohmann::json::parse(it->second, nullptr, false);
  return v.is_number_integer() ? v.get<std::int64_t>() : 0;
}

std::string SettingsSnapshot::get_string(const std::string& key) const {
  auto it = values.find(key);
  if (it == values.end()) return "";
  auto v = nlohmann::json::parse(it->second, nullptr, false);
  return v.is_string() ? v.get<std::string>() : "";
}

namespace settings {

Result<SettingsSnapshot> load(Tx& tx) {
  SettingsSnapshot snap;
  for (const auto& spec : setting_catalog()) snap.values[spec.key] = spec.default_json;
  auto rows = W(tx).exec("SELECT key, value::text, version FROM settings");
  for (const auto& r : rows) {
    const auto key = r[0].as<std::string>();
    // A stored value that no longer validates (an older catalog) falls back to the default.
    if (auto v = validate_setting(key, r[1].as<std::string>())) snap.values[key] = *v;
    snap.version = std::max(snap.version, r[2].as<std::int64_t>());
  }
  return snap;
}

Result<std::int64_t> version(Tx& tx) {
  return W(tx).exec("SELECT coalesce(max(version), 0) FROM settings")[0][0].as<std::int64_t>();
}

Result<std::int64_t> set(Tx& tx, const std::string& key, const std::string& value_json,
                         std::optional<std::int64_t> updated_by) {
  auto v = validate_setting(key, value_json);
  if (!v) return v.error();
  auto r = W(tx).exec_params(
      "INSERT INTO settings (key, value, updated_by) VALUES ($1, $2::jsonb, $3) "
      "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = nextval('settings_version_seq'), "
      "updated_at = now(), updated_by = EXCLUDED.updated_by RETURNING version",
      key, *v, updated_by);
  return r[0][0].as<std::int64_t>();
}

}  // namespace settings
}  // namespace faxbridge::db
