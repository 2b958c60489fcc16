#include "faxbridge/db/migrate.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "faxbridge/db/testing/pg_cluster.hpp"

namespace faxbridge::db {
namespace {

TEST(Migrate, AppliesFromEmptyThenIsIdempotent) {
  auto dsn = testing::shared_cluster().create_database("mig");
  ASSERT_TRUE(dsn);
  Pool pool(PoolSettings{*dsn, 2});
  auto before = schema_status(pool);
  ASSERT_TRUE(before) << before.error().to_string();
  EXPECT_EQ(before->current, 0);
  EXPECT_FALSE(before->up_to_date());

  auto first = migrate(pool);
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->size(), builtin_migrations().size());
  auto second = migrate(pool);
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_TRUE(second->empty());
  auto after = schema_status(pool);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->up_to_date());
}

TEST(Migrate, ConcurrentMigratorsApplyEachVersionOnce) {
  auto dsn = testing::shared_cluster().create_database("migc");
  ASSERT_TRUE(dsn);
  std::vector<std::thread> threads;
  std::atomic<int> applied{0}, failed{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      Pool pool(PoolSettings{*dsn, 1});
      auto r = migrate(pool);
      if (!r) failed++;
      else applied += static_cast<int>(r->size());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(applied, static_cast<int>(builtin_migrations().size()));
}

TEST(Migrate, AFailingMigrationRollsBackAndNamesItself) {
  auto dsn = testing::shared_cluster().create_database("migf");
  ASSERT_TRUE(dsn);
  Pool pool(PoolSettings{*dsn, 1});
  std::vector<Migration> ms = {{1, "good", "CREATE TABLE a (x int)"},
                               {2, "bad", "CREATE TABLE b (x int); SELECT nonsense FROM nowhere"}};
  auto r = migrate(pool, ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_db_migration_failed);
  EXPECT_NE(r.error().message.find("Migration 2 (bad)"), std::string::npos);
  auto st = schema_status(pool, ms);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->current, 1);  // table b was rolled back with its record
}

TEST(Migrate, RefusesADatabaseNewerThanTheBinary) {
  auto dsn = testing::shared_cluster().create_database("mign");
  ASSERT_TRUE(dsn);
  Pool pool(PoolSettings{*dsn, 1});
  ASSERT_TRUE(migrate(pool, {{1, "a", "SELECT 1"}, {2, "b", "SELECT 1"}}));
  auto st = schema_status(pool, {{1, "a", "SELECT 1"}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::k_db_schema_too_new);
}

TEST(Pool, ReportsAnUnreachableServerAsUnavailable) {
  Pool pool(PoolSettings{"host=127.0.0.1 port=" + std::to_string(testing::free_port()) +
                             " user=postgres dbname=postgres connect_timeout=2",
                         1, 2});
  auto r = pool.ping();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_db_unavailable);
  EXPECT_NE(r.error().message.find("FAXBRIDGE_DB_DSN"), std::string::npos);
}

TEST(Pool, TranslatesQueryErrorsAndRollsBack) {
  Pool pool(PoolSettings{testing::migrated_database("pool"), 2});
  auto r = pool.transact([](Tx&) -> Result<int> { return Error(Code::k_user_invalid, "no"); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_user_invalid);
}

TEST(Pool, RecoversAfterTheServerRestarts) {
  auto& cluster = testing::shared_cluster();
  auto dsn = cluster.create_database("restart");
  ASSERT_TRUE(dsn);
  Pool pool(PoolSettings{*dsn, 2});
  ASSERT_TRUE(pool.ping());
  ASSERT_TRUE(cluster.stop());
  auto down = pool.ping();
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, Code::k_db_unavailable);
  const int port = cluster.port();
  ASSERT_TRUE(cluster.restart());
  ASSERT_EQ(cluster.port(), port);
  EXPECT_TRUE(pool.ping());
}

}  // namespace
}  // namespace faxbridge::db
