// API tokens, sessions and inherited permission levels on a real Postgres: secrets are
// shown once and stored only as their SHA-256, a revoked or expired credential is
// unknown, last-used and sliding renewal are written at most once a minute, and a user
// without a level of their own follows the default level.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::db {
namespace {

using namespace std::chrono_literals;

class Auth : public ::testing::Test {
 protected:
  template <typename F>
  auto tx(F&& f) {
    return pool_.transact(std::forward<F>(f));
  }
  void SetUp() override {
    auto u = tx([](Tx& t) {
      User user;
      user.username = "alice";
      user.display_name = "Alice";
      return users::create(t, user);
    });
    ASSERT_TRUE(u) << u.error().to_string();
    alice_ = u->id;
  }

  // A value straight from SQL, to see what is really stored.
  std::string sql_value(const std::string& query) {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    auto r = w.exec(query);
    w.commit();
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
  }

  std::string dsn_ = testing::migrated_database("auth");
  Pool pool_{PoolSettings{dsn_, 2}};
  std::int64_t alice_ = 0;
  TimePoint t0_ = utc_time(2026, 12, 1, 9, 0, 0);
};

TEST_F(Auth, ATokenIsShownOnceAndStoredOnlyAsItsHash) {
  auto made = tx([&](Tx& t) { return api_tokens::create(t, alice_, "invoicing", std::nullopt, t0_); });
  ASSERT_TRUE(made) << made.error().to_string();
  EXPECT_EQ(made->plaintext.rfind("fbx_", 0), 0u) << made->plaintext;
  EXPECT_EQ(made->plaintext.size(), 47u);
  EXPECT_EQ(made->token.name, "invoicing");
  EXPECT_FALSE(made->token.last_used_at);
  // What is stored is the SHA-256 of the plaintext (32 bytes), never the plaintext.
  EXPECT_EQ(sql_value("SELECT encode(token_hash, 'hex') FROM api_tokens"),
            sql_value("SELECT encode(sha256('" + made->plaintext + "'::bytea), 'hex')"));

  auto caller = tx([&](Tx& t) { return api_tokens::authenticate(t, made->plaintext, t0_ + 1s); });
  ASSERT_TRUE(caller && caller->has_value());
  EXPECT_EQ((*caller)->user.username, "alice");
  EXPECT_EQ((*caller)->token.id, made->token.id);

  auto other = tx([&](Tx& t) { return api_tokens::create(t, alice_, "second", std::nullopt, t0_); });
  ASSERT_TRUE(other);
  EXPECT_NE(other->plaintext, made->plaintext);
}

TEST_F(Auth, UnknownMalformedRevokedAndExpiredTokensAreNobody) {
  auto live = tx([&](Tx& t) { return api_tokens::create(t, alice_, "live", std::nullopt, t0_); });
  auto expiring = tx([&](Tx& t) { return api_tokens::create(t, alice_, "expiring", t0_ + 1h, t0_); });
  ASSERT_TRUE(live && expiring);
  auto who = [&](const std::string& text, TimePoint at) {
    auto r = tx([&](Tx& t) { return api_tokens::authenticate(t, text, at); });
    EXPECT_TRUE(r) << r.error().to_string();
    return r && r->has_value();
  };
  EXPECT_FALSE(who("fbx_" + std::string(43, 'A'), t0_));
  EXPECT_FALSE(who("not a token", t0_));
  EXPECT_FALSE(who("", t0_));
  EXPECT_FALSE(who(live->plaintext.substr(0, 46), t0_));
  EXPECT_TRUE(who(expiring->plaintext, t0_ + 59min));
  EXPECT_FALSE(who(expiring->plaintext, t0_ + 1h));

  auto revoked = tx([&](Tx& t) { return api_tokens::revoke(t, alice_, live->token.id, t0_ + 2min); });
  ASSERT_TRUE(revoked);
  EXPECT_TRUE(*revoked);
  EXPECT_FALSE(who(live->plaintext, t0_ + 3min));
  auto again = tx([&](Tx& t) { return api_tokens::revoke(t, alice_, live->token.id, t0_ + 4min); });
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again) << "revoked once";

  auto list = tx([&](Tx& t) { return api_tokens::list(t, alice_); });
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "expiring") << "newest first";
  ASSERT_TRUE((*list)[1].revoked_at);
  EXPECT_EQ(*(*list)[1].revoked_at, t0_ + 2min);
}

TEST_F(Auth, AnotherUsersTokenCannotBeRevoked) {
  auto bob = tx([](Tx& t) {
    User u;
    u.username = "bob";
    return users::create(t, u);
  });
  ASSERT_TRUE(bob);
  auto token = tx([&](Tx& t) { return api_tokens::create(t, alice_, "mine", std::nullopt, t0_); });
  ASSERT_TRUE(token);
  auto r = tx([&](Tx& t) { return api_tokens::revoke(t, bob->id, token->token.id, t0_); });
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  auto still = tx([&](Tx& t) { return api_tokens::authenticate(t, token->plaintext, t0_); });
  ASSERT_TRUE(still && still->has_value());
}

TEST_F(Auth, TokensNeedAUserAndAName) {
  auto nobody = tx([&](Tx& t) { return api_tokens::create(t, 999999, "x", std::nullopt, t0_); });
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, Code::k_user_not_found);
  auto unnamed = tx([&](Tx& t) { return api_tokens::create(t, alice_, "", std::nullopt, t0_); });
  ASSERT_FALSE(unnamed);
  EXPECT_EQ(unnamed.error().code, Code::k_user_invalid);
}

TEST_F(Auth, LastUsedIsWrittenAtMostOnceAMinute) {
  auto made = tx([&](Tx& t) { return api_tokens::create(t, alice_, "poller", std::nullopt, t0_); });
  ASSERT_TRUE(made);
  auto use = [&](TimePoint at) {
    auto r = tx([&](Tx& t) { return api_tokens::authenticate(t, made->plaintext, at); });
    ASSERT_TRUE(r && r->has_value());
  };
  auto stored = [&] {
    auto l = tx([&](Tx& t) { return api_tokens::list(t, alice_); });
    return l && !l->empty() ? (*l)[0].last_used_at : std::nullopt;
  };
  use(t0_ + 10s);
  EXPECT_EQ(stored(), t0_ + 10s);
  for (int i = 1; i <= 5; ++i) use(t0_ + 10s + i * 10s);  // a client in a loop
  EXPECT_EQ(stored(), t0_ + 10s) << "no write within the minute";
  use(t0_ + 70s);
  EXPECT_EQ(stored(), t0_ + 70s);
}

TEST_F(Auth, ASessionSlidesWhileUsedAndEndsWhenIdleOrTooOld) {
  const SessionPolicy policy{1h, 3h};
  auto s = tx([&](Tx& t) { return sessions::create(t, alice_, policy, t0_, "test agent", "192.0.2.7"); });
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->expires_at, t0_ + 1h);
  EXPECT_EQ(s->csrf_token, csrf_token_for(s->secret));
  EXPECT_NE(s->csrf_token, s->secret);
  EXPECT_EQ(sql_value("SELECT host(ip) FROM sessions"), "192.0.2.7");
  EXPECT_EQ(sql_value("SELECT encode(id, 'hex') FROM sessions"),
            sql_value("SELECT encode(sha256('" + s->secret + "'::bytea), 'hex')"));

  auto at = [&](TimePoint when) {
    auto r = tx([&](Tx& t) { return sessions::authenticate(t, s->secret, policy, when); });
    EXPECT_TRUE(r) << r.error().to_string();
    return r && r->has_value() ? std::optional<TimePoint>((*r)->expires_at) : std::nullopt;
  };
  EXPECT_EQ(at(t0_ + 30s), t0_ + 1h) << "renewed at most once a minute";
  EXPECT_EQ(at(t0_ + 50min), t0_ + 50min + 1h);
  EXPECT_EQ(at(t0_ + 100min), t0_ + 100min + 1h);
  EXPECT_EQ(at(t0_ + 150min), t0_ + 3h) << "never past the maximum lifetime";
  EXPECT_FALSE(at(t0_ + 3h));

  auto idle = tx([&](Tx& t) { return sessions::create(t, alice_, policy, t0_, "", ""); });
  ASSERT_TRUE(idle);
  auto late = tx([&](Tx& t) { return sessions::authenticate(t, idle->secret, policy, t0_ + 61min); });
  ASSERT_TRUE(late);
  EXPECT_FALSE(late->has_value()) << "an hour unused ends it";
}

TEST_F(Auth, SignOutDeletesTheSessionAndPurgeRemovesEndedOnes) {
  const SessionPolicy policy{1h, 3h};
  auto a = tx([&](Tx& t) { return sessions::create(t, alice_, policy, t0_, "", ""); });
  auto b = tx([&](Tx& t) { return sessions::create(t, alice_, policy, t0_, "", ""); });
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->secret, b->secret);
  auto removed = tx([&](Tx& t) { return sessions::remove(t, a->secret); });
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
  auto gone = tx([&](Tx& t) { return sessions::authenticate(t, a->secret, policy, t0_); });
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  auto garbage = tx([&](Tx& t) { return sessions::remove(t, "x"); });
  ASSERT_TRUE(garbage);
  EXPECT_FALSE(*garbage);

  auto none = tx([&](Tx& t) { return sessions::purge_expired(t, t0_ + 59min); });
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0);
  auto purged = tx([&](Tx& t) { return sessions::purge_expired(t, t0_ + 1h); });
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(sql_value("SELECT count(*) FROM sessions"), "0");
}

TEST_F(Auth, ACallerComesWithTheUserSoADisabledOneCanBeRefused) {
  const SessionPolicy policy{1h, 3h};
  auto s = tx([&](Tx& t) { return sessions::create(t, alice_, policy, t0_, "", ""); });
  ASSERT_TRUE(s);
  sql_value("UPDATE users SET disabled = true RETURNING id");
  auto c = tx([&](Tx& t) { return sessions::authenticate(t, s->secret, policy, t0_); });
  ASSERT_TRUE(c && c->has_value());
  EXPECT_TRUE((*c)->user.disabled);
}

TEST_F(Auth, UsersWithoutTheirOwnLevelInheritTheDefault) {
  auto admin = tx([](Tx& t) {
    User u;
    u.username = "admin";
    u.own_permission_level = kPermissionFaxAdmin;
    return users::create(t, u);
  });
  ASSERT_TRUE(admin);
  auto alice = tx([&](Tx& t) { return users::get(t, alice_); });
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->permission_level, kPermissionFaxUser) << "the default default is 2";
  EXPECT_FALSE(alice->own_permission_level);
  EXPECT_EQ(sql_value("SELECT coalesce(permission_level::text, 'inherits') FROM users WHERE username = 'alice'"),
            "inherits");

  ASSERT_TRUE(tx([](Tx& t) { return settings::set(t, std::string(kDefaultPermissionLevelKey), "0"); }));
  alice = tx([&](Tx& t) { return users::get(t, alice_); });
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->permission_level, kPermissionNone);
  auto a2 = tx([&](Tx& t) { return users::by_username(t, "admin"); });
  ASSERT_TRUE(a2);
  EXPECT_EQ(a2->permission_level, kPermissionFaxAdmin) << "an own level is not inherited";
  EXPECT_EQ(a2->own_permission_level, kPermissionFaxAdmin);

  // Update writes the own level back as read: an inheriting user stays inheriting.
  alice->display_name = "Alice B.";
  auto updated = tx([&](Tx& t) { return users::update(t, *alice); });
  ASSERT_TRUE(updated);
  EXPECT_FALSE(updated->own_permission_level);
  EXPECT_EQ(updated->permission_level, kPermissionNone);

  auto bad = tx([](Tx& t) { return settings::set(t, std::string(kDefaultPermissionLevelKey), "11"); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::k_setting_invalid);
}

}  // namespace
}  // namespace faxbridge::db
