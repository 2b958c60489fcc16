// The gateway's journal on a real folder: entries come back in order after a "restart"
// (a new Journal on the same folder), removed ones stay gone, set-aside ones keep their
// number, a half-written entry is dropped, and a second owner is refused.
#include "journal.hpp"  // private to libs/gateway: its src folder is on this test's include path

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace faxbridge::gateway {
namespace {

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("journal-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(JournalTest, EntriesSurviveAReopenInOrderAndRemovedOnesAreGone) {
  {
    auto j = Journal::open(dir_);
    ASSERT_TRUE(j) << j.error().to_string();
    ASSERT_TRUE(j->append({{"kind", "a"}}));
    auto second = j->append({{"kind", "b"}});
    ASSERT_TRUE(second);
    ASSERT_TRUE(j->append({{"kind", "c"}}));
    j->remove(*second);
  }
  auto j = Journal::open(dir_);
  ASSERT_TRUE(j) << j.error().to_string();
  const auto pending = j->pending();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].second["kind"], "a");
  EXPECT_EQ(pending[1].second["kind"], "c");
  EXPECT_LT(pending[0].first, pending[1].first);
  // New entries are numbered after the old ones.
  auto next = j->append({{"kind", "d"}});
  ASSERT_TRUE(next);
  EXPECT_GT(*next, pending[1].first);
}

TEST_F(JournalTest, ASetAsideEntryKeepsItsNumberAndIsNotReplayed) {
  std::uint64_t aside = 0;
  {
    auto j = Journal::open(dir_);
    ASSERT_TRUE(j);
    auto s = j->append({{"kind", "poison"}});
    ASSERT_TRUE(s);
    aside = *s;
    j->set_aside(aside, "a constraint refused it");
  }
  auto j = Journal::open(dir_);
  ASSERT_TRUE(j);
  EXPECT_TRUE(j->pending().empty());
  auto s = j->append({{"kind", "next"}});
  ASSERT_TRUE(s);
  EXPECT_GT(*s, aside);  // never the set-aside file's name
  bool found_failed = false;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    if (e.path().string().ends_with(".json.failed")) found_failed = true;
  }
  EXPECT_TRUE(found_failed);
}

TEST_F(JournalTest, AnEntryCutShortByACrashAndAnUnreadableOneAreNotReplayed) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "000000000007.json.tmp") << R"({"kind":"half)";
  std::ofstream(dir_ / "000000000008.json") << "not json";
  std::ofstream(dir_ / "000000000009.json") << R"({"kind":"good"})";
  auto j = Journal::open(dir_);
  ASSERT_TRUE(j);
  const auto pending = j->pending();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].second["kind"], "good");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "000000000007.json.tmp"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "000000000008.json.failed"));
}

TEST_F(JournalTest, ASecondOwnerOfTheFolderIsRefused) {
  auto first = Journal::open(dir_);
  ASSERT_TRUE(first);
  auto second = Journal::open(dir_);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Code::k_config_invalid);
}

}  // namespace
}  // namespace faxbridge::gateway
