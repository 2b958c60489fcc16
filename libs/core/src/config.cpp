#include "faxbridge/core/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <regex>

namespace faxbridge::config {

Env process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Env map_env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

void ConfigReader::record(std::string_view name, std::string value, bool from_default,
                          Visibility visibility) {
  if (visibility == Visibility::kSecret && !value.empty()) value = "***";
  effective_.push_back({std::string(name), std::move(value), from_default});
}

void ConfigReader::problem(std::string_view name, std::string_view got,
                           std::string_view expected) {
  std::string p(name);
  if (got.empty()) {
    p += " is not set; expected ";
  } else {
    p += "=\"";
    p += got;
    p += "\" is invalid; expected ";
  }
  p += expected;
  problems_.push_back(std::move(p));
}

// Empty counts as unset: `FOO=` in a compose file usually means "not configured".
std::optional<std::string> ConfigReader::lookup(std::string_view name, bool has_default,
                                                std::string_view expected) {
  auto v = env_(name);
  if (v && !v->empty()) return v;
  if (!has_default) problem(name, "", expected);
  return std::nullopt;
}

std::string ConfigReader::string(std::string_view name, std::optional<std::string> fallback,
                                 std::string_view expected, Visibility visibility) {
  auto v = lookup(name, fallback.has_value(), expected);
  if (v) {
    record(name, *v, false, visibility);
    return *v;
  }
  std::string value = fallback.value_or("");
  record(name, value, true, visibility);
  return value;
}

namespace {

bool parse_int(std::string_view s, std::int64_t& out) {
  auto first = s.data();
  auto last = s.data() + s.size();
  if (first != last && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && ptr == last && first != last;
}

std::string range_text(std::int64_t min, std::int64_t max, std::string_view unit) {
  return "an integer from " + std::to_string(min) + " to " + std::to_string(max) +
         std::string(unit);
}

}  // namespace

std::int64_t ConfigReader::integer(std::string_view name, std::optional<std::int64_t> fallback,
                                   std::int64_t min, std::int64_t max) {
  const std::string expected = range_text(min, max, "");
  auto v = lookup(name, fallback.has_value(), expected);
  if (v) {
    std::int64_t n = 0;
    if (parse_int(*v, n) && n >= min && n <= max) {
      record(name, std::to_string(n), false);
      return n;
    }
    problem(name, *v, expected);
  }
  std::int64_t value = fallback.value_or(min);
  record(name, std::to_string(value), true);
  return value;
}

bool ConfigReader::boolean(std::string_view name, std::optional<bool> fallback) {
  constexpr std::string_view expected = "true or false (also 1/0, yes/no, on/off)";
  auto v = lookup(name, fallback.has_value(), expected);
  if (v) {
    std::string s = *v;
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (s == "true" || s == "1" || s == "yes" || s == "on") {
      record(name, "true", false);
      return true;
    }
    if (s == "false" || s == "0" || s == "no" || s == "off") {
      record(name, "false", false);
      return false;
    }
    problem(name, *v, expected);
  }
  bool value = fallback.value_or(false);
  record(name, value ? "true" : "false", true);
  return value;
}

std::chrono::milliseconds ConfigReader::duration_ms(
    std::string_view name, std::optional<std::chrono::milliseconds> fallback,
    std::chrono::milliseconds min, std::chrono::milliseconds max) {
  const std::string expected = range_text(min.count(), max.count(), " (milliseconds)");
  auto v = lookup(name, fallback.has_value(), expected);
  if (v) {
    std::int64_t n = 0;
    if (parse_int(*v, n) && n >= min.count() && n <= max.count()) {
      record(name, std::to_string(n), false);
      return std::chrono::milliseconds(n);
    }
    problem(name, *v, expected);
  }
  auto value = fallback.value_or(min);
  record(name, std::to_string(value.count()), true);
  return value;
}

std::string ConfigReader::one_of(std::string_view name, std::optional<std::string> fallback,
                                 const std::vector<std::string>& choices) {
  std::string expected = "one of";
  for (std::size_t i = 0; i < choices.size(); ++i) {
    expected += (i ? ", " : " ") + choices[i];
  }
  auto v = lookup(name, fallback.has_value(), expected);
  if (v) {
    if (std::find(choices.begin(), choices.end(), *v) != choices.end()) {
      record(name, *v, false);
      return *v;
    }
    problem(name, *v, expected);
  }
  std::string value = fallback.value_or(choices.empty() ? "" : choices.front());
  record(name, value, true);
  return value;
}

Result<void> ConfigReader::finish() const {
  if (problems_.empty()) return ok();
  std::string msg = "The configuration is invalid: ";
  for (std::size_t i = 0; i < problems_.size(); ++i) {
    if (i) msg += "; ";
    msg += problems_[i];
  }
  msg += ". Fix the environment and start again (see docs/configuration.md).";
  return Error(Code::k_config_invalid, std::move(msg));
}

std::string mask_dsn(std::string_view dsn) {
  std::string s(dsn);
  // URI form: postgresql://user:secret@host/db
  static const std::regex uri(R"(^(postgres(?:ql)?://[^:/@]*:)[^@]*@)");
  s = std::regex_replace(s, uri, "$1***@");
  // key=value form: password=secret or password='se cret'
  static const std::regex kv(R"((password\s*=\s*)('([^'\\]|\\.)*'|\S+))");
  return std::regex_replace(s, kv, "$1***");
}

}  // namespace faxbridge::config
