#pragma once
// A fixed-size pool of PostgreSQL connections and the one way to use them: a unit of
// work in one transaction. pqxx stays behind this header, so services never see it.
//
// Pool::transact runs a function in a transaction and commits when it returns a
// value. It translates libpq/pqxx failures into stable codes and retries what
// pqxx::perform would: a broken connection and a serialization failure or deadlock
// (db.conflict), never an in-doubt commit (db.outcome_unknown). The function may
// therefore run more than once: it must only touch the database.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "faxbridge/core/result.hpp"

namespace faxbridge::db {

struct PoolSettings {
  std::string dsn;                 // libpq connection string or URI
  int size = 4;                    // connections opened lazily, at most this many
  int max_attempts = 3;            // per transaction, for retryable failures
  std::chrono::milliseconds acquire_timeout{10000};
  std::string application_name = "faxbridge";
};

// A transaction in progress; repositories take it by reference. Opaque by design.
class Tx final {
 public:
  struct Impl;
  explicit Tx(Impl& impl) : impl_(impl) {}
  Impl& impl() { return impl_; }

 private:
  Impl& impl_;
};

// This transaction's commit returns before its record reaches the disk (SET LOCAL
// synchronous_commit = off): only for writes a database crash may lose safely, which
// the next try writes again the same way.
Result<void> set_local_synchronous_commit_off(Tx& tx);

class Pool final {
 public:
  explicit Pool(PoolSettings settings);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // How fn's statements run: in one transaction, or each on its own (autocommit).
  enum class Mode { kTransaction, kAutocommit };
  Result<void> run(const std::function<Result<void>(Tx&)>& fn, Mode mode = Mode::kTransaction);

  // fn: Result<T>(Tx&). Commits when fn returns a value, rolls back on an error.
  template <typename F>
  auto transact(F&& fn) -> std::invoke_result_t<F, Tx&> {
    return run_returning(std::forward<F>(fn), Mode::kTransaction);
  }

  // fn: Result<T>(Tx&), whose statements each commit on their own, without BEGIN and
  // COMMIT: two round trips fewer, for a unit of work that is one statement (a read:
  // one statement sees one snapshot) or whose statements need not commit together.
  // fn may run again after a broken connection, like transact's; a savepoint in it is
  // a bug (std::logic_error). The API's token check and fax list run this way.
  template <typename F>
  auto autocommit(F&& fn) -> std::invoke_result_t<F, Tx&> {
    return run_returning(std::forward<F>(fn), Mode::kAutocommit);
  }

  // SELECT 1 on a pooled connection: for health checks and start-up waits.
  Result<void> ping();
  // Closes idle connections (after the server restarted, say); in-use ones are
  // dropped when they fail.
  void reset();
  const PoolSettings& settings() const { return settings_; }

 private:
  template <typename F>
  auto run_returning(F&& fn, Mode mode) -> std::invoke_result_t<F, Tx&> {
    using R = std::invoke_result_t<F, Tx&>;
    std::optional<R> out;
    auto r = run(
        [&](Tx& tx) -> Result<void> {
          out.emplace(fn(tx));
          if (!out->has_value()) return out->error();
          return ok();
        },
        mode);
    if (!r) return std::move(r).error();
    return std::move(*out);
  }

  class Connections;
  PoolSettings settings_;
  std::unique_ptr<Connections> connections_;
};

}  // namespace faxbridge::db
