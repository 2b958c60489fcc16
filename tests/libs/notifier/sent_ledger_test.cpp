// SentLedger against a real PostgreSQL: each record committed before record() returns;
// records that arrive while a commit runs share the next one (one transaction: their
// rows carry one updated_at, the transaction's now()); a row another notifier holds is
// left alone; a record handed in is committed while its worker goes on.
#include "sent_ledger.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <thread>

#include "faxbridge/db/notifications.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"

namespace faxbridge::notifier {
namespace {

using namespace std::chrono_literals;

class SentLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = db::testing::migrated_database("ledger");
    pool_ = std::make_unique<db::Pool>(db::PoolSettings{dsn_, 8});
    queue_ = std::make_unique<db::Queue>(*pool_, db::notification_queue(), "ledger-test");
  }
  std::vector<std::int64_t> pending(int n) {
    std::vector<std::int64_t> ids;
    for (int i = 0; i < n; ++i) {
      auto id = pool_->transact([&](db::Tx& tx) {
        db::NewNotification note;
        note.kind = "admin_alert";
        note.channel = "email";
        note.recipient = "admin@example.test";
        return db::notifications::enqueue(tx, note);
      });
      EXPECT_TRUE(id) << id.error().to_string();
      ids.push_back(*id);
    }
    return ids;
  }
  pqxx::result query(const std::string& sql) {
    pqxx::connection c(dsn_);
    return pqxx::nontransaction(c).exec(sql);
  }
  std::string dsn_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<db::Queue> queue_;
};

TEST_F(SentLedgerTest, EachRecordIsCommittedBeforeItReturnsAndLateComersShareOneCommit) {
  const auto ids = pending(5);
  auto claimed = queue_->claim_next(5);
  ASSERT_TRUE(claimed) << claimed.error().to_string();
  ASSERT_EQ(claimed->size(), 5u);
  SentLedger ledger(*pool_, *queue_);
  std::vector<bus::LeaseToken> leases(5);

  // The first row is locked by somebody else, so the first commit waits while the four
  // other workers arrive.
  pqxx::connection blocker(dsn_);
  pqxx::work hold(blocker);
  hold.exec("SELECT 1 FROM notifications WHERE id = " + std::to_string(ids[0]) + " FOR UPDATE");

  std::vector<Result<void>> results(5, ok());
  std::vector<std::thread> workers;
  workers.emplace_back([&] { results[0] = ledger.record(ids[0], leases[0]); });
  for (int i = 0; i < 200 && query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'").empty(); ++i)
    std::this_thread::sleep_for(20ms);
  ASSERT_FALSE(query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'").empty());
  for (int i = 1; i < 5; ++i) workers.emplace_back([&, i] { results[i] = ledger.record(ids[i], leases[i]); });
  for (int i = 0; i < 500 && ledger.waiting() < 4; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(ledger.waiting(), 4u);
  // Nothing is recorded while its commit has not happened.
  EXPECT_EQ(query("SELECT count(*) FROM notifications WHERE state = 'sent'")[0][0].as<int>(), 0);
  hold.commit();
  for (auto& w : workers) w.join();

  for (const auto& r : results) EXPECT_TRUE(r) << r.error().to_string();
  auto rows = query("SELECT id, state, attempts, updated_at::text, owner IS NULL FROM notifications ORDER BY id");
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& row : rows) {
    EXPECT_EQ(row[1].as<std::string>(), "sent");
    EXPECT_EQ(row[2].as<int>(), 1);  // the try is recorded in the same statement
    EXPECT_TRUE(row[4].as<bool>());
  }
  // The four late comers went in one transaction, after the first one's.
  for (int i = 2; i < 5; ++i) EXPECT_EQ(rows[i][3].as<std::string>(), rows[1][3].as<std::string>());
  EXPECT_NE(rows[0][3].as<std::string>(), rows[1][3].as<std::string>());
}

TEST_F(SentLedgerTest, ASubmittedRecordIsCommittedWhileItsWorkerGoesOn) {
  const auto ids = pending(1);
  auto claimed = queue_->claim_next(1);
  ASSERT_TRUE(claimed && claimed->size() == 1u);
  SentLedger ledger(*pool_, *queue_);
  bus::LeaseToken lease;
  // Nobody waits: the ledger's thread commits it anyway (the worker is composing its
  // next mail meanwhile and waits only before that mail's body).
  auto ticket = ledger.submit(ids[0], lease);
  bool committed = false;
  for (int i = 0; i < 500 && !committed; ++i) {
    committed = query("SELECT count(*) FROM notifications WHERE state = 'sent'")[0][0].as<int>() == 1;
    if (!committed) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(committed);
  EXPECT_TRUE(ledger.wait(ticket));
  EXPECT_TRUE(ledger.wait(ticket)) << "the same answer however often it is asked";
}

TEST_F(SentLedgerTest, ARowAnotherNotifierHoldsIsLeftToIt) {
  const auto ids = pending(1);
  db::Queue other(*pool_, db::notification_queue(), "someone-else");
  auto claimed = other.claim_next(1);
  ASSERT_TRUE(claimed && claimed->size() == 1u);
  SentLedger ledger(*pool_, *queue_);
  bus::LeaseToken lease;
  EXPECT_TRUE(ledger.record(ids[0], lease));
  auto row = query("SELECT state, owner, attempts FROM notifications")[0];
  EXPECT_EQ(row[0].as<std::string>(), "sending");
  EXPECT_EQ(row[1].as<std::string>(), "someone-else");
  EXPECT_EQ(row[2].as<int>(), 0);
}

}  // namespace
}  // namespace faxbridge::notifier
