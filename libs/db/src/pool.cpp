// DESIGN: connections are opened on demand up to `size` and handed out one per
// transaction; a connection that failed is closed instead of returned, so the next
// transaction opens a fresh one (this is how the pool recovers after the server
// restarts, without a service restart). Every session runs in UTC so timestamps read
// back are unambiguous. A connection travels with what libs/db remembers about it
// (Session: the statements it prepared), so a new connection starts with none.
#include "faxbridge/db/pool.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "faxbridge/core/log.hpp"
#include "pqxx_support.hpp"

namespace faxbridge::db {

class Pool::Connections {
 public:
  explicit Connections(const PoolSettings& s) : settings_(s) {}

  // Returns a connected connection or throws pqxx::broken_connection.
  std::unique_ptr<Session> acquire() {
    std::unique_lock lock(mutex_);
    const bool got = cv_.wait_for(lock, settings_.acquire_timeout, [&] {
      return !idle_.empty() || open_ < settings_.size;
    });
    if (!got) {
      throw pqxx::broken_connection("no database connection became free within " +
                                    std::to_string(settings_.acquire_timeout.count()) + " ms");
    }
    if (!idle_.empty()) {
      auto c = std::move(idle_.front());
      idle_.pop_front();
      return c;
    }
    ++open_;
    lock.unlock();
    try {
      auto c = std::make_unique<Session>(settings_.dsn);
      c->conn.set_variable("TimeZone", "'UTC'");
      c->conn.set_variable("application_name", c->conn.quote(settings_.application_name));
      return c;
    } catch (...) {
      lock.lock();
      --open_;
      cv_.notify_one();
      throw;
    }
  }

  void release(std::unique_ptr<Session> c, bool healthy) {
    std::lock_guard lock(mutex_);
    if (healthy && c && c->conn.is_open()) {
      idle_.push_back(std::move(c));
    } else {
      --open_;
    }
    cv_.notify_one();
  }

  void reset() {
    std::lock_guard lock(mutex_);
    open_ -= static_cast<int>(idle_.size());
    idle_.clear();
    cv_.notify_all();
  }

 private:
  const PoolSettings& settings_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Session>> idle_;
  int open_ = 0;
};

Pool::Pool(PoolSettings settings)
    : settings_(std::move(settings)), connections_(std::make_unique<Connections>(settings_)) {}

Pool::~Pool() = default;

namespace {

std::string first_line(const char* what) {
  std::string s(what);
  auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

}  // namespace

Result<void> set_local_synchronous_commit_off(Tx& tx) {
  W(tx).exec("SET LOCAL synchronous_commit = off");
  return ok();
}

Result<void> Pool::run(const std::function<Result<void>(Tx&)>& fn, Mode mode) {
  Error last(Code::k_db_unavailable, "The database could not be reached.");
  for (int attempt = 1; attempt <= settings_.max_attempts; ++attempt) {
    std::unique_ptr<Session> conn;
    bool healthy = false;
    bool finished = false;
    Result<void> result;
    std::vector<std::function<void()>> committed;
    try {
      conn = connections_->acquire();
      std::optional<pqxx::work> work;
      std::optional<pqxx::nontransaction> single;
      if (mode == Mode::kTransaction) work.emplace(conn->conn);
      else single.emplace(conn->conn);
      pqxx::transaction_base& statements = work ? static_cast<pqxx::transaction_base&>(*work) : *single;
      Tx::Impl impl{statements, work ? &*work : nullptr, *conn};
      Tx tx(impl);
      Result<void> r = fn(tx);
      if (r) statements.commit();
      else statements.abort();
      healthy = true;
      connections_->release(std::move(conn), healthy);
      if (r) committed = std::move(impl.after_commit);
      result = std::move(r);
      finished = true;
    } catch (const pqxx::in_doubt_error& e) {
      // Not sure whether the commit went through: never run it again.
      connections_->release(std::move(conn), false);
      return Error(Code::k_db_outcome_unknown,
                   "The connection broke while committing; the change may or may not have "
                   "been saved.")
          .with("reason", first_line(e.what()));
    } catch (const pqxx::broken_connection& e) {
      last = Error(Code::k_db_unavailable,
                   "The database could not be reached; check that PostgreSQL is running and "
                   "FAXBRIDGE_DB_DSN is right.")
                 .with("reason", first_line(e.what()));
    } catch (const pqxx::transaction_rollback& e) {
      healthy = true;
      last = Error(Code::k_db_conflict,
                   "The transaction conflicted with a concurrent one and was rolled back.")
                 .with("reason", first_line(e.what()));
    } catch (const pqxx::integrity_constraint_violation& e) {
      connections_->release(std::move(conn), true);
      return Error(Code::k_db_constraint, "The change violates a database constraint.")
          .with("sqlstate", e.sqlstate())
          .with("reason", first_line(e.what()));
    } catch (const pqxx::sql_error& e) {
      const bool open = conn && conn->conn.is_open();
      connections_->release(std::move(conn), open);
      return Error(Code::k_db_query_failed, "A database query failed.")
          .with("sqlstate", e.sqlstate())
          .with("reason", first_line(e.what()));
    } catch (const std::exception& e) {
      connections_->release(std::move(conn), false);
      return Error(Code::k_internal, "Unexpected failure in a database transaction.")
          .with("reason", first_line(e.what()));
    }
    if (finished) {
      // Outside the try: the connection is back in the pool whatever these do.
      for (auto& f : committed) f();
      return result;
    }
    const bool reusable = healthy && conn && conn->conn.is_open();
    connections_->release(std::move(conn), reusable);
    if (attempt < settings_.max_attempts) {
      // Short, growing pause: a restarting server or a hot row needs a moment.
      std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt * attempt));
    }
  }
  return last;
}

Result<void> Pool::ping() {
  return run([](Tx& tx) -> Result<void> {
    W(tx).exec("SELECT 1");
    return ok();
  });
}

void Pool::reset() { connections_->reset(); }

std::string prepared_name(const std::string& sql) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "fb_%016zx", std::hash<std::string>{}(sql));
  return buf;
}

std::string to_sql_time(TimePoint t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  auto secs = us / 1'000'000;
  auto frac = us % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

// Postgres's text form of a one-dimensional text[]: {a,"b c",NULL,"d\"e"}. Parsed here,
// not with pqxx 6.4's array_parser, which also splits on ';' (a gateway address
// "host;transport=tcp" came back as two elements).
std::vector<std::string> text_array(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null()) return out;
  const std::string text = f.as<std::string>();
  std::size_t i = text.find('{');
  if (i == std::string::npos) return out;
  ++i;
  while (i < text.size() && text[i] != '}') {
    std::string value;
    if (text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i];
      }
      ++i;  // the closing quote
      out.push_back(std::move(value));
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '}') value += text[i++];
      if (value != "NULL") out.push_back(std::move(value));
    }
    if (i < text.size() && text[i] == ',') ++i;
  }
  return out;
}

std::optional<std::string> to_sql_time(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return to_sql_time(*t);
}

TimePoint from_sql_time(const std::string& text) {
  // "2026-11-25 06:30:00.123456+00" (fraction optional)
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s);
  TimePoint t = utc_time(y, mo, d, h, mi, s);
  auto dot = text.find('.');
  if (dot != std::string::npos) {
    long long us = 0;
    int digits = 0;
    for (std::size_t i = dot + 1; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      if (digits < 6) {
        us = us * 10 + (text[i] - '0');
        ++digits;
      }
    }
    while (digits++ < 6) us *= 10;
    t += std::chrono::microseconds(us);
  }
  return t;
}

}  // namespace faxbridge::db
