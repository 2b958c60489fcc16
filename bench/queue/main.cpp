// bench/queue: claims per second through the claim-and-sweep loop (bus::Consumer over
// db::Queue) with 1, 2 and 4 consumers, beside the ceiling measured in the same run: a
// bare `SELECT ... FOR UPDATE SKIP LOCKED` claim transaction followed by the completion
// transaction, on as many connections. Both paths do the same work per job (claim
// committed on its own, then complete: the fax flow of ../shared/notes/queue.md).
// PostgreSQL runs with fsync on. Usage: bench_queue [jobs_per_run=10000] [repeats=3]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "../support/bare_claim.hpp"
#include "faxbridge/bus/consumer.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/queue.hpp"

using namespace faxbridge;
using bench::fill;
using bench::median;
using bench::Seconds;

namespace {

// The library: `consumers` instances, each one connection and one worker.
double loop(const std::string& dsn, int consumers, int jobs) {
  fill(dsn, jobs);
  std::atomic<int> done{0};
  std::vector<std::unique_ptr<db::Pool>> pools;
  std::vector<std::unique_ptr<db::Queue>> queues;
  std::vector<std::unique_ptr<bus::Consumer>> loops;
  for (int i = 0; i < consumers; ++i) {
    pools.push_back(std::make_unique<db::Pool>(db::PoolSettings{dsn, 2}));
    queues.push_back(std::make_unique<db::Queue>(*pools.back(), db::conversion_queue(), "loop-" + std::to_string(i)));
    bus::ConsumerSettings s;
    s.workers = 1;
    s.sweep_interval = std::chrono::seconds(1);
    auto* pool = pools.back().get();
    auto* queue = queues.back().get();
    loops.push_back(std::make_unique<bus::Consumer>(*queue, s, [pool, queue, &done](const Claim& c, const bus::LeaseToken&) {
      auto r = pool->transact([&](db::Tx& tx) { return queue->finish(tx, c.id, "ready"); });
      if (!r) return Result<void>(r.error());
      ++done;
      return ok();
    }));
  }
  auto start = std::chrono::steady_clock::now();
  for (auto& l : loops) l->start();
  while (done < jobs) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const double rate = done / Seconds(std::chrono::steady_clock::now() - start).count();
  for (auto& l : loops) l->stop();
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  const int jobs = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  log::init("bench_queue", log::Level::kError);
  auto db = bench::durable_database();
  const std::string* dsn = &db.dsn;
  std::printf("bench/queue: %d jobs per run, median of %d runs, PostgreSQL 15 with fsync on, %u cores\n", jobs,
              repeats, std::thread::hardware_concurrency());
  std::printf("%-10s %18s %18s %8s\n", "consumers", "bare claims/s", "loop claims/s", "ratio");
  for (int n : {1, 2, 4}) {
    std::vector<double> b, l;
    for (int r = 0; r < repeats; ++r) {
      b.push_back(bench::bare_claims_per_second(*dsn, n, jobs));
      l.push_back(loop(*dsn, n, jobs));
    }
    const double mb = median(b), ml = median(l);
    std::printf("%-10d %18.0f %18.0f %7.0f%%\n", n, mb, ml, 100.0 * ml / mb);
    std::fflush(stdout);
  }
  return 0;
}
