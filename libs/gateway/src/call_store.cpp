// The call store's journal entries, one JSON object each:
//   {"kind": "mark_sending", "job": .., "owner": ..}
//   {"kind": "progress", "attempt": .., "job": .., "pages": .., "phase": ..}
//   {"kind": "close", "owner": .., "call": {...}, "end": {...}, "spool": path}
//   {"kind": "received", "fax": {...}, "tiff": path or ""}
// Written in arrival order: a job's mark_sending always lands before its close.
#include "call_store.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "faxbridge/bus/topics.hpp"
#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/documents.hpp"

namespace faxbridge::gateway {

namespace {

using nlohmann::json;
using SystemClock = std::chrono::system_clock;

template <typename T>
void put(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
template <typename T>
void get(const json& j, const char* key, std::optional<T>& v) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) v = it->get<T>();
}

json call_json(const db::outbound::Call& c) {
  json j{{"job", c.job_id}, {"attempt", c.attempt_id}, {"attempt_no", c.attempt_no},
         {"dial", c.dial_number}, {"recipient", c.recipient}};
  put(j, "route", c.route_id);
  put(j, "pages_document", c.pages_document_id);
  put(j, "page_count", c.page_count);
  put(j, "reference", c.reference);
  return j;
}
db::outbound::Call call_from(const json& j) {
  db::outbound::Call c;
  c.job_id = j.at("job").get<std::int64_t>();
  c.attempt_id = j.at("attempt").get<std::int64_t>();
  c.attempt_no = j.value("attempt_no", 0);
  c.dial_number = j.value("dial", "");
  c.recipient = j.value("recipient", "");
  get(j, "route", c.route_id);
  get(j, "pages_document", c.pages_document_id);
  get(j, "page_count", c.page_count);
  get(j, "reference", c.reference);
  return c;
}

// Time points as microseconds since the epoch.
void put_time(json& j, const char* key, const std::optional<SystemClock::time_point>& t) {
  if (t) j[key] = std::chrono::duration_cast<std::chrono::microseconds>(t->time_since_epoch()).count();
}
void get_time(const json& j, const char* key, std::optional<SystemClock::time_point>& out) {
  if (j.contains(key)) out = SystemClock::time_point(std::chrono::microseconds(j[key].get<std::int64_t>()));
}

json end_json(const db::AttemptEnd& e) {
  json j{{"outcome", db::outcome_name(e.outcome)}, {"pages_sent", e.pages_sent}};
  put(j, "media", e.media);
  put(j, "sip_status", e.sip_status);
  put(j, "t30_code", e.t30_code);
  put(j, "t30_text", e.t30_text);
  put(j, "phase_reached", e.phase_reached);
  put(j, "bit_rate", e.bit_rate);
  put(j, "ecm", e.ecm);
  put(j, "remote_station_id", e.remote_station_id);
  put(j, "error_code", e.error_code);
  put(j, "retryable", e.retryable);
  put(j, "diagnostics", e.diagnostics_json);
  put(j, "gateway_address", e.gateway_address);
  put_time(j, "ended_us", e.ended_at);
  return j;
}
db::AttemptEnd end_from(const json& j) {
  db::AttemptEnd e;
  const auto outcome = db::parse_outcome(j.at("outcome").get<std::string>());
  if (!outcome) throw std::invalid_argument("unknown outcome in journal entry");
  e.outcome = *outcome;
  e.pages_sent = j.value("pages_sent", 0);
  get(j, "media", e.media);
  get(j, "sip_status", e.sip_status);
  get(j, "t30_code", e.t30_code);
  get(j, "t30_text", e.t30_text);
  get(j, "phase_reached", e.phase_reached);
  get(j, "bit_rate", e.bit_rate);
  get(j, "ecm", e.ecm);
  get(j, "remote_station_id", e.remote_station_id);
  get(j, "error_code", e.error_code);
  get(j, "retryable", e.retryable);
  get(j, "diagnostics", e.diagnostics_json);
  get(j, "gateway_address", e.gateway_address);
  get_time(j, "ended_us", e.ended_at);
  return e;
}

json fax_json(const db::ReceivedFax& f) {
  json j{{"call_id", f.call_id}, {"gateway", f.gateway_instance}, {"caller", f.caller_number},
         {"called", f.called_number}, {"remote_station_id", f.remote_station_id}, {"pages", f.pages}};
  put(j, "media", f.media);
  put(j, "bit_rate", f.bit_rate);
  put(j, "ecm", f.ecm);
  put(j, "resolution", f.resolution);
  put(j, "t30_code", f.t30_code);
  put(j, "t30_text", f.t30_text);
  put(j, "error_code", f.error_code);
  put_time(j, "started_us", f.started_at);
  put_time(j, "ended_us", f.ended_at);
  return j;
}
db::ReceivedFax fax_from(const json& j) {
  db::ReceivedFax f;
  f.call_id = j.at("call_id").get<std::string>();
  f.gateway_instance = j.value("gateway", "");
  f.caller_number = j.value("caller", "");
  f.called_number = j.value("called", "");
  f.remote_station_id = j.value("remote_station_id", "");
  f.pages = j.value("pages", 0);
  get(j, "media", f.media);
  get(j, "bit_rate", f.bit_rate);
  get(j, "ecm", f.ecm);
  get(j, "resolution", f.resolution);
  get(j, "t30_code", f.t30_code);
  get(j, "t30_text", f.t30_text);
  get(j, "error_code", f.error_code);
  get_time(j, "started_us", f.started_at);
  get_time(j, "ended_us", f.ended_at);
  return f;
}

Result<std::string> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Code::k_io_failed, "Cannot read the received fax file.").with("path", path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void remove_file(const std::string& path) {
  if (path.empty()) return;
  std::error_code ec;
  std::filesystem::remove(path, ec);
}

// The database is away or the commit's fate is unknown: try the same write again.
bool worth_retrying(const Error& e) {
  return e.kind() == ErrorKind::kUnavailable || e.kind() == ErrorKind::kOutcomeUnknown ||
         e.kind() == ErrorKind::kAborted;
}

}  // namespace

struct CallStore::RequestLane {
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::function<void(db::Pool&)>> queue;
  bool stop = false;
  std::thread thread;
};

CallStore::CallStore(db::Pool& pool, bus::Publisher& publisher, Journal journal, CallStoreOptions options)
    : pool_(pool), publisher_(publisher), journal_(std::move(journal)), options_(options) {
  for (int i = 0; i < 3; ++i) {
    lanes_.push_back(std::make_unique<RequestLane>());
    RequestLane* lane = lanes_.back().get();
    lane->thread = std::thread([this, lane] { lane_loop(*lane); });
  }
  for (auto& [sequence, entry] : journal_.pending()) {
    Fact f;
    f.sequence = sequence;
    f.entry = std::move(entry);
    f.replayed = true;
    facts_.push_back(std::move(f));
  }
  if (!facts_.empty()) {
    log::info("gateway.journal_replay", {{"entries", static_cast<std::int64_t>(facts_.size())},
                                         {"folder", journal_.folder().string()}});
  }
  worker_ = std::thread([this] { worker_loop(); });
}

CallStore::~CallStore() {
  for (auto& lane : lanes_) {
    {
      std::lock_guard lock(lane->mutex);
      lane->stop = true;
    }
    lane->cv.notify_all();
  }
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& lane : lanes_) lane->thread.join();
  if (worker_.joinable()) worker_.join();
}

void CallStore::lane_loop(RequestLane& lane) {
  std::unique_lock lock(lane.mutex);
  while (true) {
    lane.cv.wait(lock, [&] { return lane.stop || !lane.queue.empty(); });
    if (lane.stop) break;  // what is queued is dropped: its answers would reach nobody
    auto work = std::move(lane.queue.front());
    lane.queue.pop_front();
    lock.unlock();
    work(pool_);
    lock.lock();
  }
}

void CallStore::add_fact(json entry) {
  Fact f;
  f.entry = std::move(entry);
  if (auto seq = journal_.append(f.entry); seq) {
    f.sequence = *seq;
  } else {
    // No durable copy (disk full?): still written from memory, only a crash loses it now.
    log::write_error(log::Level::kError, "gateway.journal_append_failed", seq.error(),
                     {{"kind", f.entry.value("kind", "")}});
  }
  {
    std::lock_guard lock(mutex_);
    facts_.push_back(std::move(f));
  }
  cv_.notify_one();
}

void CallStore::mark_sending(const db::outbound::Call& call, const std::string& owner) {
  add_fact({{"kind", "mark_sending"}, {"job", call.job_id}, {"owner", owner}});
}

void CallStore::record_progress(const db::outbound::Call& call, int pages_sent, const std::string& phase_reached) {
  add_fact({{"kind", "progress"}, {"job", call.job_id}, {"attempt", call.attempt_id}, {"pages", pages_sent},
            {"phase", phase_reached}});
}

void CallStore::close_attempt(const db::outbound::Call& call, const std::string& owner, const db::AttemptEnd& end,
                              const std::string& spool_file) {
  db::AttemptEnd ended = end;
  if (!ended.ended_at) ended.ended_at = SystemClock::now();  // the call's end, not the commit's
  add_fact({{"kind", "close"}, {"owner", owner}, {"call", call_json(call)}, {"end", end_json(ended)},
            {"spool", spool_file}});
}

void CallStore::store_received(const db::ReceivedFax& fax, const std::string& tiff_path) {
  add_fact({{"kind", "received"}, {"fax", fax_json(fax)}, {"tiff", tiff_path}});
}

bool CallStore::request(Lane which, std::function<void(db::Pool&)> work) {
  RequestLane& lane = *lanes_.at(static_cast<std::size_t>(which));
  {
    std::lock_guard lock(lane.mutex);
    if (lane.stop || lane.queue.size() >= options_.request_limit) {
      ++requests_refused_;
      return false;
    }
    lane.queue.push_back(std::move(work));
  }
  lane.cv.notify_one();
  return true;
}

CallStoreStats CallStore::stats() const {
  CallStoreStats s;
  s.attempts_closed = attempts_closed_.load();
  s.faxes_stored = faxes_stored_.load();
  s.progress_updates = progress_updates_.load();
  s.requests_refused = requests_refused_.load();
  s.replayed = replayed_.load();
  std::lock_guard lock(mutex_);
  s.facts_pending = facts_.size();
  return s;
}

void CallStore::worker_loop() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point retry_at = Clock::now();
  std::chrono::milliseconds backoff = options_.first_retry;
  std::optional<Clock::time_point> drain_until;
  std::unique_lock lock(mutex_);
  while (true) {
    if (stop_ && !drain_until) drain_until = Clock::now() + options_.drain_on_stop;
    if (stop_ && (facts_.empty() || Clock::now() >= *drain_until)) break;
    const bool fact_due = !facts_.empty() && Clock::now() >= retry_at;
    if (fact_due) {
      Fact& head = facts_.front();  // only this thread pops, and push_back keeps references
      lock.unlock();
      const bool done = write(head);
      lock.lock();
      if (done) {
        if (head.sequence != 0) journal_.remove(head.sequence);
        if (head.replayed) ++replayed_;
        facts_.pop_front();
        backoff = options_.first_retry;
      } else {
        retry_at = Clock::now() + backoff;
        backoff = std::min(backoff * 2, options_.max_retry);
      }
      continue;
    }
    if (facts_.empty()) {
      cv_.wait(lock, [&] { return stop_ || !facts_.empty(); });
    } else {
      // A fact is backing off: sleep until its retry (or the end of the drain), waking
      // once to start the drain when stop comes.
      const auto until = drain_until ? std::min(retry_at, *drain_until) : retry_at;
      cv_.wait_until(lock, until, [&] { return stop_ && !drain_until; });
    }
  }
}

bool CallStore::write(Fact& fact) {
  const json& e = fact.entry;
  const std::string kind = e.value("kind", "");
  Result<void> result = ok();
  try {
    if (kind == "mark_sending") {
      const auto job = e.at("job").get<std::int64_t>();
      auto r = pool_.transact([&](db::Tx& tx) { return db::outbound::mark_sending(tx, job, e.at("owner").get<std::string>()); });
      if (!r) result = r.error();
      else if (!*r) log::info("gateway.mark_sending_skipped", {{"job", job}, {"why", "not dialing under this owner"}});
    } else if (kind == "progress") {
      const auto attempt = e.at("attempt").get<std::int64_t>();
      auto r = pool_.transact([&](db::Tx& tx) {
        return db::outbound::record_progress(tx, attempt, e.at("pages").get<int>(), e.at("phase").get<std::string>());
      });
      if (!r) result = r.error();
      else if (*r) ++progress_updates_;
    } else if (kind == "close") {
      const auto call = call_from(e.at("call"));
      const auto end = end_from(e.at("end"));
      const auto owner = e.at("owner").get<std::string>();
      auto r = pool_.transact([&](db::Tx& tx) { return db::outbound::close(tx, call, owner, end); });
      if (!r) {
        result = r.error();
      } else {
        ++attempts_closed_;
        if (*r) {
          (void)bus::announce_work(publisher_, bus::stages::kResults, call.attempt_id);
          log::info("gateway.attempt_closed", {{"job", call.job_id}, {"outcome", db::outcome_name(end.outcome)}, {"pages", end.pages_sent},
                                               {"replayed", fact.replayed}});
        } else {
          // The router already closed it as interrupted (our lease expired) or another
          // process holds the job: our outcome cannot be applied any more.
          log::warn("gateway.lease_lost", {{"job", call.job_id}, {"outcome", db::outcome_name(end.outcome)}});
        }
        remove_file(e.value("spool", ""));
      }
    } else if (kind == "received") {
      const auto fax = fax_from(e.at("fax"));
      const std::string tiff = e.value("tiff", "");
      std::optional<std::string> bytes;
      if (!tiff.empty()) {
        auto b = read_bytes(tiff);
        if (b) bytes = std::move(*b);
        else log::write_error(log::Level::kError, "gateway.inbound_file", b.error());  // stored without pages
      }
      auto id = pool_.transact([&](db::Tx& tx) -> Result<std::pair<std::int64_t, bool>> {
        auto existing = db::received::id_for_call(tx, fax.call_id);
        if (!existing) return existing.error();
        if (*existing) return std::pair{**existing, false};  // an earlier try committed
        db::ReceivedFax f = fax;
        if (bytes) {
          db::Document d;
          d.kind = "received_tiff";
          d.media_type = "image/tiff";
          d.filename = "fax-" + f.call_id + ".tiff";
          d.page_count = f.pages;
          d.bytes = *bytes;
          auto doc = db::documents::put(tx, std::move(d));
          if (!doc) return doc.error();
          f.tiff_document_id = doc->id;
        }
        auto created = db::received::create(tx, f);
        if (!created) return created.error();
        return std::pair{*created, true};
      });
      if (!id) {
        result = id.error();
      } else {
        if (fax.pages > 0) ++faxes_stored_;
        (void)bus::announce_work(publisher_, bus::stages::kInbound, id->first);
        log::info(fax.pages > 0 ? "gateway.fax_received" : "gateway.refused_call_recorded",
                  {{"id", id->first}, {"pages", fax.pages}, {"number", fax.called_number},
                   {"replayed", fact.replayed}, {"new", id->second}});
        remove_file(tiff);
      }
    } else {
      journal_.set_aside(fact.sequence, "unknown journal entry kind '" + kind + "'");
      fact.sequence = 0;
      return true;
    }
  } catch (const std::exception& ex) {  // a malformed entry (json::at on a missing key)
    if (fact.sequence != 0) journal_.set_aside(fact.sequence, std::string("malformed entry: ") + ex.what());
    fact.sequence = 0;
    return true;
  }
  if (result) return true;
  ++fact.failures;
  const Error& err = result.error();
  log::write_error(log::Level::kWarn, "gateway.store_retry", err,
                   {{"kind", kind}, {"failures", fact.failures}, {"replayed", fact.replayed}});
  if (!worth_retrying(err) && fact.failures >= options_.attempts_before_set_aside) {
    if (fact.sequence != 0) journal_.set_aside(fact.sequence, err.to_string());
    fact.sequence = 0;
    return true;
  }
  return false;
}

}  // namespace faxbridge::gateway
