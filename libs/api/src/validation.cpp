// DESIGN: see validation.hpp. Nested Fields share one error list (and one cap) with
// the outermost, so finish() there reports the whole body. Each Fields remembers the
// keys the endpoint read; when it goes out of use (finish(), or the end of an object()
// or each() callback) the keys it never read become api.field_unknown errors.
#include "faxbridge/api/validation.hpp"

#include <algorithm>

namespace faxbridge::api {

namespace {
std::size_t code_points(std::string_view s) {
  // Every byte except UTF-8 continuation bytes (10xxxxxx) starts a code point.
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string type_name(const nlohmann::json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  if (v.is_number_float()) return "number";
  return v.type_name();  // "string", "object", "array", "boolean"
}

std::string characters(std::size_t n) { return std::to_string(n) + (n == 1 ? " character" : " characters"); }
std::string items(std::size_t n) { return std::to_string(n) + (n == 1 ? " item" : " items"); }
}  // namespace

std::string json_pointer_token(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

Fields::Fields(const nlohmann::json& body) : Fields(body, "", std::make_shared<Errors>()) {}

Fields::Fields(const nlohmann::json& body, std::string pointer, std::shared_ptr<Errors> errors)
    : body_(body), pointer_(std::move(pointer)), errors_(std::move(errors)), is_object_(body.is_object()) {
  if (!is_object_) add(pointer_, Code::k_api_field_wrong_type, "Must be a JSON object, not " + type_name(body) + ".");
}

std::string Fields::pointer_of(std::string_view name) const { return pointer_ + "/" + json_pointer_token(name); }

void Fields::add(std::string pointer, Code code, std::string detail) {
  ++errors_->total;
  if (errors_->list.size() < kMaxErrors) errors_->list.push_back({std::move(pointer), code, std::move(detail)});
}

bool Fields::has(std::string_view name) const {
  if (!is_object_) return false;
  auto it = body_.find(name);
  return it != body_.end() && !it->is_null();
}

bool Fields::ok() const { return errors_->total == 0; }

const nlohmann::json* Fields::take(std::string_view name, bool is_required) {
  if (!is_object_) return nullptr;
  seen_.emplace_back(name);
  auto it = body_.find(name);
  if (it == body_.end() || it->is_null()) {
    if (is_required) add(pointer_of(name), Code::k_api_field_required, "This field is required.");
    return nullptr;
  }
  return &*it;
}

bool Fields::check_text(std::string pointer, const nlohmann::json& value, Text rule, std::string& out) {
  if (!value.is_string()) {
    add(std::move(pointer), Code::k_api_field_wrong_type, "Must be a string, not " + type_name(value) + ".");
    return false;
  }
  const auto& s = value.get_ref<const std::string&>();
  const auto n = code_points(s);
  if (n < rule.min) {
    add(std::move(pointer), Code::k_api_field_too_short,
        rule.min == 1 ? "Must not be empty." : "Must have at least " + characters(rule.min) + ".");
    return false;
  }
  if (n > rule.max) {
    add(std::move(pointer), Code::k_api_field_too_long, "Must have at most " + characters(rule.max) + ".");
    return false;
  }
  // Postgres text cannot hold NUL, and the other C0 controls (ESC, BEL, ...) have no
  // place in a name, a subject or a note: they forge terminal output and log lines.
  // Tab and line breaks are text.
  if (std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7F;
      })) {
    add(std::move(pointer), Code::k_api_field_invalid,
        "Must not contain control characters (NUL, ESC and the like); tabs and line breaks are fine.");
    return false;
  }
  out = s;
  return true;
}

void Fields::read_string(std::string_view name, bool is_required, Text rule,
                         const std::function<void(std::string)>& store) {
  const auto* value = take(name, is_required);
  if (value == nullptr) return;
  std::string s;
  if (check_text(pointer_of(name), *value, rule, s)) store(std::move(s));
}

void Fields::required(std::string_view name, std::string& out, Text rule) {
  read_string(name, true, rule, [&](std::string s) { out = std::move(s); });
}
void Fields::optional(std::string_view name, std::string& out, Text rule) {
  read_string(name, false, rule, [&](std::string s) { out = std::move(s); });
}
void Fields::optional(std::string_view name, std::optional<std::string>& out, Text rule) {
  read_string(name, false, rule, [&](std::string s) { out = std::move(s); });
}

namespace {
std::string choices_text(const OneOf& rule) {
  std::string text;
  for (const auto& c : rule.choices) text += (text.empty() ? "" : ", ") + ("\"" + c + "\"");
  return text;
}
}  // namespace

void Fields::required(std::string_view name, std::string& out, const OneOf& rule) {
  read_string(name, true, Text{}, [&](std::string s) {
    if (std::find(rule.choices.begin(), rule.choices.end(), s) == rule.choices.end()) {
      add(pointer_of(name), Code::k_api_field_invalid, "Must be one of " + choices_text(rule) + ".");
    } else {
      out = std::move(s);
    }
  });
}
void Fields::optional(std::string_view name, std::string& out, const OneOf& rule) {
  read_string(name, false, Text{}, [&](std::string s) {
    if (std::find(rule.choices.begin(), rule.choices.end(), s) == rule.choices.end()) {
      add(pointer_of(name), Code::k_api_field_invalid, "Must be one of " + choices_text(rule) + ".");
    } else {
      out = std::move(s);
    }
  });
}

void Fields::read_integer(std::string_view name, bool is_required, Range rule, std::int64_t type_min,
                          std::uint64_t type_max, const std::function<void(std::int64_t)>& store) {
  const auto* value = take(name, is_required);
  if (value == nullptr) return;
  const auto pointer = pointer_of(name);
  if (!value->is_number_integer() && !value->is_number_unsigned()) {
    add(pointer, Code::k_api_field_wrong_type, "Must be an integer, not " + type_name(*value) + ".");
    return;
  }
  // The effective bounds are the rule's, narrowed to what the C++ type can hold.
  const std::int64_t lo = std::max(rule.min, type_min);
  const std::int64_t hi = type_max > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                              ? rule.max
                              : std::min(rule.max, static_cast<std::int64_t>(type_max));
  const bool too_big = value->is_number_unsigned() &&
                       value->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  const std::int64_t v = too_big ? 0 : value->get<std::int64_t>();
  if (too_big || v < lo || v > hi) {
    add(pointer, Code::k_api_field_out_of_range,
        "Must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ".");
    return;
  }
  store(v);
}

void Fields::required(std::string_view name, bool& out) {
  if (const auto* value = take(name, true)) {
    if (value->is_boolean()) {
      out = value->get<bool>();
    } else {
      add(pointer_of(name), Code::k_api_field_wrong_type, "Must be true or false, not " + type_name(*value) + ".");
    }
  }
}
void Fields::optional(std::string_view name, bool& out) {
  if (const auto* value = take(name, false)) {
    if (value->is_boolean()) {
      out = value->get<bool>();
    } else {
      add(pointer_of(name), Code::k_api_field_wrong_type, "Must be true or false, not " + type_name(*value) + ".");
    }
  }
}

namespace {
// Shared by list() and each(): type and count of an array field.
bool check_items(const nlohmann::json& value, Items rule, const std::function<void(Code, std::string)>& fail,
                 std::string_view what) {
  if (!value.is_array()) {
    fail(Code::k_api_field_wrong_type, "Must be a list of " + std::string(what) + ", not " + type_name(value) + ".");
    return false;
  }
  if (value.size() < rule.min) {
    fail(Code::k_api_field_too_short, "Must have at least " + items(rule.min) + ".");
    return false;
  }
  if (value.size() > rule.max) {
    fail(Code::k_api_field_too_long, "Must have at most " + items(rule.max) + ".");
    return false;
  }
  return true;
}
}  // namespace

void Fields::list(std::string_view name, std::vector<std::string>& out, Items items_rule, Text each_rule) {
  const auto* value = take(name, items_rule.min > 0);
  if (value == nullptr) return;
  const auto pointer = pointer_of(name);
  if (!check_items(*value, items_rule, [&](Code c, std::string d) { add(pointer, c, std::move(d)); }, "strings")) return;
  std::vector<std::string> result;
  bool all_ok = true;
  for (std::size_t i = 0; i < value->size(); ++i) {
    std::string s;
    if (check_text(pointer + "/" + std::to_string(i), (*value)[i], each_rule, s)) {
      result.push_back(std::move(s));
    } else {
      all_ok = false;
    }
  }
  if (all_ok) out = std::move(result);
}

void Fields::list(std::string_view name, std::vector<std::int64_t>& out, Items items_rule, Range each) {
  const auto* value = take(name, items_rule.min > 0);
  if (value == nullptr) return;
  const auto pointer = pointer_of(name);
  if (!check_items(*value, items_rule, [&](Code c, std::string d) { add(pointer, c, std::move(d)); }, "integers")) return;
  std::vector<std::int64_t> result;
  bool all_ok = true;
  for (std::size_t i = 0; i < value->size(); ++i) {
    const auto& v = (*value)[i];
    const auto at = pointer + "/" + std::to_string(i);
    if (!v.is_number_integer() && !v.is_number_unsigned()) {
      add(at, Code::k_api_field_wrong_type, "Must be an integer, not " + type_name(v) + ".");
      all_ok = false;
      continue;
    }
    const bool too_big = v.is_number_unsigned() &&
                         v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    const std::int64_t n = too_big ? 0 : v.get<std::int64_t>();
    if (too_big || n < each.min || n > each.max) {
      add(at, Code::k_api_field_out_of_range,
          "Must be between " + std::to_string(each.min) + " and " + std::to_string(each.max) + ".");
      all_ok = false;
      continue;
    }
    result.push_back(n);
  }
  if (all_ok) out = std::move(result);
}

void Fields::object(std::string_view name, bool is_required, const std::function<void(Fields&)>& fn) {
  const auto* value = take(name, is_required);
  if (value == nullptr) return;
  Fields child(*value, pointer_of(name), errors_);
  if (child.is_object_) {
    fn(child);
    child.check_unknown();
  }
}

void Fields::each(std::string_view name, Items items_rule, const std::function<void(Fields&)>& fn) {
  const auto* value = take(name, items_rule.min > 0);
  if (value == nullptr) return;
  const auto pointer = pointer_of(name);
  if (!check_items(*value, items_rule, [&](Code c, std::string d) { add(pointer, c, std::move(d)); }, "objects")) return;
  for (std::size_t i = 0; i < value->size(); ++i) {
    Fields child((*value)[i], pointer + "/" + std::to_string(i), errors_);
    if (!child.is_object_) continue;
    fn(child);
    child.check_unknown();
  }
}

void Fields::reject(std::string_view field, Code code, std::string detail) {
  add(field.empty() ? pointer_ : pointer_of(field), code, std::move(detail));
}

void Fields::check_unknown() {
  if (!is_object_) return;
  for (const auto& [key, value] : body_.items()) {
    if (std::find(seen_.begin(), seen_.end(), key) == seen_.end()) {
      add(pointer_of(key), Code::k_api_field_unknown, "This endpoint has no field \"" + key + "\".");
    }
  }
}

std::optional<Problem> Fields::finish() {
  check_unknown();
  if (errors_->total == 0) return std::nullopt;
  std::string detail = errors_->total == 1 ? "One field is invalid; see errors."
                                           : std::to_string(errors_->total) + " fields are invalid; see errors.";
  if (errors_->total > errors_->list.size()) {
    detail += " Only the first " + std::to_string(errors_->list.size()) + " are listed.";
  }
  Problem problem(Code::k_api_validation_failed, std::move(detail));
  problem.errors = errors_->list;
  return problem;
}

}  // namespace faxbridge::api
