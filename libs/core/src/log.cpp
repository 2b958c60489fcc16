#include "faxbridge/core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "faxbridge/core/error.hpp"

namespace faxbridge::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mutex;
std::string g_service = "faxbridge";

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

void put(nlohmann::json& j, const Field& f) {
  std::string key(f.key);
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string_view>) {
          j[key] = std::string(v);
        } else {
          j[key] = v;
        }
      },
      f.value);
}

void emit(const std::string& line) {
  std::lock_guard lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

nlohmann::json base(Level level, std::string_view event) {
  nlohmann::json j;
  j["ts"] = timestamp();
  j["level"] = level_name(level);
  {
    std::lock_guard lock(g_mutex);
    j["service"] = g_service;
  }
  j["event"] = std::string(event);
  return j;
}

std::string dump(const nlohmann::json& j) {
  // Invalid UTF-8 from the outside world must not throw out of a log call.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void init(std::string_view service, Level level) {
  std::lock_guard lock(g_mutex);
  g_service = std::string(service);
  g_level = level;
}

bool parse_level(std::string_view text, Level& out) {
  if (text == "debug") out = Level::kDebug;
  else if (text == "info") out = Level::kInfo;
  else if (text == "warn") out = Level::kWarn;
  else if (text == "error") out = Level::kError;
  else return false;
  return true;
}

bool enabled(Level level) { return level >= g_level.load(); }

std::string format_line(Level level, std::string_view event, Fields fields) {
  auto j = base(level, event);
  for (const auto& f : fields) put(j, f);
  return dump(j);
}

void write(Level level, std::string_view event, Fields fields) {
  if (!enabled(level)) return;
  emit(format_line(level, event, fields));
}

void write_error(Level level, std::string_view event, const Error& err, Fields fields) {
  if (!enabled(level)) return;
  auto j = base(level, event);
  j["code"] = std::string(err.name());
  j["message"] = err.message;
  for (const auto& [k, v] : err.context) j[k] = v;
  for (const auto& f : fields) put(j, f);
  emit(dump(j));
}

std::string mask_number(std::string_view number) {
  std::string s(number);
  if (s.size() <= 5) return std::string(s.size(), '*');
  std::size_t keep_tail = 2;
  std::size_t keep_head = s.size() - keep_tail - 3;
  return s.substr(0, keep_head) + "***" + s.substr(s.size() - keep_tail);
}

}  // namespace faxbridge::log
