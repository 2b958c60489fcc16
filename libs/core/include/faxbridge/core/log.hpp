#pragma once
// Structured logs: one JSON object per line on stdout, for example
//   {"ts":"2026-11-25T06:30:00.123Z","level":"info","service":"router",
//    "event":"job.state","job":812,"from":"ready","to":"queued"}
// `event` is a stable dotted name; the other fields are small facts. Never log
// document bytes; mask numbers and addresses at info.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace faxbridge {
struct Error;
}

namespace faxbridge::log {

enum class Level { kDebug, kInfo, kWarn, kError };

using Value = std::variant<std::string_view, std::string, std::int64_t, double, bool>;

struct Field {
  std::string_view key;
  Value value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, std::int64_t v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, long long v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, unsigned long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
};

using Fields = std::initializer_list<Field>;

// Sets the service name stamped on each line and the lowest level written.
void init(std::string_view service, Level level);
bool parse_level(std::string_view text, Level& out);
bool enabled(Level level);

void write(Level level, std::string_view event, Fields fields);
// Error lines carry code= and the error's message and context.
void write_error(Level level, std::string_view event, const Error& error, Fields fields = {});

inline void debug(std::string_view event, Fields f = {}) { write(Level::kDebug, event, f); }
inline void info(std::string_view event, Fields f = {}) { write(Level::kInfo, event, f); }
inline void warn(std::string_view event, Fields f = {}) { write(Level::kWarn, event, f); }
inline void error(std::string_view event, Fields f = {}) { write(Level::kError, event, f); }

// Formats one line without writing it (for tests and for redirecting).
std::string format_line(Level level, std::string_view event, Fields fields);

// "+390297865403" -> "+3902978***03": enough to tell numbers apart, not to dial them.
std::string mask_number(std::string_view number);

}  // namespace faxbridge::log
