// A minimal service over the real parts, for the multi-process tests: the service
// runtime (config, logs, DB wait, side port, signals), db::Queue on fax_jobs
// (submitted -> converting), bus::Consumer and bus::WorkFeed. Its handler moves the job
// to `ready` and writes one audit row naming this instance, in one transaction
// conditional on the lease: the tests count those rows to prove exactly-once.
// TEST_WORKER_MODE=hang claims and then holds the job forever (to be SIGKILLed).
#include <cstdio>
#include <thread>

#include "faxbridge/bus/consumer.hpp"
#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/db/queue.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/service/runtime.hpp"

using namespace faxbridge;
using namespace std::chrono_literals;

int main() {
  config::ConfigReader cfg(config::process_env());
  auto settings = service::read_settings(cfg, "queue-worker", 0);
  const bool hang = cfg.one_of("TEST_WORKER_MODE", "normal", {"normal", "hang"}) == "hang";
  bus::ConsumerSettings cs;
  cs.name = "test";
  cs.lease = cfg.duration_ms("TEST_WORKER_LEASE_MS", 30000ms, 100ms, 600000ms);
  cs.sweep_interval = cfg.duration_ms("TEST_WORKER_SWEEP_MS", 5000ms, 50ms, 3600000ms);
  cs.workers = static_cast<int>(cfg.integer("TEST_WORKER_THREADS", 4, 1, 64));
  if (auto r = cfg.finish(); !r) {
    std::fprintf(stderr, "queue_worker: %s\n", r.error().to_string().c_str());
    return 2;
  }
  service::Runtime rt(settings);
  cs.metrics = &rt.metrics();
  service::log_effective_config(cfg);
  if (auto r = rt.start(); !r) {
    log::write_error(log::Level::kError, "service.start_failed", r.error());
    return r.error().code == Code::k_service_stopping ? 0 : 1;
  }
  auto spec = db::conversion_queue();
  spec.lease = cs.lease;
  db::Queue queue(rt.pool(), spec, settings.instance);
  bus::Consumer consumer(queue, cs, [&](const Claim& c, const bus::LeaseToken& lease) -> Result<void> {
    if (hang) {
      log::info("worker.holding", {{"id", c.id}});
      for (;;) std::this_thread::sleep_for(1s);
    }
    return rt.pool().transact([&](db::Tx& tx) -> Result<void> {
      auto done = queue.finish(tx, c.id, "ready");
      if (!done) return done.error();
      if (!*done || lease.lost()) return Error(Code::k_queue_lease_lost, "Another instance took the job over.");
      auto a = db::audit::record(tx, {std::nullopt, settings.instance, "test.processed", "job", std::to_string(c.id)});
      if (!a) return a.error();
      return ok();
    });
  });
  bus::WorkFeed feed(settings.bus.subscribe, "fax_jobs", consumer, &rt.metrics());
  rt.add_health_check("work_feed", [&](std::string& detail) {
    detail = feed.connected() ? "subscribed" : "not connected";
    return feed.connected();
  });
  consumer.start();
  feed.start();
  rt.wait();
  feed.stop();
  consumer.stop();
  const auto st = consumer.stats();
  log::info("consumer.stats", {{"by_message", st.claimed_by_message},
                               {"by_sweep", st.claimed_by_sweep},
                               {"missed", st.missed_claims},
                               {"completed", st.completed},
                               {"failed", st.failed}});
  return 0;
}
