// DESIGN: see admin_support.hpp.
#include "admin_support.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>

#include <sodium.h>

namespace faxbridge::webapi {

std::optional<std::int64_t> parse_id(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

api::ProblemOr<std::int64_t> path_id(const api::Request& req, api::Problem (*not_found)(std::string_view id)) {
  const auto text = req.param("id");
  if (auto id = parse_id(text)) return *id;
  return not_found(text);
}

std::string encode_cursor(std::int64_t id) {
  const std::string raw = std::to_string(id);
  std::string out(sodium_base64_encoded_len(raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  return "c" + out;
}

std::optional<std::int64_t> decode_cursor(std::string_view text) {
  if (text.size() < 2 || text.size() > 40 || text[0] != 'c') return std::nullopt;
  unsigned char raw[32];
  std::size_t len = 0;
  const auto b64 = text.substr(1);
  if (sodium_base642bin(raw, sizeof raw, b64.data(), b64.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return std::nullopt;
  }
  return parse_id(std::string_view(reinterpret_cast<const char*>(raw), len));
}

std::optional<TimePoint> parse_time(std::string_view text) {
  const std::string s(text);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10) return std::nullopt;
  std::size_t i = 10;
  long offset_s = 0;
  double fraction = 0;
  if (i < s.size()) {
    if ((s[i] != 'T' && s[i] != 't') ||
        std::sscanf(s.c_str() + i + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &used) != 3 || used != 8) {
      return std::nullopt;
    }
    i += 9;
    if (i < s.size() && s[i] == '.') {
      std::size_t j = i + 1;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
      if (j == i + 1 || j - i > 10) return std::nullopt;
      fraction = std::stod("0" + s.substr(i, j - i));
      i = j;
    }
    if (i == s.size()) return std::nullopt;  // RFC 3339 requires the offset
    if (s[i] == 'Z' || s[i] == 'z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      int oh = 0, om = 0;
      if (std::sscanf(s.c_str() + i + 1, "%2d:%2d%n", &oh, &om, &used) != 2 || used != 5 || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offset_s = (s[i] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
      i += 6;
    } else {
      return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
  }
  // The clock counts nanoseconds in 64 bits, which ends in 2262: 2200 is far enough.
  if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const std::time_t t = timegm(&tm);
  // timegm normalises 31 February into March: such a date names no real day.
  std::tm back{};
  gmtime_r(&t, &back);
  if (back.tm_mday != d || back.tm_mon != mo - 1) return std::nullopt;
  auto point = std::chrono::system_clock::from_time_t(t - offset_s);
  return std::chrono::time_point_cast<TimePoint::duration>(point) +
         std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(fraction));
}

std::optional<std::string> QueryCheck::text(std::string_view name, std::size_t max_chars) {
  auto v = req_.query(name);
  if (!v || v->empty()) return std::nullopt;
  if (v->size() > max_chars) {
    reject(name, Code::k_api_field_too_long, "Must have at most " + std::to_string(max_chars) + " characters.");
    return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> QueryCheck::integer(std::string_view name, std::int64_t min, std::int64_t max) {
  auto v = req_.query(name);
  if (!v) return std::nullopt;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || end != v->data() + v->size()) {
    reject(name, Code::k_api_field_wrong_type, "Must be an integer.");
    return std::nullopt;
  }
  if (n < min || n > max) {
    reject(name, Code::k_api_field_out_of_range,
           "Must be between " + std::to_string(min) + " and " + std::to_string(max) + ".");
    return std::nullopt;
  }
  return n;
}

std::optional<bool> QueryCheck::boolean(std::string_view name) {
  auto v = req_.query(name);
  if (!v) return std::nullopt;
  if (*v == "true") return true;
  if (*v == "false") return false;
  reject(name, Code::k_api_field_wrong_type, "Must be true or false.");
  return std::nullopt;
}

std::optional<TimePoint> QueryCheck::time(std::string_view name) {
  auto v = req_.query(name);
  if (!v) return std::nullopt;
  auto t = parse_time(*v);
  if (!t) {
    reject(name, Code::k_api_field_invalid,
           "Must be a date-time such as 2026-12-02T08:30:00Z (RFC 3339) or a date such as 2026-12-02, "
           "between 1970 and 2200.");
  }
  return t;
}

std::optional<int> QueryCheck::level(std::string_view name) {
  auto v = req_.query(name);
  if (!v) return std::nullopt;
  if (*v == "0" || *v == "2" || *v == "10") return std::stoi(*v);
  reject(name, Code::k_api_field_invalid, "Must be 0 (no fax), 2 (fax user) or 10 (fax administrator).");
  return std::nullopt;
}

int QueryCheck::limit(int fallback, int max) {
  auto n = integer("limit", 1, max);
  return n ? static_cast<int>(*n) : fallback;
}

std::int64_t QueryCheck::cursor() {
  auto v = req_.query("cursor");
  if (!v) return 0;
  auto id = decode_cursor(*v);
  if (!id) {
    cursor_invalid_ = true;
    return 0;
  }
  return *id;
}

std::vector<api::FieldError> unknown_query_parameters(const api::Request& req,
                                                      std::initializer_list<std::string_view> known) {
  std::vector<api::FieldError> out;
  for (const auto& [name, value] : req.query_parameters()) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    // A parameter given twice is named once.
    if (std::any_of(out.begin(), out.end(), [&](const api::FieldError& e) { return e.field == name; })) continue;
    std::string takes;
    for (auto k : known) takes += (takes.empty() ? "" : ", ") + std::string(k);
    out.push_back({name, Code::k_api_field_unknown,
                   "This list has no query parameter \"" + name + "\"; " +
                       (takes.empty() ? std::string("it takes none.") : "it takes " + takes + ".")});
  }
  return out;
}

std::optional<api::Problem> refuse_unknown_query(const api::Request& req, std::initializer_list<std::string_view> known) {
  auto errors = unknown_query_parameters(req, known);
  if (errors.empty()) return std::nullopt;
  api::Problem p(Code::k_api_validation_failed, errors.size() == 1
                                                    ? "One query parameter is invalid; see errors."
                                                    : std::to_string(errors.size()) +
                                                          " query parameters are invalid; see errors.");
  p.errors = std::move(errors);
  return p;
}

void QueryCheck::known(std::initializer_list<std::string_view> names) {
  for (auto& e : unknown_query_parameters(req_, names)) errors_.push_back(std::move(e));
}

void QueryCheck::reject(std::string_view name, Code code, std::string detail) {
  errors_.push_back({std::string(name), code, std::move(detail)});
}

std::optional<api::Problem> QueryCheck::finish() {
  if (!errors_.empty()) {
    api::Problem p(Code::k_api_validation_failed, errors_.size() == 1
                                                      ? "One query parameter is invalid; see errors."
                                                      : std::to_string(errors_.size()) +
                                                            " query parameters are invalid; see errors.");
    p.errors = errors_;
    return p;
  }
  if (cursor_invalid_) {
    return api::Problem(Code::k_api_cursor_invalid,
                        "The cursor is not one this list gave out; start again without it and follow next_cursor.");
  }
  return std::nullopt;
}

db::AuditEvent audit_event(const api::Request& req, std::string action, std::string object_type,
                           std::string object_id, const nlohmann::json& details) {
  db::AuditEvent e;
  if (const auto* caller = req.principal()) {
    e.actor_user_id = caller->user_id;
    e.actor = caller->username;
  }
  e.action = std::move(action);
  e.object_type = std::move(object_type);
  e.object_id = std::move(object_id);
  e.details_json = details.dump();
  e.ip = req.remote_address();
  return e;
}

nlohmann::json time_or_null(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(iso8601_utc(*t)) : nlohmann::json(nullptr);
}

}  // namespace faxbridge::webapi
