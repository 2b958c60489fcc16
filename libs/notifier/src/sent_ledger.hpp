#pragma once
// Internal: the record that a mail went out, committed before its worker sends another.
//
// A worker whose mail the server took calls record() and waits for that commit; workers
// that finish a mail while a commit is running wait for the next one, which takes all
// their rows in one statement and one transaction (group commit: the first waiter leads,
// no thread of its own). So a SIGKILL repeats at most the mail each worker had on the
// wire (ARCHITECTURE.md), however many rows its batch holds, and N workers finishing
// together pay one commit.
//
// While the database is away the commit is tried again (backoff to 2 s) for as long as a
// row's lease is its worker's and the service runs: giving a sent row back would send it
// again. A row whose lease another notifier took over is left to that notifier.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "faxbridge/bus/consumer.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/queue.hpp"

namespace faxbridge::notifier {

class SentLedger {
 public:
  SentLedger(db::Pool& pool, db::Queue& queue) : pool_(pool), queue_(queue) {}

  // Blocks until the row is recorded sent. ok also when the row is another notifier's
  // now (it decides). An error: the database stayed away until the service began
  // stopping, or refused the row (the row comes back after its lease).
  Result<void> record(std::int64_t id, const bus::LeaseToken& lease);

  // Ends the waits between tries (a stopping service gives up on an absent database);
  // commits still go through when the database answers.
  void stop();
  void restart();

  // Records waiting for the next commit (tests: to know a group has formed).
  std::size_t waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_.size();
  }

 private:
  struct Entry {
    std::int64_t id;
    const bus::LeaseToken* lease;
    bool done = false;  // guarded by mutex_
    Result<void> result = ok();
  };
  // Commits `group` (tried again while the database is away); sets each entry's result,
  // never `done` (the leader does, under the mutex).
  void commit(const std::vector<Entry*>& group);
  Result<void> commit_once(const std::vector<Entry*>& group);
  bool wait_before_retry(std::chrono::milliseconds delay);

  db::Pool& pool_;
  db::Queue& queue_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Entry*> waiting_;
  bool committing_ = false;
  bool stopping_ = false;
};

}  // namespace faxbridge::notifier
