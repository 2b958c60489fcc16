// bench/router: how fast the router moves jobs from ready to queued (rights, route,
// reference number, dial number, event) and applies call results (decision, event,
// receipt), with 1 and 2 router instances, beside the bare SKIP LOCKED claim +
// completion ceiling measured in the same run (bench/support/bare_claim.hpp).
// PostgreSQL with fsync on. No bus runs: the routers find their work by sweeping.
// Usage: bench_router [jobs_per_run=3000] [repeats=3]
#include <cstdio>

#include "../support/sql.hpp"
#include "../support/bare_claim.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/routes.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/router/router.hpp"

using namespace faxbridge;

namespace {

using bench::count;
using bench::exec;

// Runs `routers` routers until `done_sql` counts `jobs`; rows per second.
double run(const std::string& dsn, int routers, int jobs, const std::string& done_sql) {
  std::vector<std::unique_ptr<db::Pool>> pools;
  std::vector<std::unique_ptr<bus::Publisher>> publishers;
  std::vector<std::unique_ptr<router::Router>> rs;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < routers; ++i) {
    pools.push_back(std::make_unique<db::Pool>(db::PoolSettings{dsn, 6}));
    publishers.push_back(std::make_unique<bus::Publisher>("tcp://127.0.0.1:1", "bench", "bench", /*metrics=*/nullptr));
    router::RouterSettings s;
    s.instance = "router-" + std::to_string(i);
    s.workers = 2;
    s.sweep_interval = std::chrono::milliseconds(50);
    rs.push_back(std::make_unique<router::Router>(*pools.back(), *publishers.back(), "tcp://127.0.0.1:1", s));
    rs.back()->start();
  }
  // One connection polls every 20 ms: opening one per poll would fork a backend each time.
  pqxx::connection poll(dsn);
  while (count(poll, done_sql) < jobs) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double rate = jobs / bench::Seconds(std::chrono::steady_clock::now() - start).count();
  for (auto& r : rs) r->stop();
  return rate;
}

void fill_ready(const std::string& dsn, int jobs) {
  exec(dsn, "TRUNCATE fax_jobs CASCADE");
  exec(dsn, "INSERT INTO fax_jobs (state, source, recipient_number, recipient_canonical, page_count) "
            "SELECT 'ready', 'api', '0240' || i, '0240' || i, 1 FROM generate_series(1, " + std::to_string(jobs) + ") i");
}

void fill_results(const std::string& dsn, int jobs) {
  exec(dsn, "TRUNCATE fax_jobs CASCADE");
  exec(dsn, "INSERT INTO fax_jobs (state, source, recipient_number, recipient_canonical, page_count, attempts) "
            "SELECT 'sending', 'api', '0240' || i, '0240' || i, 1, 1 FROM generate_series(1, " + std::to_string(jobs) + ") i");
  exec(dsn, "INSERT INTO attempts (job_id, attempt_no, gateway_instance, state, outcome, pages_sent, ended_at) "
            "SELECT id, 1, 'gw', 'closed', 'sent', 1, now() FROM fax_jobs");
}

}  // namespace

int main(int argc, char** argv) {
  const int jobs = argc > 1 ? std::atoi(argv[1]) : 3000;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  log::init("bench_router", log::Level::kError);
  auto db = bench::durable_database();
  const std::string* dsn = &db.dsn;
  {
    db::Pool pool(db::PoolSettings{*dsn, 1});
    (void)pool.transact([](db::Tx& tx) {
      db::Route r;
      r.is_default = true;
      r.gateways = {{"pbx.example.test"}};
      return db::routes::create(tx, r);
    });
  }
  std::printf("bench/router: %d jobs per run, median of %d runs, PostgreSQL 15 with fsync on, %u cores\n", jobs, repeats,
              std::thread::hardware_concurrency());
  std::printf("%-8s %16s %18s %18s %10s %10s\n", "routers", "bare claims/s", "routed/s (ready->queued)",
              "results applied/s", "routed %", "applied %");
  for (int n : {1, 2}) {
    std::vector<double> b, r, a;
    for (int i = 0; i < repeats; ++i) {
      b.push_back(bench::bare_claims_per_second(*dsn, n * 2, jobs));
      fill_ready(*dsn, jobs);
      r.push_back(run(*dsn, n, jobs, "SELECT count(*) FROM fax_jobs WHERE state = 'queued'"));
      fill_results(*dsn, jobs);
      a.push_back(run(*dsn, n, jobs, "SELECT count(*) FROM fax_jobs WHERE state = 'sent'"));
    }
    const double mb = bench::median(b), mr = bench::median(r), ma = bench::median(a);
    std::printf("%-8d %16.0f %24.0f %18.0f %9.0f%% %9.0f%%\n", n, mb, mr, ma, 100 * mr / mb, 100 * ma / mb);
    std::fflush(stdout);
  }
  std::printf("(bare ceiling on as many connections as the routers' workers: 2 per router)\n");
  return 0;
}
