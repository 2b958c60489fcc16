// The group commit of sent records (sent_ledger.hpp).
#include "sent_ledger.hpp"

#include <algorithm>

#include "faxbridge/core/log.hpp"
#include "faxbridge/db/notifications.hpp"

namespace faxbridge::notifier {

using std::chrono::milliseconds;

Result<void> SentLedger::record(std::int64_t id, const bus::LeaseToken& lease) {
  Entry mine{id, &lease};
  std::unique_lock lock(mutex_);
  waiting_.push_back(&mine);
  while (!mine.done) {
    if (committing_) {
      changed_.wait(lock);
      continue;
    }
    // No commit is running: this worker leads one for everybody waiting.
    committing_ = true;
    std::vector<Entry*> group;
    group.swap(waiting_);
    lock.unlock();
    commit(group);
    lock.lock();
    // `done` only under the mutex the waiters read it under; their results were set
    // before this lock was taken, so they are visible with it.
    for (auto* e : group) e->done = true;
    committing_ = false;
    changed_.notify_all();
  }
  return mine.result;
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
