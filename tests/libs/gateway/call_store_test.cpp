// The call store (a private part of libs/gateway) over a real Postgres and a real
// journal folder, without SIP: a fact the database keeps refusing for a reason other
// than being away is set aside after the configured number of tries, with its reason
// beside it, the facts behind it are still written, and a store started again on the
// same folder does not replay it.
#include "call_store.hpp"  // private to libs/gateway: its src folder is on this test's include path

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/testing/process.hpp"
#include "faxbridge/testing/sql.hpp"

namespace faxbridge::gateway {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::eventually;

class CallStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = db::testing::migrated_database("callstore");
    pool_ = std::make_unique<db::Pool>(db::PoolSettings{dsn_, 4});
    // Nobody listens: the store's announcements are wake-ups, lost without harm.
    publisher_ = std::make_unique<bus::Publisher>("tcp://127.0.0.1:1", "test", "callstore-test", /*metrics=*/nullptr);
    dir_ = std::filesystem::temp_directory_path() / ("callstore-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    options_.first_retry = 10ms;
    options_.max_retry = 40ms;
    options_.attempts_before_set_aside = 3;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<CallStore> open_store() {
    auto journal = Journal::open(dir_);
    EXPECT_TRUE(journal) << journal.error().to_string();
    if (!journal) return nullptr;
    return std::make_unique<CallStore>(*pool_, *publisher_, std::move(*journal), options_);
  }
  std::string field(const std::string& q) {
    auto r = faxbridge::testing::committed_sql(dsn_, q);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
  }
  std::vector<std::string> files_ending(const std::string& suffix) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      const std::string name = e.path().filename().string();
      if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        out.push_back(e.path().string());
      }
    }
    return out;
  }
  static db::ReceivedFax fax(const std::string& call_id) {
    db::ReceivedFax f;
    f.call_id = call_id;
    f.gateway_instance = "gw-test";
    f.caller_number = "0240111";
    f.called_number = "403";
    f.pages = 1;
    f.media = "t38";
    return f;
  }

  std::string dsn_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<bus::Publisher> publisher_;
  std::filesystem::path dir_;
  CallStoreOptions options_;
};

TEST_F(CallStoreTest, AFactTheDatabaseKeepsRefusingIsSetAsideAndTheFactsBehindItAreStillWritten) {
  {
    auto store = open_store();
    ASSERT_NE(store, nullptr);
    db::ReceivedFax refused = fax("call-refused");
    refused.media = "carrier-pigeon";  // the table's CHECK refuses it, every time
    store->store_received(refused, "");
    store->store_received(fax("call-after"), "");
    ASSERT_TRUE(eventually([&] { return store->stats().facts_pending == 0; }, 60s))
        << "pending: " << store->stats().facts_pending;
    EXPECT_EQ(store->stats().faxes_stored, 1u);
  }
  // Written in order: the fax behind the refused one was stored once it was set aside.
  EXPECT_EQ(field("SELECT string_agg(call_id, ',') FROM received_faxes"), "call-after");
  const auto aside = files_ending(".json.failed");
  ASSERT_EQ(aside.size(), 1u);
  std::ifstream why(aside[0] + ".why");
  std::stringstream reason;
  reason << why.rdbuf();
  EXPECT_NE(reason.str().find("db.constraint"), std::string::npos) << reason.str();
  EXPECT_TRUE(files_ending(".json").empty());

  // Started again on the same folder: the set-aside entry is the operator's, not replayed.
  auto again = open_store();
  ASSERT_NE(again, nullptr);
  std::this_thread::sleep_for(300ms);  // would be enough for ten tries at this backoff
  EXPECT_EQ(again->stats().replayed, 0u);
  EXPECT_EQ(again->stats().facts_pending, 0u);
  EXPECT_EQ(field("SELECT count(*) FROM received_faxes"), "1");
  EXPECT_EQ(files_ending(".json.failed").size(), 1u);
}

// The database away is not a reason to give up: the same fact is tried well past the
// set-aside count and committed once the database answers.
TEST_F(CallStoreTest, AFactIsNotSetAsideWhileTheDatabaseIsAwayAndIsWrittenWhenItIsBack) {
  auto& cluster = db::testing::shared_cluster();
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(cluster.stop());
  store->store_received(fax("call-outage"), "");
  // At 10-40 ms between tries, 2 s is dozens of failures: many more than 3.
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(store->stats().facts_pending, 1u);
  EXPECT_TRUE(files_ending(".json.failed").empty());
  ASSERT_TRUE(cluster.restart());
  ASSERT_TRUE(eventually([&] { return store->stats().facts_pending == 0; }, 60s));
  EXPECT_EQ(field("SELECT count(*) FROM received_faxes WHERE call_id = 'call-outage'"), "1");
  EXPECT_TRUE(files_ending(".json.failed").empty());
  EXPECT_TRUE(files_ending(".json").empty());
}

}  // namespace
}  // namespace faxbridge::gateway
