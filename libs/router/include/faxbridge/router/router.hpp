#pragma once
// The router (ARCHITECTURE.md sections 3 and 4): three claim-and-sweep stages and a
// periodic tick, each decision one transaction with its events and notifications.
//   routing  fax_jobs ready -> routing -> queued | failed   (rights, route, dial number, reference)
//   results  attempts closed -> applying -> applied         (sent, partially_sent, retry_wait, failed, cancelled)
//   inbound  received_faxes received -> routing -> routed   (DID -> users, groups, default user; fax-to-email)
//   tick     retry_wait -> queued when due; calls whose gateway died are closed as
//            interrupted; retention in batches; settings reloaded when their version moves.
// Bus messages go out after each commit; a lost one costs latency only (the sweeps).
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/bus/consumer.hpp"
#include "faxbridge/bus/topics.hpp"
#include "faxbridge/core/metrics.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/routing.hpp"
#include "faxbridge/db/settings.hpp"

namespace faxbridge::router {

// Work topics (bus::work_topic of these) of the stages the router consumes and feeds;
// each is its QueueSpec::stage() (db::routing::routing_queue().stage() == kReadyStage).
inline constexpr const char* kReadyStage = bus::stages::kReady;
inline constexpr const char* kQueuedStage = bus::stages::kQueued;
inline constexpr const char* kResultsStage = bus::stages::kResults;
inline constexpr const char* kInboundStage = bus::stages::kInbound;
inline constexpr const char* kNotificationsStage = "notifications.pending";

struct RouterSettings {
  std::string instance = "router";
  int workers = 4;
  std::chrono::milliseconds sweep_interval{2000};
  std::chrono::milliseconds tick{1000};
  std::chrono::milliseconds retention_every{std::chrono::minutes(10)};
  int batch = 500;
  metrics::Registry* metrics = nullptr;  // the stages' faxbridge_queue_* and bus series; none when unset
};

class Router final {
 public:
  Router(db::Pool& pool, bus::Publisher& publisher, std::string subscribe_endpoint, RouterSettings settings);
  ~Router();
  void start();
  void stop();

  // One run of the periodic work; returns how many rows it moved. Public for tests.
  Result<int> tick();
  Result<int> run_retention();
  bool connected() const;

 private:
  struct Stage;
  Result<void> route_job(const Claim& c, const bus::LeaseToken& lease);
  Result<void> apply_result(const Claim& c, const bus::LeaseToken& lease);
  Result<void> route_inbound(const Claim& c, const bus::LeaseToken& lease);
  std::shared_ptr<const db::SettingsSnapshot> settings();
  Result<void> reload_settings_if_changed();
  void announce(const std::string& stage, std::int64_t id);
  void publish_state(std::int64_t job_id, const std::string& from, const std::string& to,
                     const std::optional<Error>& error);
  void tick_loop();

  db::Pool& pool_;
  bus::Publisher& publisher_;
  std::string subscribe_endpoint_;
  RouterSettings settings_;
  std::mutex settings_mutex_;
  std::shared_ptr<const db::SettingsSnapshot> snapshot_;
  std::unique_ptr<Stage> routing_, results_, inbound_;
  std::atomic<bool> stop_{false};
  std::thread tick_thread_;
  std::chrono::steady_clock::time_point next_retention_{};
};

// Cancels a job from any state before it is sent (API, CLI). A job that a service
// holds is flagged and its holder finishes it as cancelled; a gateway in a call is told
// over the bus to hang up.
Result<db::routing::CancelOutcome> cancel_job(db::Pool& pool, bus::Publisher& publisher, std::int64_t job_id,
                                              const std::string& actor);

}  // namespace faxbridge::router
