// db::faxes::list on a real Postgres: every combination of its filters (with a limit
// and a cursor) returns the rows the filters describe, computed here in C++ from the
// whole table, newest first; each combination (and set of states) is one prepared
// statement on the connection, prepared once, up to kMaxVaryingStatements, past which
// the list still answers, unprepared; an unknown state matches nothing; and a
// connection opened after the old one died prepares its statements again instead of
// assuming them (the pool drops a broken connection).
#include <gtest/gtest.h>

#include <algorithm>
#include <pqxx/pqxx>

#include "faxbridge/db/faxes.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "pqxx_support.hpp"  // libs/db/src: the test reads pg_prepared_statements in a Tx

namespace faxbridge::db {
namespace {

constexpr const char* kApp = "faxes_test_pool";

PoolSettings one_connection(const std::string& dsn) {
  PoolSettings s;
  s.dsn = dsn;
  s.size = 1;
  s.application_name = kApp;
  return s;
}

FaxListQuery query(std::optional<std::int64_t> sender, std::vector<std::string> states,
                   std::optional<std::string> label = std::nullopt) {
  FaxListQuery q;
  q.sender = sender;
  q.states = std::move(states);
  q.label = std::move(label);
  q.limit = 5;
  return q;
}

class FaxList : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"alice", "bob"}) {
      auto u = pool_.transact([&](Tx& t) {
        User user;
        user.username = name;
        user.display_name = name;
        return users::create(t, user);
      });
      ASSERT_TRUE(u) << u.error().to_string();
      users_.push_back(u->id);
    }
    // 60 faxes: two senders, four states, a client reference on two in three, four
    // recipients, labels {a}, {a,b} or none, and two faxes per minute (equal created_at:
    // the id decides between them).
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    w.exec_params(
        "INSERT INTO fax_jobs (state, source, sender_user_id, recipient_number, recipient_canonical, client_reference, "
        "labels, created_at) "
        "SELECT (ARRAY['sent', 'failed', 'queued', 'cancelled'])[1 + i % 4], 'api', "
        "  CASE WHEN i % 3 = 0 THEN $2::bigint ELSE $1::bigint END, '+4930' || (i % 4), '+4930' || (i % 4), "
        "  CASE WHEN i % 3 = 2 THEN NULL ELSE 'C' || (i % 5) END, "
        "  CASE WHEN i % 2 = 0 THEN ARRAY['a'] WHEN i % 3 = 0 THEN ARRAY['a', 'b'] ELSE ARRAY[]::text[] END, "
        "  timestamptz '2026-11-01 00:00:00+00' + (i / 2) * interval '1 minute' + interval '123456 microseconds' "
        "FROM generate_series(0, 59) i",
        users_[0], users_[1]);
    w.commit();
    FaxListQuery everything;
    everything.limit = 1000;
    auto all = list(everything);
    ASSERT_EQ(all.size(), 60u);
    all_ = all;
  }

  std::vector<FaxRecord> list(const FaxListQuery& q) {
    auto r = pool_.transact([&](Tx& t) { return faxes::list(t, q); });
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : std::vector<FaxRecord>{};
  }

  std::vector<std::string> prepared() {
    auto r = pool_.transact([&](Tx& t) -> Result<std::vector<std::string>> {
      std::vector<std::string> names;
      for (const auto& row : W(t).exec("SELECT name FROM pg_prepared_statements ORDER BY name")) {
        names.push_back(row[0].as<std::string>());
      }
      return names;
    });
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : std::vector<std::string>{};
  }

  std::string dsn_ = testing::migrated_database("faxes");
  // One connection, so every call below runs on the same one until it is killed.
  Pool pool_{one_connection(dsn_)};
  std::vector<std::int64_t> users_;
  std::vector<FaxRecord> all_;  // newest first, as the list with no filter gives them
};

std::vector<std::int64_t> ids(const std::vector<FaxRecord>& faxes) {
  std::vector<std::int64_t> out;
  for (const auto& f : faxes) out.push_back(f.id);
  return out;
}

TEST_F(FaxList, WithNoFilterItIsEveryFaxNewestFirst) {
  for (std::size_t i = 1; i < all_.size(); ++i) {
    const auto& a = all_[i - 1];
    const auto& b = all_[i];
    EXPECT_TRUE(a.created_at_us > b.created_at_us || (a.created_at_us == b.created_at_us && a.id > b.id)) << i;
  }
}

TEST_F(FaxList, EveryCombinationOfFiltersReturnsTheRowsItDescribes) {
  const auto cursor_row = all_[17];
  const auto reference_row = all_[4];
  ASSERT_TRUE(reference_row.reference);
  const TimePoint after = from_sql_time("2026-11-01 00:05:00+00");
  const TimePoint before = from_sql_time("2026-11-01 00:25:00+00");
  int checked = 0;
  for (unsigned mask = 0; mask < (1u << 10); ++mask) {
    if ((mask & 512) && !(mask & 2)) continue;  // bit 9 picks one state or two
    FaxListQuery q;
    q.limit = 7;
    if (mask & 1) q.sender = users_[0];
    // One state reads one range of a state index; two merge a range each (faxes.cpp).
    if (mask & 2) q.states = (mask & 512) ? std::vector<std::string>{"sent"} : std::vector<std::string>{"sent", "queued"};
    if (mask & 4) q.reference = reference_row.reference;
    if (mask & 8) q.client_reference = "C1";
    if (mask & 16) q.recipient_canonical = "+49301";
    if (mask & 32) q.label = "b";
    if (mask & 64) q.created_after = after;
    if (mask & 128) q.created_before = before;
    if (mask & 256) q.after = std::make_pair(cursor_row.created_at_us, cursor_row.id);
    std::vector<std::int64_t> want;
    for (const auto& f : all_) {
      if (want.size() == static_cast<std::size_t>(q.limit + 1)) break;
      const auto at = from_sql_time(f.created_at.substr(0, 10) + " " + f.created_at.substr(11, 12) + "+00");
      if (q.sender && f.sender_user_id != q.sender) continue;
      if (!q.states.empty() && std::find(q.states.begin(), q.states.end(), f.state) == q.states.end()) continue;
      if (q.reference && f.reference != q.reference) continue;
      if (q.client_reference && f.client_reference != q.client_reference) continue;
      if (q.recipient_canonical && f.recipient_canonical != *q.recipient_canonical) continue;
      if (q.label && std::find(f.labels.begin(), f.labels.end(), *q.label) == f.labels.end()) continue;
      if (q.created_after && !(at > *q.created_after)) continue;
      if (q.created_before && !(at < *q.created_before)) continue;
      if (q.after && !(f.created_at_us < q.after->first ||
                       (f.created_at_us == q.after->first && f.id < q.after->second))) {
        continue;
      }
      want.push_back(f.id);
    }
    EXPECT_EQ(ids(list(q)), want) << "filters " << mask;
    checked += want.empty() ? 0 : 1;
  }
  EXPECT_GT(checked, 100) << "most combinations should match some rows, or the test proves little";
}

TEST_F(FaxList, EachCombinationIsPreparedOnceOnAConnection) {
  const auto before = prepared().size();
  list(query(std::nullopt, {"sent", "failed"}));
  list(query(std::nullopt, {"failed", "sent", "failed"}));  // the same set of states: the same statement
  const auto one = prepared().size();
  EXPECT_EQ(one, before + 1);
  list(query(std::nullopt, {"sent"}));  // another set: its own plan
  list(query(users_[0], {"sent"}));     // another combination of filters
  EXPECT_EQ(prepared().size(), one + 2);
}

TEST_F(FaxList, AStateThatDoesNotExistMatchesNothing) {
  EXPECT_TRUE(list(query(std::nullopt, {"no_such_state"})).empty());
  EXPECT_EQ(list(query(std::nullopt, {"no_such_state", "queued"})).size(), 6u) << "15 queued: a page and one more";
}

TEST_F(FaxList, PastTheBoundOnAConnectionCombinationsAreSentUnprepared) {
  // Every limit is another text: 70 of them, more than a connection prepares.
  for (int limit = 1; limit <= 70; ++limit) {
    FaxListQuery q = query(users_[1], {"sent", "queued"});
    q.limit = limit;
    std::vector<std::int64_t> want;
    for (const auto& f : all_) {
      if (f.sender_user_id == users_[1] && (f.state == "sent" || f.state == "queued")) want.push_back(f.id);
    }
    want.resize(std::min(want.size(), static_cast<std::size_t>(limit + 1)));
    EXPECT_EQ(ids(list(q)), want) << "limit " << limit;
  }
  EXPECT_LE(prepared().size(), kMaxVaryingStatements + 1) << "the list's, and the one of SetUp's first list";
}

TEST_F(FaxList, AConnectionOpenedAfterTheOldOneDiedPreparesAgain) {
  const FaxListQuery q = query(users_[0], {}, "a");
  const auto first = ids(list(q));
  ASSERT_FALSE(first.empty());
  // Kill the pool's connection from outside, as a server restart or a proxy would.
  {
    pqxx::connection c(dsn_);
    pqxx::nontransaction w(c);
    auto r = w.exec_params("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", kApp);
    ASSERT_EQ(r.size(), 1u);
  }
  // The pool finds the connection broken, opens another and retries: the statement is
  // prepared there again, or this would fail with "prepared statement does not exist".
  EXPECT_EQ(ids(list(q)), first);
  // Only the list's statement: the read of pg_prepared_statements is not prepared.
  EXPECT_EQ(prepared().size(), 1u);
}

}  // namespace
}  // namespace faxbridge::db
