#pragma once
// A scripted stand-in for the media gateway (the router's logic tests): it claims calls
// through the real db::outbound claim (limits and all), "talks" for a set time, closes
// each attempt with the outcome its script gives for that number and attempt, and
// announces the result on the real bus, exactly as media-gateway will.
#include <atomic>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/db/outbound.hpp"
#include "faxbridge/router/router.hpp"

namespace faxbridge::testing {

struct ScriptedCall {
  std::chrono::milliseconds duration{5};
  db::AttemptEnd end;  // outcome "sent" with pages_sent -1 means "all pages"
};

using Script = std::function<ScriptedCall(const db::outbound::Call& call)>;

inline ScriptedCall sends_everything(const db::outbound::Call&) {
  ScriptedCall c;
  c.end.outcome = db::Outcome::kSent;
  c.end.pages_sent = -1;
  c.end.phase_reached = "E";
  return c;
}

class FakeGateway {
 public:
  FakeGateway(const std::string& dsn, const std::string& publish_endpoint, std::string instance, int channels,
              int max_concurrent, Script script)
      : pool_(db::PoolSettings{dsn, 2}),
        publisher_(publish_endpoint, "fake-gateway", instance, nullptr),
        instance_(std::move(instance)),
        channels_(channels),
        max_concurrent_(max_concurrent),
        script_(std::move(script)) {}
  ~FakeGateway() { stop(); }

  void start() {
    stop_ = false;
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int calls() const { return calls_.load(); }

 private:
  struct Active {
    db::outbound::Call call;
    ScriptedCall scripted;
    std::chrono::steady_clock::time_point ends;
  };
  void run() {
    std::vector<Active> active;
    while (!stop_) {
      const int free = channels_ - static_cast<int>(active.size());
      if (free > 0) {
        auto claimed = pool_.transact([&](db::Tx& tx) {
          return db::outbound::claim_calls(tx, instance_, free, max_concurrent_, std::chrono::seconds(30));
        });
        if (claimed) {
          for (auto& c : *claimed) {
            ScriptedCall s = script_(c);
            if (s.end.pages_sent < 0) s.end.pages_sent = c.page_count.value_or(1);
            if (s.end.outcome == db::Outcome::kSent || s.end.phase_reached.value_or("A") >= "C") {
              (void)pool_.transact([&](db::Tx& tx) { return db::outbound::mark_sending(tx, c.job_id, instance_); });
            }
            active.push_back({c, s, std::chrono::steady_clock::now() + s.duration});
            ++calls_;
          }
        }
      }
      const auto now = std::chrono::steady_clock::now();
      for (auto it = active.begin(); it != active.end();) {
        if (it->ends > now) {
          ++it;
          continue;
        }
        auto closed = pool_.transact([&](db::Tx& tx) { return db::outbound::close(tx, it->call, instance_, it->scripted.end); });
        if (closed && *closed) (void)bus::announce_work(publisher_, router::kResultsStage, it->call.attempt_id);
        it = active.erase(it);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  db::Pool pool_;
  bus::Publisher publisher_;
  std::string instance_;
  int channels_;
  int max_concurrent_;
  Script script_;
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0};
  std::thread thread_;
};

}  // namespace faxbridge::testing
