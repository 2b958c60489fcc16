#pragma once
// Internal: the record that a mail went out, committed before its worker sends another.
//
// A worker whose mail the server took hands the row to submit() and goes on preparing its
// next mail; before it sends that mail's body (after DATA's 354: without its body and
// end the server has no mail) it waits for the record (wait(), in the send hook of
// notifier.cpp). The ledger's own thread commits every record handed in while the
// previous commit ran, in one statement (group commit). So a SIGKILL repeats at most the
// mail each worker had accepted and not yet recorded, one per worker (ARCHITECTURE.md),
// however many rows its batch holds; N workers finishing together pay one commit, and a
// worker's wait for the disk overlaps the composition and envelope of its next mail
// instead of adding to them.
// record() is submit() then wait().
//
// While the database is away the commit is tried again (backoff to 2 s) for as long as a
// row's lease is its worker's and the service runs: giving a sent row back would send it
// again. A row whose lease another notifier took over is left to that notifier.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "faxbridge/bus/consumer.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/queue.hpp"

namespace faxbridge::notifier {

class SentLedger {
 private:
  struct Entry;

 public:
  // A record handed in and not yet waited for.
  using Ticket = std::shared_ptr<Entry>;

  SentLedger(db::Pool& pool, db::Queue& queue);
  ~SentLedger();
  SentLedger(const SentLedger&) = delete;
  SentLedger& operator=(const SentLedger&) = delete;

  // Hands the row to the next commit and returns at once. The lease must outlive wait().
  Ticket submit(std::int64_t id, const bus::LeaseToken& lease);
  // Blocks until the row is recorded sent. ok also when the row is another notifier's
  // now (it decides). An error: the database stayed away until the service began
  // stopping, or refused the row (the row comes back after its lease). Any number of
  // calls on one ticket give the same answer.
  Result<void> wait(const Ticket& ticket);
  Result<void> record(std::int64_t id, const bus::LeaseToken& lease) { return wait(submit(id, lease)); }

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
  void commit_loop();
  // Commits `group` (tried again while the database is away); sets each entry's result,
  // never `done` (the loop does, under the mutex).
  void commit(const std::vector<Entry*>& group);
  Result<void> commit_once(const std::vector<Entry*>& group);
  bool wait_before_retry(std::chrono::milliseconds delay);

  db::Pool& pool_;
  db::Queue& queue_;
  mutable std::mutex mutex_;
  std::condition_variable submitted_, changed_;
  std::vector<Ticket> waiting_;
  bool stopping_ = false;
  bool closing_ = false;  // the destructor: the thread ends once nothing waits
  std::thread thread_;    // last: started once everything above exists
};

}  // namespace faxbridge::notifier
