// The gateways' call claim driven by a controlled clock, as db::Queue's stages are:
// not_before, the lease, its renewal and the router's recovery of an abandoned call all
// read the clock the test moves, never the server's time.
#include "faxbridge/db/outbound.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/routing.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/testing/sql.hpp"

namespace faxbridge::db {
namespace {

using namespace std::chrono_literals;

class OutboundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = testing::migrated_database("outbound");
    pool_ = std::make_unique<Pool>(PoolSettings{dsn_, 2});
  }
  pqxx::result sql(const std::string& q) { return faxbridge::testing::committed_sql(dsn_, q); }
  // A queued job to `number` that may be dialled from `not_before` on.
  std::int64_t queued(const std::string& number, TimePoint not_before) {
    auto j = pool_->transact([&](Tx& tx) {
      NewJob n;
      n.recipient_number = n.recipient_canonical = number;
      return jobs::create(tx, n, "test");
    });
    EXPECT_TRUE(j);
    sql("UPDATE fax_jobs SET state = 'queued', not_before = '" + iso8601_utc(not_before) + "' WHERE id = " +
        std::to_string(j->id));
    return j->id;
  }
  Result<std::vector<outbound::Call>> claim(const Clock* clock, int channels = 4) {
    return pool_->transact([&](Tx& tx) { return outbound::claim_calls(tx, "gw-1", channels, 10, 30s, clock); });
  }
  std::string lease_until(std::int64_t job) {
    return sql("SELECT to_char(lease_until AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM fax_jobs WHERE id = " +
               std::to_string(job))[0][0].as<std::string>();
  }
  std::string dsn_;
  std::unique_ptr<Pool> pool_;
};

TEST_F(OutboundTest, NotBeforeIsReadOnTheGivenClock) {
  // Years ahead of the server: a job due in an hour is due on this clock.
  ManualClock clock(utc_time(2030, 1, 1, 12, 0, 0));
  const auto job = queued("403", SystemClock::instance().now() + 1h);
  auto on_server_time = claim(nullptr);
  ASSERT_TRUE(on_server_time) << on_server_time.error().to_string();
  EXPECT_TRUE(on_server_time->empty());
  auto on_clock = claim(&clock);
  ASSERT_TRUE(on_clock) << on_clock.error().to_string();
  ASSERT_EQ(on_clock->size(), 1u);
  EXPECT_EQ((*on_clock)[0].job_id, job);
  EXPECT_EQ(lease_until(job), "12:00:30");  // the clock's time + the lease
  EXPECT_EQ(sql("SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM attempts")[0][0]
                .as<std::string>(),
            "2030-01-01 12:00:00");
}

TEST_F(OutboundTest, TheLeaseRenewsAndExpiresOnTheGivenClock) {
  ManualClock clock(utc_time(2030, 1, 1, 12, 0, 0));
  const auto job = queued("403", utc_time(2030, 1, 1, 11, 0, 0));
  auto calls = claim(&clock);
  ASSERT_TRUE(calls);
  ASSERT_EQ(calls->size(), 1u);
  clock.advance(20s);
  ASSERT_TRUE(*pool_->transact([&](Tx& tx) { return outbound::renew(tx, job, "gw-1", 30s, &clock); }));
  EXPECT_EQ(lease_until(job), "12:00:50");
  clock.advance(29s);  // 12:00:49: the lease still holds
  auto early = pool_->transact([&](Tx& tx) { return routing::interrupt_abandoned_calls(tx, 10, &clock); });
  ASSERT_TRUE(early) << early.error().to_string();
  EXPECT_TRUE(early->empty());
  clock.advance(2s);  // 12:00:51: the gateway stopped renewing
  auto late = pool_->transact([&](Tx& tx) { return routing::interrupt_abandoned_calls(tx, 10, &clock); });
  ASSERT_TRUE(late);
  ASSERT_EQ(late->size(), 1u);
  EXPECT_EQ((*late)[0], (*calls)[0].attempt_id);
  auto a = sql("SELECT state, outcome, error_code, to_char(ended_at AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM attempts");
  EXPECT_EQ(a[0][0].as<std::string>(), "closed");
  EXPECT_EQ(a[0][1].as<std::string>(), "interrupted");
  EXPECT_EQ(a[0][2].as<std::string>(), "call.interrupted");
  EXPECT_EQ(a[0][3].as<std::string>(), "12:00:51");
  // The gateway comes back too late: its lease is gone.
  EXPECT_FALSE(*pool_->transact([&](Tx& tx) { return outbound::renew(tx, job, "gw-1", 30s, &clock); }));
}

}  // namespace
}  // namespace faxbridge::db
