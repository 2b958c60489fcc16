#pragma once
// DESIGN: the call store, the gateway's one way into Postgres. Private to libs/gateway.
//
// The control thread runs SIP events and fax channels; a slow or absent database must
// never hold it (a ringing call, a re-INVITE or a page boundary cannot wait for a lock
// held elsewhere). So every transaction of the gateway runs here, on the store's own threads,
// and reaches the control thread back only through callbacks it posts.
//
// Two kinds of work:
//  - facts (phase C reached, pages confirmed, an attempt's outcome, a received fax): the
//    far end has already acted on them, so they are durable first. Each becomes a journal
//    entry (journal.hpp) before the call returns, then is written in order, retried with
//    backoff however long the database is away, and removed from the journal only once
//    committed. Spool files an entry names go with it. Entries a previous process left
//    are replayed first, under the owner that wrote them. Every write is idempotent (the
//    conditional updates of db::outbound; a received fax keyed by its call id), so a
//    replay after an unknown commit writes nothing twice.
//  - requests (claims, look-ups, lease renewals, health rows): answers the control thread
//    is waiting for, or writes that are stale by the next round. They wait in a bounded
//    queue; when it is full they are refused at once and the caller does without (skips
//    a claim round, answers an INVITE with 503), so a stalled database never grows an
//    unbounded backlog of requests.
// Facts and each lane of requests have a thread of their own, so work that waits on a
// lock cannot hold the rest: a claim stuck behind a lock on the attempts table (or a
// fact backing off through an outage) neither delays the look-up of an incoming call nor
// the renewal of the leases of calls on the wire.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <memory>

#include <nlohmann/json.hpp>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/db/outbound.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/records.hpp"

#include "journal.hpp"

namespace faxbridge::gateway {

struct CallStoreOptions {
  std::size_t request_limit = 256;
  std::chrono::milliseconds first_retry{200};
  std::chrono::milliseconds max_retry{5000};
  // On stop, facts not yet committed are tried for this long; what is left stays in the
  // journal for the next start.
  std::chrono::milliseconds drain_on_stop{3000};
  // A fact that fails this many times for a reason other than the database being away
  // (a constraint, a bug) is set aside in the journal folder with its error.
  int attempts_before_set_aside = 20;
};

// Which thread runs a request.
enum class Lane {
  kAnswer,      // look-ups a ringing caller waits for
  kLease,       // lease renewals of calls on the wire
  kBackground,  // claims, health rows, alerts, notes for the next call
};

struct CallStoreStats {
  std::uint64_t attempts_closed = 0;
  std::uint64_t faxes_stored = 0;
  std::uint64_t progress_updates = 0;
  std::uint64_t requests_refused = 0;
  std::uint64_t facts_pending = 0;
  std::uint64_t replayed = 0;
};

class CallStore final {
 public:
  // Starts the threads; the journal's entries from an earlier process are written first.
  CallStore(db::Pool& pool, bus::Publisher& publisher, Journal journal, CallStoreOptions options = {});
  ~CallStore();
  CallStore(const CallStore&) = delete;
  CallStore& operator=(const CallStore&) = delete;

  // Facts. `owner` is the lease owner the call was claimed under.
  void mark_sending(const db::outbound::Call& call, const std::string& owner);
  void record_progress(const db::outbound::Call& call, int pages_sent, const std::string& phase_reached);
  // The attempt's outcome; `spool_file` (the document that was sent) is removed once committed.
  void close_attempt(const db::outbound::Call& call, const std::string& owner, const db::AttemptEnd& end,
                     const std::string& spool_file);
  // A received fax (or a refused call for a served number: no file). `tiff_path`, when
  // given, holds the pages; it must already be synced (sync_file) and is removed once
  // stored. `fax.call_id` must be unique to this call (it makes the write idempotent).
  void store_received(const db::ReceivedFax& fax, const std::string& tiff_path);

  // Runs `work` on the lane's thread; false (and nothing runs) when its queue is full.
  bool request(Lane lane, std::function<void(db::Pool&)> work);

  CallStoreStats stats() const;

 private:
  struct Fact {
    std::uint64_t sequence = 0;  // 0: not in the journal (its write failed)
    nlohmann::json entry;
    int failures = 0;
    bool replayed = false;
  };
  struct RequestLane;
  void add_fact(nlohmann::json entry);
  void worker_loop();
  void lane_loop(RequestLane& lane);
  // true: done with (committed, or nothing left to write); false: try again later.
  bool write(Fact& fact);

  db::Pool& pool_;
  bus::Publisher& publisher_;
  Journal journal_;
  CallStoreOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Fact> facts_;
  bool stop_ = false;

  std::atomic<std::uint64_t> attempts_closed_{0}, faxes_stored_{0}, progress_updates_{0};
  std::atomic<std::uint64_t> requests_refused_{0}, replayed_{0};
  std::vector<std::unique_ptr<RequestLane>> lanes_;  // by Lane
  std::thread worker_;
};

}  // namespace faxbridge::gateway
