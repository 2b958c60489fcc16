#include "faxbridge/db/queue.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/routing.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"

namespace faxbridge::db {
namespace {

using namespace std::chrono_literals;

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = testing::migrated_database("queue");
    pool_ = std::make_unique<Pool>(PoolSettings{dsn_, 4});
  }
  std::vector<std::int64_t> submit(int n) {
    std::vector<std::int64_t> ids;
    for (int i = 0; i < n; ++i) {
      auto j = pool_->transact([&](Tx& tx) {
        NewJob job;
        job.recipient_number = job.recipient_canonical = "40" + std::to_string(i);
        return jobs::create(tx, job, "test");
      });
      ids.push_back(j->id);
    }
    return ids;
  }
  std::string state_of(std::int64_t id) {
    return pool_->transact([&](Tx& tx) { return jobs::get(tx, id); })->state;
  }
  std::string dsn_;
  std::unique_ptr<Pool> pool_;
  ManualClock clock_{SystemClock::instance().now() + 1h};
};

TEST_F(QueueTest, ClaimsByIdOnceAndOnlyWhenReady) {
  auto ids = submit(1);
  Queue a(*pool_, conversion_queue(), "conv-a", &clock_);
  Queue b(*pool_, conversion_queue(), "conv-b", &clock_);
  auto first = a.claim(ids[0]);
  ASSERT_TRUE(first) << first.error().to_string();
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->claims, 1);
  EXPECT_EQ(state_of(ids[0]), "converting");
  auto second = b.claim(ids[0]);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->has_value());  // somebody has it: the message is dropped
  auto gone = b.claim(123456789);
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
}

TEST_F(QueueTest, NotBeforeDelaysAClaim) {
  auto ids = submit(1);
  Queue a(*pool_, conversion_queue(), "conv-a", &clock_);
  ASSERT_TRUE(a.claim(ids[0])->has_value());
  ASSERT_TRUE(*a.release(ids[0], 10min, Error(Code::k_db_unavailable, "try later")));
  EXPECT_EQ(state_of(ids[0]), "submitted");
  EXPECT_TRUE(a.claim_next(10)->empty());
  clock_.advance(11min);
  EXPECT_EQ(a.claim_next(10)->size(), 1u);
}

TEST_F(QueueTest, AnExpiredLeaseIsTakenOverAndTheOldHolderCannotFinish) {
  auto ids = submit(1);
  auto spec = conversion_queue();
  spec.lease = 30s;
  Queue a(*pool_, spec, "conv-a", &clock_);
  Queue b(*pool_, spec, "conv-b", &clock_);
  ASSERT_TRUE(a.claim(ids[0])->has_value());
  EXPECT_TRUE(b.claim_next(10)->empty());  // still leased
  clock_.advance(20s);
  EXPECT_TRUE(*a.renew(ids[0]));  // heartbeat: lease now ends at +50s
  clock_.advance(20s);
  EXPECT_TRUE(b.claim_next(10)->empty());
  clock_.advance(31s);  // a died: no heartbeat since
  auto taken = b.claim_next(10);
  ASSERT_TRUE(taken);
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0].claims, 2);
  EXPECT_FALSE(*a.renew(ids[0]));  // a learns it lost the lease
  auto stale_finish = pool_->transact([&](Tx& tx) { return a.finish(tx, ids[0], "ready"); });
  ASSERT_TRUE(stale_finish);
  EXPECT_FALSE(*stale_finish);
  auto finish = pool_->transact([&](Tx& tx) { return b.finish(tx, ids[0], "ready"); });
  ASSERT_TRUE(finish && *finish);
  EXPECT_EQ(state_of(ids[0]), "ready");
}

TEST_F(QueueTest, ARowThatKeepsKillingWorkersFailsAfterMaxClaims) {
  auto ids = submit(1);
  auto spec = conversion_queue();
  spec.max_claims = 3;
  spec.lease = 10s;
  Queue q(*pool_, spec, "conv", &clock_);
  for (int i = 0; i < 3; ++i) {
    auto c = q.claim_next(1);
    ASSERT_EQ(c->size(), 1u) << i;
    clock_.advance(11s);  // the worker died every time
  }
  EXPECT_TRUE(q.claim_next(1)->empty());
  auto job = pool_->transact([&](Tx& tx) { return jobs::get(tx, ids[0]); });
  EXPECT_EQ(job->state, "failed");
  EXPECT_EQ(job->error_code, "queue.claims_exhausted");
}

TEST_F(QueueTest, ClaimNextTakesReadyRowsInPriorityOrder) {
  auto ids = submit(3);
  {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    w.exec_params("UPDATE fax_jobs SET priority = 10 WHERE id = $1", ids[2]);
    w.commit();
  }
  Queue q(*pool_, conversion_queue(), "conv", &clock_);
  auto c = q.claim_next(2);
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].id, ids[2]);
  EXPECT_EQ((*c)[1].id, ids[0]);
}

// Two connections claiming at once never get the same row.
TEST_F(QueueTest, ConcurrentClaimsAreDisjoint) {
  auto ids = submit(200);
  std::vector<std::int64_t> got_a, got_b;
  auto worker = [&](const std::string& owner, std::vector<std::int64_t>& out) {
    Pool pool(PoolSettings{dsn_, 1});
    Queue q(pool, conversion_queue(), owner);
    for (;;) {
      auto c = q.claim_next(3);
      ASSERT_TRUE(c) << c.error().to_string();
      if (c->empty()) break;
      for (const auto& claim : *c) out.push_back(claim.id);
    }
  };
  std::thread ta(worker, "a", std::ref(got_a));
  std::thread tb(worker, "b", std::ref(got_b));
  ta.join();
  tb.join();
  std::set<std::int64_t> all(got_a.begin(), got_a.end());
  for (auto id : got_b) EXPECT_TRUE(all.insert(id).second) << "claimed twice: " << id;
  EXPECT_EQ(all.size(), ids.size());
  EXPECT_FALSE(got_a.empty());
  EXPECT_FALSE(got_b.empty());
}

TEST_F(QueueTest, EveryStageOfTheSchemaHasTheClaimColumns) {
  for (const auto& spec : {conversion_queue(), inbound_routing_queue(), notification_queue(),
                           routing::routing_queue(), routing::results_queue()}) {
    Queue q(*pool_, spec, "probe", &clock_);
    auto next = q.claim_next(1);
    ASSERT_TRUE(next) << spec.table << ": " << next.error().to_string();
    auto one = q.claim(1);
    ASSERT_TRUE(one) << spec.table << ": " << one.error().to_string();
    auto released = q.release(1, std::chrono::milliseconds(0), std::nullopt);
    ASSERT_TRUE(released) << spec.table << ": " << released.error().to_string();
    auto finished = pool_->transact([&](Tx& tx) { return q.finish(tx, 1, spec.ready_state); });
    ASSERT_TRUE(finished) << spec.table << ": " << finished.error().to_string();
  }
}

}  // namespace
}  // namespace faxbridge::db
