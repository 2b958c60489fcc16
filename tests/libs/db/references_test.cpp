#include "faxbridge/db/references.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include <pqxx/pqxx>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"

namespace faxbridge::db {
namespace {

TEST(References, CountFromOneAndRestartEachYear) {
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

TEST(References, RollbackDoesNotConsumeANumber) {
  Pool pool(PoolSettings{testing::migrated_database("refrb"), 1});
  auto rolled = pool.transact([&](Tx& tx) -> Result<int> {
    (void)references::next(tx, 2030);
    return Error(Code::k_internal, "abandon");
  });
  ASSERT_FALSE(rolled);
  auto r = pool.transact([&](Tx& tx) { return references::next(tx, 2030); });
  EXPECT_EQ(r->str(), "2030.00000001");
}

TEST(References, ReportsExhaustionOfAYear) {
  const std::string dsn = testing::migrated_database("refex");
  {
    pqxx::connection c(dsn);
    pqxx::work w(c);
    w.exec("INSERT INTO reference_counters (year, last_value) VALUES (2031, 99999998)");
    w.commit();
  }
  Pool pool(PoolSettings{dsn, 1});
  auto last = pool.transact([&](Tx& tx) { return references::next(tx, 2031); });
  ASSERT_TRUE(last);
  EXPECT_EQ(last->str(), "2031.99999999");
  auto over = pool.transact([&](Tx& tx) { return references::next(tx, 2031); });
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, Code::k_reference_exhausted);
}

// 8 processes, each with its own connection, draw numbers at the same time.
TEST(References, EightProcessesDrawingConcurrentlyGetNoDuplicate) {
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
    while (std::fgets(line, sizeof line, p)) {
      std::string s(line);
      if (!s.empty() && s.back() == '\n') s.pop_back();
      EXPECT_TRUE(seen.insert(s).second) << "duplicate " << s;
      ++total;
    }
    EXPECT_EQ(::pclose(p), 0);
  }
  EXPECT_EQ(total, kProcesses * kEach);
  // Dense as well as unique: exactly 1..2000.
  EXPECT_EQ(*seen.begin(), "2026.00000001");
  EXPECT_EQ(*seen.rbegin(), "2026.00002000");
}

}  // namespace
}  // namespace faxbridge::db
