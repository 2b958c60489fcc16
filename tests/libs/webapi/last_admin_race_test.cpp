// The last-administrator guard under concurrency, over the real WebApi and Postgres:
// two administrators, each the other's only fellow administrator, demote (or disable)
// each other at the same moment, many times over; one lowers the default level while
// the other demotes the one with a level of their own. Whatever the interleaving,
// exactly one change may commit and at least one enabled level-10 user must remain.
// The guard serialises these transactions on one advisory lock taken before anything
// is read (db::users::lock_administrators), so the second one counts the first's
// committed change; this test is what would catch a path that skips the lock.
// Requests are released together by a latch; nothing here measures time.
#include <gtest/gtest.h>

#include <functional>
#include <latch>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/testing/api_client.hpp"
#include "faxbridge/webapi/web_api.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;
using testing::ApiClient;
using testing::ApiReply;

constexpr int kRounds = 25;  // per scenario: enough interleavings to meet the race, cheap (token auth)

class LastAdminRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ann_ = make_user("ann");
    ben_ = make_user("ben");
    WebApiSettings s;
    s.server.bind_address = "127.0.0.1";
    s.server.port = 0;
    api_ = std::make_unique<WebApi>(pool_, s);
    auto port = api_->start();
    ASSERT_TRUE(port) << port.error().to_string();
    port_ = *port;
    ann_token_ = token_for(ann_);
    ben_token_ = token_for(ben_);
  }

  std::int64_t make_user(const std::string& name) {
    auto u = pool_.transact([&](db::Tx& tx) {
      db::User user;
      user.username = name;
      user.email = name + "@example.com";
      user.own_permission_level = 10;
      return db::users::create(tx, user);
    });
    EXPECT_TRUE(u) << u.error().to_string();
    return u ? u->id : 0;
  }

  std::string token_for(std::int64_t id) {
    auto t = pool_.transact(
        [&](db::Tx& tx) { return db::api_tokens::create(tx, id, "race", std::nullopt, std::chrono::system_clock::now()); });
    EXPECT_TRUE(t) << t.error().to_string();
    return t ? t->plaintext : "";
  }

  void sql(const std::string& statement) {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    w.exec(statement);
    w.commit();
  }

  std::int64_t enabled_administrators() {
    auto n = pool_.transact([](db::Tx& tx) { return db::users::enabled_administrators(tx); });
    EXPECT_TRUE(n) << n.error().to_string();
    return n ? *n : -1;
  }

  // ann's and ben's requests, released at the same instant; their replies.
  std::pair<ApiReply, ApiReply> at_once(const std::function<ApiReply(ApiClient&)>& ann_does,
                                        const std::function<ApiReply(ApiClient&)>& ben_does) {
    ApiClient ann(port_), ben(port_);
    ann.bearer(ann_token_);
    ben.bearer(ben_token_);
    std::latch gate(2);
    ApiReply a, b;
    std::thread ta([&] {
      gate.arrive_and_wait();
      a = ann_does(ann);
    });
    std::thread tb([&] {
      gate.arrive_and_wait();
      b = ben_does(ben);
    });
    ta.join();
    tb.join();
    return {a, b};
  }

  // One change won, the other was refused by the guard (409) or, when it was
  // authenticated after the winner committed, by the caller's new level or state (403)
  // or because the caller was deleted with their token (401); and an administrator is
  // left.
  void expect_one_winner(const std::pair<ApiReply, ApiReply>& replies, int round, const char* scenario) {
    const auto& [a, b] = replies;
    const bool a_won = a.status == 200, b_won = b.status == 200;
    EXPECT_NE(a_won, b_won) << scenario << " round " << round << ": ann " << a.status << " " << a.body << " / ben "
                            << b.status << " " << b.body;
    for (const ApiReply* loser : {&a, &b}) {
      if (loser->status == 200) continue;
      EXPECT_TRUE(loser->status == 409 || loser->status == 403 || loser->status == 401)
          << scenario << ": " << loser->body;
      if (loser->status == 409) {
        EXPECT_EQ(loser->json.value("code", ""), "user.last_admin") << loser->body;
      }
    }
    EXPECT_GE(enabled_administrators(), 1) << scenario << " round " << round << " left no administrator";
  }

  std::string path_of(std::int64_t id) { return "/api/v1/admin/users/" + std::to_string(id); }

  std::string dsn_ = db::testing::migrated_database("webapi_last_admin_race");
  db::Pool pool_{db::PoolSettings{dsn_, 8}};
  std::unique_ptr<WebApi> api_;
  int port_ = 0;
  std::int64_t ann_ = 0, ben_ = 0;
  std::string ann_token_, ben_token_;
};

TEST_F(LastAdminRaceTest, TwoAdministratorsDemotingEachOtherLeaveOne) {
  for (int round = 0; round < kRounds; ++round) {
    sql("UPDATE users SET permission_level = 10, disabled = false");
    auto replies = at_once([&](ApiClient& c) { return c.patch(path_of(ben_), {{"level", 2}}); },
                           [&](ApiClient& c) { return c.patch(path_of(ann_), {{"level", 2}}); });
    expect_one_winner(replies, round, "demote");
    EXPECT_EQ(enabled_administrators(), 1);
  }
}

TEST_F(LastAdminRaceTest, TwoAdministratorsDisablingOrDeletingEachOtherLeaveOne) {
  for (int round = 0; round < kRounds; ++round) {
    sql("UPDATE users SET permission_level = 10, disabled = false");
    // Half the rounds ben deletes ann instead: a user without faxes is deleted (204).
    const bool delete_round = round % 2 == 1;
    auto replies = at_once([&](ApiClient& c) { return c.patch(path_of(ben_), {{"disabled", true}}); },
                           [&](ApiClient& c) {
                             if (!delete_round) return c.patch(path_of(ann_), {{"disabled", true}});
                             auto r = c.del(path_of(ann_));
                             if (r.status == 204) r.status = 200;  // a win, for expect_one_winner
                             return r;
                           });
    expect_one_winner(replies, round, delete_round ? "disable/delete" : "disable");
    EXPECT_EQ(enabled_administrators(), 1);
    if (delete_round && replies.second.status == 200) {
      ann_ = make_user("ann" + std::to_string(round));  // ann is gone: a new ann for the next rounds
      ann_token_ = token_for(ann_);
    }
  }
}

TEST_F(LastAdminRaceTest, LoweringTheDefaultLevelWhileTheOtherIsDemotedLeavesOne) {
  // ann inherits the default level (10); ben has his own. ben lowers the default (ann's
  // level) through either endpoint while ann demotes ben.
  for (int round = 0; round < kRounds; ++round) {
    sql("UPDATE users SET disabled = false, permission_level = CASE WHEN id = " + std::to_string(ann_) +
        " THEN NULL ELSE 10 END");
    sql("INSERT INTO settings (key, value) VALUES ('users.default_permission_level', '10') "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = nextval('settings_version_seq')");
    const bool via_settings = round % 2 == 1;
    auto replies = at_once([&](ApiClient& c) { return c.patch(path_of(ben_), {{"level", 2}}); },
                           [&](ApiClient& c) {
                             return via_settings
                                        ? c.patch("/api/v1/admin/settings", {{"users.default_permission_level", 2}})
                                        : c.put("/api/v1/admin/users/default-level", {{"level", 2}});
                           });
    expect_one_winner(replies, round, via_settings ? "settings default level" : "default-level");
    EXPECT_EQ(enabled_administrators(), 1);
  }
}

}  // namespace
}  // namespace faxbridge::webapi
