#include "faxbridge/bus/consumer.hpp"

#include <algorithm>
#include <random>

#include "faxbridge/core/log.hpp"
#include "faxbridge/core/metrics.hpp"

namespace faxbridge::bus {
namespace {

using Clock = std::chrono::steady_clock;

// +-20% around the interval, so instances started together drift apart.
std::chrono::milliseconds jittered(std::chrono::milliseconds interval) {
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> d(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(interval.count()) * d(rng)));
}

// Adds n to a faxbridge_queue_* counter of this stage; nothing without a registry.
void count(metrics::Registry* registry, const std::string& name, const std::string& help, const std::string& stage,
           std::int64_t n, const std::string& key = "", const std::string& value = "") {
  if (registry == nullptr) return;
  metrics::Labels labels{{"stage", stage}};
  if (!key.empty()) labels.emplace_back(key, value);
  registry->counter(name, help, labels).inc(n);
}

}  // namespace

Consumer::Consumer(WorkSource& source, ConsumerSettings settings, Handler handler)
    : source_(source),
      settings_(std::move(settings)),
      handler_([h = std::move(handler)](const std::vector<BatchItem>& items) {
        std::vector<Result<void>> results;
        results.reserve(items.size());
        for (const auto& item : items) results.push_back(h(item.claim, *item.lease));
        return results;
      }) {
  settings_.batch = std::max(1, settings_.batch);
}

Consumer::Consumer(WorkSource& source, ConsumerSettings settings, BatchHandler handler)
    : source_(source), settings_(std::move(settings)), handler_(std::move(handler)) {
  settings_.batch = std::max(1, settings_.batch);
}

Consumer::~Consumer() { stop(); }

void Consumer::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  sweep_due_ = true;
  next_sweep_ = Clock::now();
  for (int i = 0; i < settings_.workers; ++i) threads_.emplace_back(&Consumer::worker_loop, this);
  threads_.emplace_back(&Consumer::heartbeat_loop, this);
  log::info("consumer.started", {{"stage", settings_.name},
                                 {"owner", source_.owner()},
                                 {"workers", settings_.workers},
                                 {"sweep_ms", static_cast<std::int64_t>(settings_.sweep_interval.count())}});
}

void Consumer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    stopping_ = true;
    for (auto& [id, token] : held_) token->stopping_ = true;
  }
  work_cv_.notify_all();
  // Workers first; the heartbeat keeps leases alive until they are done.
  for (std::size_t i = 0; i + 1 < threads_.size(); ++i) threads_[i].join();
  {
    std::lock_guard lock(mutex_);
    running_ = false;
  }
  heartbeat_cv_.notify_all();
  threads_.back().join();
  threads_.clear();
  log::info("consumer.stopped", {{"stage", settings_.name}, {"owner", source_.owner()}});
}

void Consumer::notify(std::int64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (notified_.size() >= settings_.max_pending || held_.count(id) || !notified_set_.insert(id).second) return;
    notified_.push_back(id);
  }
  work_cv_.notify_one();
}

void Consumer::sweep_now() {
  {
    std::lock_guard lock(mutex_);
    sweep_due_ = true;
  }
  work_cv_.notify_one();
}

ConsumerStats Consumer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

int Consumer::sweep_want_locked() const {
  const int idle_workers = settings_.workers - busy_ + 1;  // the sweeping worker is counted busy
  return idle_workers * std::max(1, settings_.batch) - static_cast<int>(ready_.size()) + settings_.prefetch;
}

std::vector<Result<void>> Consumer::run_handler(const std::vector<Item>& items) {
  std::vector<BatchItem> batch;
  batch.reserve(items.size());
  for (const auto& item : items) batch.push_back({item.claim, item.token.get()});
  std::vector<Result<void>> results;
  try {
    results = handler_(batch);
  } catch (const std::exception& e) {
    results.assign(items.size(), Error(Code::k_internal, "The handler threw an exception.").with("reason", e.what()));
  } catch (...) {
    results.assign(items.size(), Error(Code::k_internal, "The handler threw an unknown exception."));
  }
  while (results.size() < items.size()) results.push_back(Error(Code::k_internal, "The handler left a row without a result."));
  results.resize(items.size(), ok());
  return results;
}

void Consumer::enqueue_claimed(const std::vector<Claim>& claims, bool by_sweep) {
  for (const auto& c : claims) {
    auto token = std::make_shared<LeaseToken>();
    held_[c.id] = token;
    ready_.push_back({c, token});
  }
  (by_sweep ? stats_.claimed_by_sweep : stats_.claimed_by_message) += static_cast<std::int64_t>(claims.size());
  count(settings_.metrics, "faxbridge_queue_claims_total", "Rows claimed, by how they were found.", settings_.name,
        static_cast<std::int64_t>(claims.size()), "via", by_sweep ? "sweep" : "message");
}

// Every worker claims for itself: a notified id first, else a due sweep, whose extra
// rows go to ready_ for the other idle workers. No dispatcher thread, so a job costs no
// hand-off between threads.
void Consumer::worker_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_cv_.wait_until(lock, next_sweep_, [&] {
      return stopping_ || !ready_.empty() || !notified_.empty() || sweep_due_;
    });
    if (ready_.empty() && stopping_) break;
    if (ready_.empty() && notified_.empty() && !sweep_due_) {
      if (Clock::now() < next_sweep_) continue;  // spurious wake-up
      sweep_due_ = true;
    }

    std::vector<Item> items;
    const auto take_ready = [&] {
      while (!ready_.empty() && static_cast<int>(items.size()) < settings_.batch) {
        items.push_back(std::move(ready_.front()));
        ready_.pop_front();
      }
    };
    ++busy_;
    if (!ready_.empty()) {
      take_ready();
    } else if (!notified_.empty()) {
      const std::int64_t id = notified_.front();
      notified_.pop_front();
      notified_set_.erase(id);
      if (!held_.count(id)) {
        lock.unlock();
        auto r = source_.claim(id);
        lock.lock();
        if (!r) {
          // The sweep will find the row; don't hammer a failing database meanwhile.
          log::write_error(log::Level::kWarn, "consumer.claim_failed", r.error(), {{"stage", settings_.name}, {"id", id}});
          work_cv_.wait_for(lock, settings_.error_backoff, [&] { return stopping_; });
        } else if (r->has_value()) {
          enqueue_claimed({**r}, false);
          items.push_back(std::move(ready_.back()));
          ready_.pop_back();
          take_ready();
        } else {
          ++stats_.missed_claims;
        }
      }
    } else {
      sweep_due_ = false;
      // Provisional, so the other workers don't wake up for this sweep meanwhile.
      next_sweep_ = Clock::now() + jittered(settings_.sweep_interval);
      const int want = sweep_want_locked();
      if (want > 0) {
        lock.unlock();
        auto r = source_.claim_next(want);
        lock.lock();
        ++stats_.sweeps;
        if (!r) {
          log::write_error(log::Level::kWarn, "consumer.sweep_failed", r.error(), {{"stage", settings_.name}});
          next_sweep_ = Clock::now() + settings_.error_backoff;
        } else {
          enqueue_claimed(*r, true);
          // A full batch means more may be waiting: sweep again as soon as a worker is free.
          if (static_cast<int>(r->size()) == want) sweep_due_ = true;
          take_ready();
          if (!ready_.empty() || sweep_due_) work_cv_.notify_all();
        }
      }
    }
    if (items.empty()) {
      --busy_;
      continue;
    }
    const bool stopping = stopping_;
    lock.unlock();

    std::vector<Result<void>> results;
    if (stopping) {
      // Claimed but never started: hand them straight back.
      results.assign(items.size(), Error(Code::k_service_stopping, "The service is stopping."));
    } else {
      results = run_handler(items);
    }
    std::int64_t completed = 0, failed = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i];
      const auto& r = results[i];
      ++(r ? completed : failed);
      if (r || item.token->lost()) continue;
      const bool shutting_down = r.error().code == Code::k_service_stopping || item.token->stopping();
      auto released = source_.release(item.claim.id,
                                      shutting_down ? std::chrono::milliseconds(0) : settings_.retry_delay, r.error());
      if (!released) {
        // The lease expires on its own and the row is taken over: nothing is lost.
        log::write_error(log::Level::kWarn, "consumer.release_failed", released.error(),
                         {{"stage", settings_.name}, {"id", item.claim.id}});
      }
    }
    if (completed) count(settings_.metrics, "faxbridge_queue_completed_total", "Rows a handler finished.", settings_.name, completed);
    if (failed) {
      count(settings_.metrics, "faxbridge_queue_failed_total", "Rows a handler gave back with an error.", settings_.name, failed);
    }

    lock.lock();
    --busy_;
    for (const auto& item : items) held_.erase(item.claim.id);
    stats_.completed += completed;
    stats_.failed += failed;
  }
}

void Consumer::heartbeat_loop() {
  const auto beat = std::max(settings_.lease / 3, std::chrono::milliseconds(10));
  std::unique_lock lock(mutex_);
  while (running_) {
    heartbeat_cv_.wait_for(lock, beat, [&] { return !running_; });
    if (!running_) break;
    auto held = held_;
    lock.unlock();
    for (auto& [id, token] : held) {
      if (token->lost()) continue;
      auto r = source_.renew(id);
      if (!r) {
        log::write_error(log::Level::kWarn, "consumer.renew_failed", r.error(), {{"stage", settings_.name}, {"id", id}});
      } else if (!*r) {
        token->lost_ = true;
        log::warn("consumer.lease_lost", {{"stage", settings_.name}, {"id", id}, {"owner", source_.owner()}});
        std::lock_guard g(mutex_);
        ++stats_.leases_lost;
      }
    }
    lock.lock();
  }
}

}  // namespace faxbridge::bus
