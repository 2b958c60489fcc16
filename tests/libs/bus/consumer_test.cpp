#include "faxbridge/bus/consumer.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/queue.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"

namespace faxbridge::bus {
namespace {

using namespace std::chrono_literals;

class ConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = db::testing::migrated_database("consumer");
    pool_ = std::make_unique<db::Pool>(db::PoolSettings{dsn_, 8});
  }
  std::vector<std::int64_t> submit(int n) {
    std::vector<std::int64_t> ids;
    auto r = pool_->transact([&](db::Tx& tx) -> Result<void> {
      for (int i = 0; i < n; ++i) {
        db::NewJob job;
        job.recipient_number = job.recipient_canonical = "40" + std::to_string(i);
        auto j = db::jobs::create(tx, job, "test");
        if (!j) return j.error();
        ids.push_back(j->id);
      }
      return ok();
    });
    EXPECT_TRUE(r);
    return ids;
  }
  // The handler of these tests: converting -> ready, plus one audit row as the proof
  // of processing, in one transaction conditional on the lease.
  Handler finishing_handler(db::Queue& q) {
    return [this, &q](const Claim& c, const LeaseToken&) -> Result<void> {
      return pool_->transact([&](db::Tx& tx) -> Result<void> {
        auto done = q.finish(tx, c.id, "ready");
        if (!done) return done.error();
        if (!*done) return Error(Code::k_queue_lease_lost, "lease lost");
        auto a = db::audit::record(tx, {std::nullopt, q.owner(), "test.processed", "job", std::to_string(c.id)});
        if (!a) return a.error();
        return ok();
      });
    };
  }
  std::int64_t count(const std::string& sql) {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    return w.exec(sql)[0][0].as<std::int64_t>();
  }
  bool wait_for(const std::function<bool()>& done, std::chrono::seconds limit = 60s) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return done();
  }
  std::string dsn_;
  std::unique_ptr<db::Pool> pool_;
};

TEST_F(ConsumerTest, TheStartUpSweepDrainsABacklogExactlyOnce) {
  auto ids = submit(500);
  db::Queue q(*pool_, db::conversion_queue(), "conv-1");
  ConsumerSettings s;
  s.workers = 4;
  s.sweep_interval = 1h;  // only the start-up sweep and its follow-ups
  Consumer consumer(q, s, finishing_handler(q));
  consumer.start();
  ASSERT_TRUE(wait_for([&] { return count("SELECT count(*) FROM fax_jobs WHERE state = 'ready'") == 500; }));
  consumer.stop();
  EXPECT_EQ(count("SELECT count(*) FROM audit_events WHERE action = 'test.processed'"), 500);
  EXPECT_EQ(count("SELECT count(DISTINCT object_id) FROM audit_events WHERE action = 'test.processed'"), 500);
  EXPECT_EQ(consumer.stats().claimed_by_sweep, 500);
  EXPECT_EQ(consumer.stats().completed, 500);
}

// With prefetch a sweep claims rows ahead of the free workers: one worker and three
// ahead claim four rows a sweep, so a backlog drains in about a quarter of the claim
// transactions, each row still processed exactly once.
TEST_F(ConsumerTest, APrefetchingSweepClaimsRowsAheadOfItsWorkersAndEachIsProcessedOnce) {
  auto ids = submit(40);
  db::Queue q(*pool_, db::conversion_queue(), "conv-1");
  ConsumerSettings s;
  s.workers = 1;
  s.prefetch = 3;
  s.sweep_interval = 1h;  // only the start-up sweep and its follow-ups
  Consumer consumer(q, s, finishing_handler(q));
  consumer.start();
  ASSERT_TRUE(wait_for([&] { return count("SELECT count(*) FROM fax_jobs WHERE state = 'ready'") == 40; }));
  consumer.stop();
  EXPECT_EQ(count("SELECT count(DISTINCT object_id) FROM audit_events WHERE action = 'test.processed'"), 40);
  EXPECT_EQ(count("SELECT count(*) FROM audit_events WHERE action = 'test.processed'"), 40);
  EXPECT_EQ(consumer.stats().claimed_by_sweep, 40);
  // Without prefetch one worker claims one row a sweep: 40 sweeps at least.
  EXPECT_LE(consumer.stats().sweeps, 12);
}

TEST_F(ConsumerTest, ANotifiedRowIsClaimedWithoutWaitingForTheSweep) {
  db::Queue q(*pool_, db::conversion_queue(), "conv-1");
  ConsumerSettings s;
  s.sweep_interval = 1h;
  Consumer consumer(q, s, finishing_handler(q));
  consumer.start();
  ASSERT_TRUE(wait_for([&] { return consumer.stats().sweeps >= 1; }));  // the start-up sweep found nothing
  auto ids = submit(20);
  for (auto id : ids) consumer.notify(id);
  ASSERT_TRUE(wait_for([&] { return count("SELECT count(*) FROM fax_jobs WHERE state = 'ready'") == 20; }, 30s));
  consumer.stop();
  EXPECT_EQ(consumer.stats().claimed_by_message, 20);
}

TEST_F(ConsumerTest, AFailedHandlerGivesTheRowBackForALaterRetry) {
  auto ids = submit(1);
  db::Queue q(*pool_, db::conversion_queue(), "conv-1");
  std::atomic<int> calls{0};
  auto finish = finishing_handler(q);
  ConsumerSettings s;
  s.sweep_interval = 100ms;
  s.retry_delay = 300ms;
  Consumer consumer(q, s, [&](const Claim& c, const LeaseToken& t) -> Result<void> {
    if (calls++ == 0) return Error(Code::k_io_failed, "The converter's scratch disk is full.");
    return finish(c, t);
  });
  consumer.start();
  ASSERT_TRUE(wait_for([&] { return count("SELECT count(*) FROM fax_jobs WHERE state = 'ready'") == 1; }, 30s));
  consumer.stop();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(consumer.stats().failed, 1);
  EXPECT_EQ(count("SELECT claims FROM fax_jobs"), 0);  // finish resets the count
}

TEST_F(ConsumerTest, StoppingReleasesRowsThatWereNotFinished) {
  auto ids = submit(3);
  db::Queue q(*pool_, db::conversion_queue(), "conv-1");
  ConsumerSettings s;
  s.workers = 3;
  std::atomic<int> started{0};
  Consumer consumer(q, s, [&](const Claim&, const LeaseToken& t) -> Result<void> {
    ++started;
    while (!t.should_stop()) std::this_thread::sleep_for(5ms);
    return Error(Code::k_service_stopping, "stopping");
  });
  consumer.start();
  ASSERT_TRUE(wait_for([&] { return started == 3; }));
  consumer.stop();
  // Back to submitted with no owner: another instance takes them at once.
  EXPECT_EQ(count("SELECT count(*) FROM fax_jobs WHERE state = 'submitted' AND owner IS NULL "
                  "AND not_before <= now()"),
            3);
}


// With a batch handler a worker takes several claimed rows at once: two workers with
// batches of 8 drain 100 rows in calls of up to 8 each, every row exactly once, and a
// row the handler answers with an error in the middle of a batch is given back alone
// while the others of its batch stay finished.
TEST_F(ConsumerTest, ABatchHandlerGetsSeveralRowsAtOnceAndEachResultCountsForItsOwnRow) {
  auto ids = submit(100);
  db::Queue q(*pool_, db::conversion_queue(), "conv-1");
  auto finish = finishing_handler(q);
  ConsumerSettings s;
  s.workers = 2;
  s.batch = 8;
  s.sweep_interval = 100ms;
  s.retry_delay = 200ms;
  std::mutex m;
  std::vector<std::size_t> sizes;
  std::set<std::int64_t> refused_once;
  const std::int64_t refused = ids[37];
  Consumer consumer(q, s, [&](const std::vector<BatchItem>& items) {
    {
      std::lock_guard g(m);
      sizes.push_back(items.size());
    }
    std::vector<Result<void>> results;
    for (const auto& item : items) {
      bool refuse = false;
      {
        std::lock_guard g(m);
        refuse = item.claim.id == refused && refused_once.insert(item.claim.id).second;
      }
      if (refuse) results.push_back(Error(Code::k_io_failed, "The scratch disk is full."));
      else results.push_back(finish(item.claim, *item.lease));
    }
    return results;
  });
  consumer.start();
  ASSERT_TRUE(wait_for([&] { return count("SELECT count(*) FROM fax_jobs WHERE state = 'ready'") == 100; }));
  consumer.stop();
  EXPECT_EQ(count("SELECT count(*) FROM audit_events WHERE action = 'test.processed'"), 100);
  EXPECT_EQ(count("SELECT count(DISTINCT object_id) FROM audit_events WHERE action = 'test.processed'"), 100);
  EXPECT_EQ(consumer.stats().completed, 100);
  EXPECT_EQ(consumer.stats().failed, 1);
  std::lock_guard g(m);
  EXPECT_EQ(*std::max_element(sizes.begin(), sizes.end()), 8u);
  // Most calls were full batches: far fewer calls than rows.
  EXPECT_LE(sizes.size(), 40u);
}

// A batch handler that throws gives back every row of its batch, none lost.
TEST_F(ConsumerTest, ABatchHandlerThatThrowsGivesBackItsWholeBatch) {
  auto ids = submit(5);
  db::Queue q(*pool_, db::conversion_queue(), "conv-1");
  auto finish = finishing_handler(q);
  ConsumerSettings s;
  s.workers = 1;
  s.batch = 5;
  s.sweep_interval = 100ms;
  s.retry_delay = 200ms;
  std::atomic<int> calls{0};
  Consumer consumer(q, s, [&](const std::vector<BatchItem>& items) -> std::vector<Result<void>> {
    if (calls++ == 0) throw std::runtime_error("boom");
    std::vector<Result<void>> results;
    for (const auto& item : items) results.push_back(finish(item.claim, *item.lease));
    return results;
  });
  consumer.start();
  ASSERT_TRUE(wait_for([&] { return count("SELECT count(*) FROM fax_jobs WHERE state = 'ready'") == 5; }, 30s));
  consumer.stop();
  EXPECT_EQ(consumer.stats().failed, 5);
  EXPECT_EQ(consumer.stats().completed, 5);
  EXPECT_EQ(count("SELECT count(DISTINCT object_id) FROM audit_events WHERE action = 'test.processed'"), 5);
}

}  // namespace
}  // namespace faxbridge::bus
