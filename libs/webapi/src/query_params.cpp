#include "query_params.hpp"

#include "admin_support.hpp"

#include <algorithm>
#include <charconv>

namespace faxbridge::webapi {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
    return std::nullopt;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[mo - 1] || (mo == 2 && d == 29 && !leap)) return std::nullopt;
  std::size_t pos = 19;
  std::chrono::microseconds fraction{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    std::int64_t us = 0;
    int scale = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale < 6) {
        us = us * 10 + (s[pos] - '0');
        ++scale;
      }
      ++pos;
    }
    if (pos == start) return std::nullopt;
    while (scale++ < 6) us *= 10;
    fraction = std::chrono::microseconds(us);
  }
  if (pos >= s.size()) return std::nullopt;
  std::chrono::minutes offset{0};
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59)
      return std::nullopt;
    offset = std::chrono::minutes(oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  return utc_time(y, mo, d, h, mi, std::min(sec, 59)) + fraction - offset;
}

std::optional<std::string> QueryParams::value(std::string_view name) const {
  auto v = req_.query(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

void QueryParams::reject(std::string_view name, Code code, std::string detail) {
  errors_.push_back({std::string(name), code, std::move(detail)});
}

void QueryParams::known(std::initializer_list<std::string_view> names) {
  for (auto& e : unknown_query_parameters(req_, names)) errors_.push_back(std::move(e));
}

void QueryParams::integer(std::string_view name, std::optional<std::int64_t>& out, api::Range range) {
  auto v = value(name);
  if (!v) return;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size()) {
    reject(name, Code::k_api_field_wrong_type, "Must be an integer.");
  } else if (n < range.min || n > range.max) {
    reject(name, Code::k_api_field_out_of_range,
           "Must be from " + std::to_string(range.min) + " to " + std::to_string(range.max) + ".");
  } else {
    out = n;
  }
}

void QueryParams::boolean(std::string_view name, std::optional<bool>& out) {
  auto v = value(name);
  if (!v) return;
  if (*v == "true") {
    out = true;
  } else if (*v == "false") {
    out = false;
  } else {
    reject(name, Code::k_api_field_wrong_type, "Must be true or false.");
  }
}

void QueryParams::text(std::string_view name, std::optional<std::string>& out, api::Text rule,
                       std::string_view allowed) {
  auto v = value(name);
  if (!v) return;
  if (v->size() < rule.min) {
    reject(name, Code::k_api_field_too_short, "Must have at least " + std::to_string(rule.min) + " characters.");
  } else if (v->size() > rule.max) {
    reject(name, Code::k_api_field_too_long, "Must have at most " + std::to_string(rule.max) + " characters.");
  } else if (!allowed.empty() && v->find_first_not_of(allowed) != std::string::npos) {
    reject(name, Code::k_api_field_invalid, "May hold only the characters " + std::string(allowed) + ".");
  } else {
    out = std::move(*v);
  }
}

void QueryParams::choice(std::string_view name, std::string& out, const std::vector<std::string>& choices) {
  auto v = value(name);
  if (!v) return;
  if (std::find(choices.begin(), choices.end(), *v) == choices.end()) {
    std::string list;
    for (std::size_t i = 0; i < choices.size(); ++i) list += (i ? (i + 1 == choices.size() ? " or " : ", ") : "") + choices[i];
    reject(name, Code::k_api_field_invalid, "Must be " + list + ".");
  } else {
    out = *v;
  }
}

void QueryParams::time(std::string_view name, std::optional<TimePoint>& out) {
  auto v = value(name);
  if (!v) return;
  auto t = parse_rfc3339(*v);
  if (!t) {
    reject(name, Code::k_api_field_invalid, "Must be a date-time like 2026-11-25T06:30:00Z (RFC 3339).");
  } else {
    out = *t;
  }
}

std::optional<api::Problem> QueryParams::finish() {
  if (errors_.empty()) return std::nullopt;
  std::string detail = errors_.size() == 1 ? "One query parameter is invalid; see errors."
                                           : std::to_string(errors_.size()) + " query parameters are invalid; see errors.";
  api::Problem p(Code::k_api_validation_failed, std::move(detail));
  p.errors = std::move(errors_);
  return p;
}

}  // namespace faxbridge::webapi
