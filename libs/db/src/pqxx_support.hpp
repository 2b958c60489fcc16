#pragma once
// Internal to libs/db: pqxx access for repositories, and time conversions.
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <pqxx/pqxx>
#include <string>
#include <unordered_set>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/db/pool.hpp"

// pqxx 6.4 already maps std::optional parameters to NULL (internal/type_utils.hxx).

namespace faxbridge::db {

// A pooled connection and what libs/db remembers about it. It lives exactly as long as
// the connection: the pool drops both when the connection fails, so a new connection
// starts with nothing prepared.
struct Session {
  explicit Session(const std::string& dsn) : conn(dsn) {}
  pqxx::connection conn;
  // The texts prepared through exec_prepared_varying (see there), so their number can
  // be bounded.
  std::unordered_set<std::string> varying;
};

struct Tx::Impl {
  pqxx::transaction_base& statements;
  pqxx::work* work;  // null under Pool::autocommit
  Session& session;
  // Run once the transaction committed (log lines of what it changed); dropped when it
  // rolls back, so a log never tells of a change that did not happen.
  std::vector<std::function<void()>> after_commit{};
};

inline pqxx::transaction_base& W(Tx& tx) { return tx.impl().statements; }
// The transaction, for a savepoint (pqxx::subtransaction) around a statement that may fail.
inline pqxx::work& savepoint_parent(Tx& tx) {
  if (tx.impl().work == nullptr) throw std::logic_error("a savepoint needs Pool::transact, not Pool::autocommit");
  return *tx.impl().work;
}
inline void after_commit(Tx& tx, std::function<void()> fn) { tx.impl().after_commit.push_back(std::move(fn)); }

// The name a statement is prepared under: from its text, so the same text on any
// connection has the same name and two texts practically never share one.
std::string prepared_name(const std::string& sql);

// For the statements every job passes through (claims, moves, the routers' reads):
// prepared on the connection the first time it runs them, so Postgres parses and plans
// them once per connection instead of once per call. `sql` must come from a small fixed
// set of texts (a constant, or one per combination of a few optional parts as
// faxes::list builds), never embed a value, or every call would add a prepared
// statement to the connection.
// A connection opened after a failure prepares them again on first use (pqxx keeps the
// definitions per connection object).
template <typename... Args>
pqxx::result exec_prepared_text(Tx& tx, const std::string& sql, Args&&... args) {
  auto& w = W(tx);
  const std::string name = prepared_name(sql);
  w.conn().prepare(name, sql);  // a lookup once the connection has it
  return w.exec_prepared(name, std::forward<Args>(args)...);
}

// For statements built per call from a fixed set of parts (faxes::list: one text per
// combination of filters, with the few values whose frequency decides the plan, like a
// job state, in the text). Each text is prepared on a connection the first time it
// runs there, up to kMaxVaryingStatements per connection; past that a text is sent
// unprepared (parsed and planned per call, as before it was prepared).
// kMaxVaryingStatements: a prepared list statement with its plan holds ~170 kB in its
// backend (measured, bench/api/README.md); 50 bound that at ~9 MB per connection
// however many combinations clients send. Real clients use a handful.
inline constexpr std::size_t kMaxVaryingStatements = 50;

template <typename... Args>
pqxx::result exec_prepared_varying(Tx& tx, const std::string& sql, Args&&... args) {
  auto& varying = tx.impl().session.varying;
  const std::string name = prepared_name(sql);
  if (varying.count(name) == 0) {
    if (varying.size() >= kMaxVaryingStatements) return W(tx).exec_params(sql, std::forward<Args>(args)...);
    W(tx).conn().prepare(name, sql);
    varying.insert(name);
  }
  return W(tx).exec_prepared(name, std::forward<Args>(args)...);
}

// Time points cross into SQL as ISO text with microseconds, UTC.
std::string to_sql_time(TimePoint t);
std::optional<std::string> to_sql_time(const std::optional<TimePoint>& t);
// Parses what Postgres prints for timestamptz when the session time zone is UTC.
TimePoint from_sql_time(const std::string& text);

// Ids as one bigint[] parameter ($n::bigint[]): '{1,2,3}'.
inline std::string bigint_array(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "}";
}

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
