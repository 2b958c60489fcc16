#pragma once
// The claim-and-sweep consumer (ARCHITECTURE.md section 2): the loop every service
// runs over its input rows.
//
//  - notify(id): a bus message named a row; an idle worker claims it by id. Losing the
//    race to another instance is normal: the claim comes back empty and is dropped.
//  - the sweep: at start-up and every sweep_interval (with a per-instance random
//    offset, so instances don't sweep in step) an idle worker claims ready rows and
//    rows whose lease expired. When a sweep fills every free worker it sweeps again at
//    once: a backlog drains at full speed even with no message at all. With `prefetch`
//    a sweep also claims that many rows beyond the free workers, held (and their leases
//    renewed) until a worker is free: one claim transaction then serves several rows,
//    which matters for stages whose handler is one short transaction (the router's).
//  - with `batch` > 1 and a BatchHandler, a worker takes up to that many claimed rows at
//    once and hands them to one call, which answers one result per row: a stage whose
//    rows each cost a commit (the notifier's) then reads and records a batch in one
//    transaction each. The sweep claims enough to give every idle worker a full batch.
//  - the heartbeat renews every held lease each lease/3; a failed renewal marks that
//    item's LeaseToken lost, and the handler must stop (its finish would be refused).
//  - the handler finishes the row itself in its own transaction (Queue::finish) and
//    returns ok; an error gives the row back with retry_delay (kUnavailable: sooner).
//
// Nothing here talks to ZeroMQ: the service wires a subscriber to notify(), so the
// loop is testable against a database alone.
//
// With ConsumerSettings::metrics set, the loop counts in that registry (by stage = name):
//   faxbridge_queue_claims_total{stage,via}   via = message | sweep
//   faxbridge_queue_completed_total{stage}    faxbridge_queue_failed_total{stage}
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "faxbridge/core/metrics.hpp"
#include "faxbridge/core/work_queue.hpp"

namespace faxbridge::bus {

struct ConsumerSettings {
  std::string name = "consumer";  // for logs and metrics: the stage, e.g. "conversion"
  int workers = 4;
  std::chrono::milliseconds sweep_interval{5000};
  std::chrono::milliseconds lease{30000};         // must match the queue's lease
  std::chrono::milliseconds retry_delay{30000};   // after a failed handler
  std::chrono::milliseconds error_backoff{1000};  // after the database failed a claim
  std::size_t max_pending = 10000;                // notified ids kept; more are left to the sweep
  int prefetch = 0;                               // rows a sweep claims beyond the free workers
  int batch = 1;                                  // rows a worker hands to one handler call at most
  metrics::Registry* metrics = nullptr;           // the faxbridge_queue_* series; none when unset
};

class LeaseToken {
 public:
  bool lost() const { return lost_.load(); }
  bool stopping() const { return stopping_.load(); }
  // Both: the handler should give up as soon as it safely can.
  bool should_stop() const { return lost() || stopping(); }

 private:
  friend class Consumer;
  std::atomic<bool> lost_{false};
  std::atomic<bool> stopping_{false};
};

using Handler = std::function<Result<void>(const Claim& claim, const LeaseToken& lease)>;

// One claimed row of a batch and its lease.
struct BatchItem {
  Claim claim;
  const LeaseToken* lease;
};
// One result per item, in the items' order; each means what a Handler's result means
// for its row. A missing result counts as an internal error for that row.
using BatchHandler = std::function<std::vector<Result<void>>(const std::vector<BatchItem>& items)>;

struct ConsumerStats {
  std::int64_t claimed_by_message = 0;
  std::int64_t claimed_by_sweep = 0;
  std::int64_t missed_claims = 0;  // a message whose row somebody else had
  std::int64_t completed = 0;
  std::int64_t failed = 0;
  std::int64_t leases_lost = 0;
  std::int64_t sweeps = 0;  // sweeps that reached the database
};

class Consumer final {
 public:
  Consumer(WorkSource& source, ConsumerSettings settings, Handler handler);
  Consumer(WorkSource& source, ConsumerSettings settings, BatchHandler handler);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void start();
  // Stops claiming, tells running handlers to stop, waits for them; rows they did
  // not finish are released so another instance takes them at once.
  void stop();
  void notify(std::int64_t id);
  // Asks an idle worker for an immediate sweep.
  void sweep_now();
  ConsumerStats stats() const;

 private:
  struct Item {
    Claim claim;
    std::shared_ptr<LeaseToken> token;
  };
  void worker_loop();
  void heartbeat_loop();
  // Rows a sweep by an idle worker should claim: a batch for it and for each other idle
  // worker, less what is ready already, plus the prefetch.
  int sweep_want_locked() const;
  std::vector<Result<void>> run_handler(const std::vector<Item>& items);
  void enqueue_claimed(const std::vector<Claim>& claims, bool by_sweep);

  WorkSource& source_;
  ConsumerSettings settings_;
  BatchHandler handler_;

  mutable std::mutex mutex_;
  std::condition_variable work_cv_, heartbeat_cv_;
  std::deque<std::int64_t> notified_;
  std::set<std::int64_t> notified_set_;
  std::deque<Item> ready_;
  std::map<std::int64_t, std::shared_ptr<LeaseToken>> held_;
  int busy_ = 0;  // workers claiming or running a handler
  bool sweep_due_ = true;  // sweep at start-up
  bool stopping_ = false;
  bool running_ = false;
  ConsumerStats stats_;
  std::chrono::steady_clock::time_point next_sweep_;
  std::vector<std::thread> threads_;
};

}  // namespace faxbridge::bus
