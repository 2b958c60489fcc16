#pragma once
// The reference every queue benchmark prints beside its figures: a bare
// `SELECT ... FOR UPDATE SKIP LOCKED` claim transaction followed by the completion
// transaction, on `clients` connections (the fax flow of ../shared/notes/queue.md).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

namespace faxbridge::bench {

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
