// The group commit of sent records (sent_ledger.hpp).
#include "sent_ledger.hpp"

#include <algorithm>

#include "faxbridge/core/log.hpp"
#include "faxbridge/db/notifications.hpp"

namespace faxbridge::notifier {

using std::chrono::milliseconds;

SentLedger::SentLedger(db::Pool& pool, db::Queue& queue) : pool_(pool), queue_(queue) {
  thread_ = std::thread(&SentLedger::commit_loop, this);
}

SentLedger::~SentLedger() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    stopping_ = true;
  }
  submitted_.notify_all();
  changed_.notify_all();
  thread_.join();
}

SentLedger::Ticket SentLedger::submit(std::int64_t id, const bus::LeaseToken& lease) {
  auto entry = std::make_shared<Entry>();
  entry->id = id;
  entry->lease = &lease;
  {
    std::lock_guard lock(mutex_);
    waiting_.push_back(entry);
  }
  submitted_.notify_one();
  return entry;
}

Result<void> SentLedger::wait(const Ticket& ticket) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return ticket->done; });
  return ticket->result;
}

// One commit at a time, each taking every record handed in while the one before ran.
void SentLedger::commit_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    submitted_.wait(lock, [&] { return closing_ || !waiting_.empty(); });
    if (waiting_.empty()) return;  // closing, and nobody waits
    std::vector<Ticket> tickets;
    tickets.swap(waiting_);
    lock.unlock();
    std::vector<Entry*> group;
    for (const auto& t : tickets) group.push_back(t.get());
    commit(group);
    lock.lock();
    // `done` only under the mutex the waiters read it under; their results were set
    // before this lock was taken, so they are visible with it.
    for (auto* e : group) e->done = true;
    changed_.notify_all();
  }
}

void SentLedger::stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  changed_.notify_all();
}

void SentLedger::restart() {
  std::lock_guard lock(mutex_);
  stopping_ = false;
}

bool SentLedger::wait_before_retry(milliseconds delay) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, delay, [&] { return stopping_; });
  return !stopping_;
}

Result<void> SentLedger::commit_once(const std::vector<Entry*>& group) {
  std::vector<std::int64_t> ids;
  for (auto* e : group) {
    if (!e->lease->lost()) ids.push_back(e->id);  // another notifier's now: it decides
  }
  if (ids.empty()) return ok();
  // One statement: autocommit spares the BEGIN and COMMIT round trips.
  return pool_.autocommit([&](db::Tx& tx) -> Result<void> {
    auto marked = db::notifications::mark_all_sent(tx, queue_, ids);
    if (!marked) return marked.error();
    // A row missing from `marked` lost its lease meanwhile: its new holder decides.
    return ok();
  });
}

void SentLedger::commit(const std::vector<Entry*>& group) {
  const auto finish = [](Entry* e, Result<void> r) { e->result = std::move(r); };
  auto delay = milliseconds(100);
  for (;;) {
    auto done = commit_once(group);
    if (done) {
      for (auto* e : group) finish(e, ok());
      return;
    }
    if (done.error().kind() != ErrorKind::kUnavailable) {
      if (group.size() == 1) {
        finish(group.front(), done.error());
        return;
      }
      // One row the database refuses must not keep the others unrecorded: each alone.
      for (auto* e : group) commit({e});
      return;
    }
    const bool all_lost = std::all_of(group.begin(), group.end(), [](Entry* e) { return e->lease->lost(); });
    if (all_lost) {
      for (auto* e : group) finish(e, ok());
      return;
    }
    log::write_error(log::Level::kWarn, "notifier.record_sent_retry", done.error(),
                     {{"mails", static_cast<std::int64_t>(group.size())}});
    const bool stopping = std::any_of(group.begin(), group.end(), [](Entry* e) { return e->lease->stopping(); });
    if (stopping || !wait_before_retry(delay)) {
      // The service is going and the database is away: the rows come back after their
      // lease and go out again, with their same Message-IDs.
      for (auto* e : group) finish(e, done.error());
      return;
    }
    delay = std::min(delay * 2, milliseconds(2000));
  }
}

}  // namespace faxbridge::notifier
