// Reference numbers from the per-year sequences (migration 0006): unique and increasing,
// a new year restarts at 1, a rolled-back draw may skip a number, drawers never wait on
// each other, the first draws of a year may race, and the old counters carry over.
#include "faxbridge/db/references.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include <pqxx/pqxx>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/migrate.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"

namespace faxbridge::db {
namespace {

TEST(References, IncreaseAndRestartEachYear) {
  Pool pool(PoolSettings{testing::migrated_database("ref"), 1});
  ManualClock clock(utc_time(2026, 12, 31, 23, 59, 59));
  auto draw = [&] {
    return pool.transact([&](Tx& tx) { return references::next(tx, utc_year(clock.now())); });
  };
  EXPECT_EQ(draw()->str(), "2026.00000001");
  EXPECT_EQ(draw()->str(), "2026.00000002");
  clock.advance(std::chrono::seconds(1));  // happy new year
  EXPECT_EQ(draw()->str(), "2027.00000001");
  clock.set(utc_time(2026, 12, 31, 23, 59, 59));  // a late writer of the old year continues it
  EXPECT_EQ(draw()->str(), "2026.00000003");
}

TEST(References, ARolledBackDrawMaySkipANumberButNeverRepeatsIt) {
  Pool pool(PoolSettings{testing::migrated_database("refrb"), 1});
  ASSERT_TRUE(pool.transact([&](Tx& tx) { return references::next(tx, 2030); }));
  std::string lost;
  auto rolled = pool.transact([&](Tx& tx) -> Result<int> {
    lost = references::next(tx, 2030)->str();
    return Error(Code::k_internal, "abandon");
  });
  ASSERT_FALSE(rolled);
  EXPECT_EQ(lost, "2030.00000002");
  auto r = pool.transact([&](Tx& tx) { return references::next(tx, 2030); });
  EXPECT_EQ(r->str(), "2030.00000003");
}

TEST(References, ReportsExhaustionOfAYear) {
  const std::string dsn = testing::migrated_database("refex");
  Pool pool(PoolSettings{dsn, 1});
  ASSERT_TRUE(pool.transact([&](Tx& tx) { return references::next(tx, 2031); }));  // makes 2031's sequence
  {
    pqxx::connection c(dsn);
    pqxx::work w(c);
    w.exec("SELECT setval('reference_seq_2031', 99999998)");
    w.commit();
  }
  auto last = pool.transact([&](Tx& tx) { return references::next(tx, 2031); });
  ASSERT_TRUE(last) << last.error().to_string();
  EXPECT_EQ(last->str(), "2031.99999999");
  auto over = pool.transact([&](Tx& tx) { return references::next(tx, 2031); });
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, Code::k_reference_exhausted);
}

// A job gets its number in its own INSERT; nothing later draws another.
TEST(References, AJobIsCreatedWithItsNumber) {
  Pool pool(PoolSettings{testing::migrated_database("refjob"), 1});
  auto job = pool.transact([&](Tx& tx) {
    NewJob n;
    n.recipient_number = n.recipient_canonical = "403";
    return jobs::create(tx, n, "test");
  });
  ASSERT_TRUE(job) << job.error().to_string();
  ASSERT_TRUE(job->reference);
  auto parsed = ReferenceNumber::parse(*job->reference);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->year, utc_year(SystemClock::instance().now()));
}

// The counter row made every drawer wait for the previous one's commit; a sequence
// does not. lock_timeout only turns such a wait into an error instead of a hang.
TEST(References, ADrawDoesNotWaitForAnotherTransactionsCommit) {
  const std::string dsn = testing::migrated_database("refwait");
  Pool pool(PoolSettings{dsn, 1});
  ASSERT_TRUE(pool.transact([&](Tx& tx) { return references::next(tx, 2032); }));  // the year exists
  pqxx::connection holder(dsn);
  pqxx::work open(holder);
  EXPECT_EQ(open.exec("SELECT faxbridge_next_reference(2032)")[0][0].as<std::string>(), "2032.00000002");
  pqxx::connection other(dsn);
  pqxx::work w(other);
  w.exec("SET LOCAL lock_timeout = '1ms'");
  EXPECT_EQ(w.exec("SELECT faxbridge_next_reference(2032)")[0][0].as<std::string>(), "2032.00000003");
  w.commit();
  open.commit();
}

// Two first draws of a year at once: the second waits for the first to make the
// sequence, then draws from it (or makes its own when the first rolls back).
TEST(References, TheFirstDrawsOfAYearMayRace) {
  const std::string dsn = testing::migrated_database("refrace");
  for (const bool first_commits : {true, false}) {
    const int year = first_commits ? 2040 : 2041;
    pqxx::connection first_conn(dsn);
    auto first = std::make_unique<pqxx::work>(first_conn);
    EXPECT_EQ(first->exec("SELECT faxbridge_next_reference(" + std::to_string(year) + ")")[0][0].as<std::string>(),
              std::to_string(year) + ".00000001");
    std::string second;
    std::thread t([&] {
      Pool pool(PoolSettings{dsn, 1});
      auto r = pool.transact([&](Tx& tx) { return references::next(tx, year); });
      second = r ? r->str() : r.error().to_string();
    });
    // Wait until the second drawer is blocked on the first's new sequence.
    pqxx::connection watch(dsn);
    for (;;) {
      pqxx::nontransaction q(watch);
      if (q.exec("SELECT count(*) FROM pg_locks WHERE NOT granted")[0][0].as<int>() > 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (first_commits) first->commit();
    else first->abort();
    t.join();
    EXPECT_EQ(second, std::to_string(year) + (first_commits ? ".00000002" : ".00000001"));
  }
}

TEST(References, TheOldCountersCarryOver) {
  auto dsn = testing::shared_cluster().create_database("refmig");
  ASSERT_TRUE(dsn);
  Pool pool(PoolSettings{*dsn, 1});
  std::vector<Migration> before;
  for (const auto& m : builtin_migrations()) {
    if (m.version < 6) before.push_back(m);
  }
  ASSERT_TRUE(migrate(pool, before));
  {
    pqxx::connection c(*dsn);
    pqxx::work w(c);
    w.exec("INSERT INTO reference_counters (year, last_value) VALUES (2026, 41), (2025, 99999999)");
    w.commit();
  }
  auto rest = migrate(pool);
  ASSERT_TRUE(rest) << rest.error().to_string();
  EXPECT_EQ(pool.transact([&](Tx& tx) { return references::next(tx, 2026); })->str(), "2026.00000042");
  auto full = pool.transact([&](Tx& tx) { return references::next(tx, 2025); });
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, Code::k_reference_exhausted);
}

// 8 processes, each with its own connection, draw numbers at the same time.
TEST(References, EightProcessesDrawingConcurrentlyGetUniqueIncreasingNumbers) {
  const std::string dsn = testing::migrated_database("ref8");
  constexpr int kProcesses = 8;
  constexpr int kEach = 250;
  std::vector<FILE*> pipes;
  for (int i = 0; i < kProcesses; ++i) {
    std::string cmd = std::string(FAXBRIDGE_REFERENCE_DRAWER) + " '" + dsn + "' 2026 " + std::to_string(kEach);
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    pipes.push_back(p);
  }
  std::set<std::string> seen;
  int total = 0;
  for (FILE* p : pipes) {
    char line[64];
    std::string previous;
    while (std::fgets(line, sizeof line, p)) {
      std::string s(line);
      if (!s.empty() && s.back() == '\n') s.pop_back();
      EXPECT_TRUE(seen.insert(s).second) << "duplicate " << s;
      EXPECT_LT(previous, s) << "each drawer's numbers increase";
      previous = s;
      ++total;
    }
    EXPECT_EQ(::pclose(p), 0);
  }
  EXPECT_EQ(total, kProcesses * kEach);
  // Every transaction committed, so no number was skipped either: exactly 1..2000.
  EXPECT_EQ(*seen.begin(), "2026.00000001");
  EXPECT_EQ(*seen.rbegin(), "2026.00002000");
}

}  // namespace
}  // namespace faxbridge::db
