// db::Pool's two ways of running a unit of work on a real Postgres: transact commits
// all of it or nothing; autocommit commits each statement on its own (no BEGIN and
// COMMIT round trips), so a later failure keeps what ran before it, and a savepoint,
// which needs a transaction, is refused as the bug it would be. within_savepoint undoes
// one unit of a transaction alone (mail-ingest's batches).
#include <gtest/gtest.h>

#include <algorithm>

#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/savepoint.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::db {
namespace {

class PoolModes : public ::testing::Test {
 protected:
  void SetUp() override {
    auto u = pool_.transact([](Tx& t) {
      User user;
      user.username = "alice";
      user.display_name = "Alice";
      return users::create(t, user);
    });
    ASSERT_TRUE(u) << u.error().to_string();
    alice_ = u->id;
  }

  std::size_t tokens() {
    auto r = pool_.autocommit([&](Tx& t) { return api_tokens::list(t, alice_); });
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? r->size() : 0;
  }

  // Makes a token, then fails: what the failure leaves depends on the mode.
  Result<NewApiToken> make_then_fail(Tx& t) {
    auto made = api_tokens::create(t, alice_, "made", std::nullopt, utc_time(2026, 12, 1, 9, 0, 0));
    if (!made) return made.error();
    return Error(Code::k_internal, "failing after the insert");
  }

  std::string dsn_ = testing::migrated_database("pool");
  Pool pool_{PoolSettings{dsn_, 1}};
  std::int64_t alice_ = 0;
};

TEST_F(PoolModes, ATransactionThatFailsLeavesNothing) {
  EXPECT_FALSE(pool_.transact([&](Tx& t) { return make_then_fail(t); }));
  EXPECT_EQ(tokens(), 0u);
}

TEST_F(PoolModes, UnderAutocommitEachStatementCommitsOnItsOwn) {
  EXPECT_FALSE(pool_.autocommit([&](Tx& t) { return make_then_fail(t); }));
  EXPECT_EQ(tokens(), 1u) << "the insert committed before the failure";
  // And a successful unit reads what is there.
  auto found = pool_.autocommit([&](Tx& t) { return users::get(t, alice_); });
  ASSERT_TRUE(found) << found.error().to_string();
  EXPECT_EQ(found->username, "alice");
}

TEST_F(PoolModes, ASavepointUnderAutocommitIsRefusedAsABug) {
  auto r = pool_.autocommit([](Tx& t) {
    User user;
    user.username = "bob";
    user.display_name = "Bob";
    return users::create(t, user);  // writes under a savepoint
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_internal) << r.error().to_string();
  // The connection is still good for the next unit of work.
  EXPECT_EQ(tokens(), 0u);
}

TEST_F(PoolModes, AUnitThatFailsWithinItsSavepointIsUndoneAloneAndTheRestCommits) {
  std::optional<Error> refused;
  auto r = pool_.transact([&](Tx& t) -> Result<void> {
    auto first = within_savepoint(t, [&](Tx& u) -> Result<void> {
      auto made = api_tokens::create(u, alice_, "kept", std::nullopt, utc_time(2026, 12, 1, 9, 0, 0));
      if (!made) return made.error();
      return {};
    });
    if (!first) return first.error();
    auto failing = within_savepoint(t, [&](Tx& u) -> Result<void> {
      auto made = make_then_fail(u);
      if (!made) return made.error();
      return {};
    });
    if (!failing) refused = failing.error();
    // The transaction goes on after the undone unit.
    auto last = api_tokens::create(t, alice_, "after", std::nullopt, utc_time(2026, 12, 1, 9, 0, 0));
    if (!last) return last.error();
    return {};
  });
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->message, "failing after the insert");
  auto kept = pool_.autocommit([&](Tx& t) { return api_tokens::list(t, alice_); });
  ASSERT_TRUE(kept) << kept.error().to_string();
  ASSERT_EQ(kept->size(), 2u) << "the failed unit's token was undone, the others committed";
  std::vector<std::string> names;
  for (const auto& k : *kept) names.push_back(k.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"after", "kept"}));
}

TEST_F(PoolModes, SavepointsLeftOpenUntilTheCommitStillUndoAFailedUnitAlone) {
  // kAtCommit: succeeded units keep their savepoints open (nested), a failed one in the
  // middle is undone alone, and the units after it nest in the ones before.
  std::vector<std::string> refused;
  auto r = pool_.transact([&](Tx& t) -> Result<void> {
    for (const std::string name : {"one", "fails", "two", "fails", "three"}) {
      auto unit = within_savepoint(
          t,
          [&](Tx& u) -> Result<void> {
            if (name == "fails") {
              auto made = make_then_fail(u);
              if (!made) return made.error();
              return {};
            }
            auto made = api_tokens::create(u, alice_, name, std::nullopt, utc_time(2026, 12, 1, 9, 0, 0));
            if (!made) return made.error();
            return {};
          },
          SavepointRelease::kAtCommit);
      if (!unit) refused.push_back(unit.error().message);
    }
    return {};
  });
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(refused.size(), 2u);
  auto kept = pool_.autocommit([&](Tx& t) { return api_tokens::list(t, alice_); });
  ASSERT_TRUE(kept) << kept.error().to_string();
  std::vector<std::string> names;
  for (const auto& k : *kept) names.push_back(k.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"one", "three", "two"}));
}

}  // namespace
}  // namespace faxbridge::db
