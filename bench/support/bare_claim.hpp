#pragma once
// What the queue benchmarks share: a durable database to measure on, and the reference
// they print beside their figures: a bare
// `SELECT ... FOR UPDATE SKIP LOCKED` claim transaction followed by the completion
// transaction, on `clients` connections (the fax flow of ../shared/notes/queue.md).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include <cstdio>
#include <memory>

#include "faxbridge/db/migrate.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"

namespace faxbridge::bench {

// A private PostgreSQL with fsync on (benchmarks measure durable commits) and a
// migrated database on it; exits with the reason when it cannot be had.
struct BenchDatabase {
  std::unique_ptr<db::testing::PgCluster> cluster;
  std::string dsn;
};

inline BenchDatabase durable_database() {
  db::testing::ClusterOptions opts;
  opts.durable = true;
  auto cluster = db::testing::PgCluster::start(opts);
  if (!cluster) {
    std::fprintf(stderr, "%s\n", cluster.error().to_string().c_str());
    std::exit(1);
  }
  auto dsn = (*cluster)->create_database("bench");
  db::Pool pool(db::PoolSettings{dsn ? *dsn : "", 1});
  auto m = dsn ? db::migrate(pool) : Result<std::vector<int>>(dsn.error());
  if (!m) {
    std::fprintf(stderr, "%s\n", m.error().to_string().c_str());
    std::exit(1);
  }
  return {std::move(cluster).value(), *dsn};
}


using Seconds = std::chrono::duration<double>;

// Empties fax_jobs and fills it with `jobs` submitted jobs.
inline void fill(const std::string& dsn, int jobs) {
  pqxx::connection c(dsn);
  pqxx::work w(c);
  w.exec("TRUNCATE fax_jobs CASCADE");
  w.exec_params("INSERT INTO fax_jobs (source, recipient_number, recipient_canonical) "
                "SELECT 'api', '40' || i, '40' || i FROM generate_series(1, $1) i",
                jobs);
  w.commit();
  pqxx::nontransaction(c).exec("VACUUM ANALYZE fax_jobs");
}

// Claims per second of the bare loop: each client claims one job in its own transaction, then completes it.
inline double bare_claims_per_second(const std::string& dsn, int clients, int jobs) {
  fill(dsn, jobs);
  std::atomic<int> done{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      pqxx::connection c(dsn);
      const std::string owner = "bare-" + std::to_string(i);
      for (;;) {
        pqxx::work claim(c);
        auto r = claim.exec_params(
            "WITH picked AS (SELECT id FROM fax_jobs WHERE state = 'submitted' AND not_before <= now() "
            "ORDER BY priority, not_before, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
            "UPDATE fax_jobs q SET state = 'converting', owner = $1, lease_until = now() + interval '30 s', "
            "claims = q.claims + 1 FROM picked WHERE q.id = picked.id RETURNING q.id",
            owner);
        claim.commit();
        if (r.empty()) break;
        pqxx::work complete(c);
        complete.exec_params("UPDATE fax_jobs SET state = 'ready', owner = NULL, lease_until = NULL, claims = 0 "
                             "WHERE id = $1 AND owner = $2 AND state = 'converting'",
                             r[0][0].as<std::int64_t>(), owner);
        complete.commit();
        ++done;
      }
    });
  }
  for (auto& t : threads) t.join();
  return done / Seconds(std::chrono::steady_clock::now() - start).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace faxbridge::bench
