#pragma once
// Internal to libs/db: pqxx access for repositories, and time conversions.
#include <chrono>
#include <functional>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/db/pool.hpp"

// pqxx 6.4 already maps std::optional parameters to NULL (internal/type_utils.hxx).

namespace faxbridge::db {

struct Tx::Impl {
  pqxx::work& work;
  // Run once the transaction committed (log lines of what it changed); dropped when it
  // rolls back, so a log never tells of a change that did not happen.
  std::vector<std::function<void()>> after_commit{};
};

inline pqxx::work& W(Tx& tx) { return tx.impl().work; }
inline void after_commit(Tx& tx, std::function<void()> fn) { tx.impl().after_commit.push_back(std::move(fn)); }

// Time points cross into SQL as ISO text with microseconds, UTC.
std::string to_sql_time(TimePoint t);
std::optional<std::string> to_sql_time(const std::optional<TimePoint>& t);
// Parses what Postgres prints for timestamptz when the session time zone is UTC.
TimePoint from_sql_time(const std::string& text);

// A text[] column as strings (NULL elements skipped).
std::vector<std::string> text_array(const pqxx::field& f);
// Strings as one text parameter for string_to_array($n, E'\n') (they hold no newline).
inline std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += '\n';
    out += l;
  }
  return out;
}

template <typename T>
std::optional<T> opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}

}  // namespace faxbridge::db
