// PUT /api/v1/me/password over the real WebApi and a throw-away Postgres: the change
// itself, the other sessions it ends (and the one it keeps), the refusals (a wrong
// current password, a weak new one, an API token) and the sign-in throttle it shares.
// The throttle runs on a ManualClock, so the test moves time instead of sleeping.
// Every reply is checked against docs/api/openapi.yaml by the ApiClient.
#include <gtest/gtest.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "faxbridge/core/password.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/testing/api_client.hpp"
#include "faxbridge/webapi/web_api.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;
using testing::ApiClient;
using testing::expect_problem;

constexpr const char* kOld = "old password 123";
constexpr const char* kNew = "new password 456";
constexpr const char* kPath = "/api/v1/me/password";
constexpr int kBurst = 3;  // the account bucket of this test: 3 tries, then one a minute

class MePasswordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alice_ = make_user("alice", std::nullopt);
    root_ = make_user("root", 10);
    WebApiSettings s;
    s.server.bind_address = "127.0.0.1";
    s.server.port = 0;
    s.account_throttle = api::ThrottleRule{kBurst, std::chrono::seconds(60)};
    s.address_throttle = api::ThrottleRule{1000, std::chrono::seconds(1)};
    api_ = std::make_unique<WebApi>(pool_, s, clock_);
    auto port = api_->start();
    ASSERT_TRUE(port) << port.error().to_string();
    port_ = *port;
  }

  std::int64_t make_user(const std::string& name, std::optional<int> level) {
    auto u = pool_.transact([&](db::Tx& tx) -> Result<db::User> {
      db::User user;
      user.username = name;
      user.email = name + "@example.com";
      user.own_permission_level = level;
      auto h = password::hash(kOld);
      if (!h) return h.error();
      user.password_hash = *h;
      return db::users::create(tx, user);
    });
    EXPECT_TRUE(u) << u.error().to_string();
    return u ? u->id : 0;
  }

  std::unique_ptr<ApiClient> session(const std::string& user, const std::string& pw = kOld) {
    auto c = std::make_unique<ApiClient>(port_);
    EXPECT_TRUE(c->sign_in(user, pw)) << user << " could not sign in";
    return c;
  }

  bool can_sign_in(const std::string& pw) {
    ApiClient c(port_);
    return c.sign_in("alice", pw);
  }

  std::unique_ptr<ApiClient> admin() { return session("root"); }

  std::string dsn_ = db::testing::migrated_database("webapi_me_password");
  db::Pool pool_{db::PoolSettings{dsn_, 4}};
  ManualClock clock_{std::chrono::system_clock::now()};
  std::unique_ptr<WebApi> api_;
  int port_ = 0;
  std::int64_t alice_ = 0, root_ = 0;
};

TEST_F(MePasswordTest, TheNewPasswordSignsInAndTheOldOneNoLonger) {
  auto me = session("alice");
  auto r = me->put(kPath, {{"current_password", kOld}, {"new_password", kNew}});
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(can_sign_in(kNew));
  EXPECT_FALSE(can_sign_in(kOld));

  // The audit row names the user, the caller's address and how many sessions ended
  // (none: alice had no other session when she changed it).
  auto audit = admin()->get("/api/v1/admin/audit?action=user.password_change");
  ASSERT_EQ(audit.status, 200) << audit.body;
  ASSERT_EQ(audit.json["events"].size(), 1u) << audit.body;
  const auto& e = audit.json["events"][0];
  EXPECT_EQ(e["actor"]["name"], "alice");
  EXPECT_EQ(e["object_id"], std::to_string(alice_));
  EXPECT_EQ(e["ip"], "127.0.0.1");
  EXPECT_EQ(e["details"]["sessions_ended"], 0);
  EXPECT_EQ(audit.body.find(kNew), std::string::npos) << "the audit row must not hold the password";
}

TEST_F(MePasswordTest, EveryOtherSessionEndsTheCallersStaysAndTokensStay) {
  auto me = session("alice");
  auto laptop = session("alice");
  auto phone = session("alice");
  auto token = pool_.transact(
      [&](db::Tx& tx) { return db::api_tokens::create(tx, alice_, "robot", std::nullopt, clock_.now()); });
  ASSERT_TRUE(token);
  ApiClient robot(port_);
  robot.bearer(token->plaintext);
  const std::string csrf_before = me->csrf_token();

  ASSERT_EQ(me->put(kPath, {{"current_password", kOld}, {"new_password", kNew}}).status, 204);

  expect_problem(laptop->get("/api/v1/me"), 401, "api.unauthenticated");
  expect_problem(phone->get("/api/v1/me"), 401, "api.unauthenticated");
  auto still = me->get("/api/v1/me");
  ASSERT_EQ(still.status, 200) << still.body;
  EXPECT_EQ(still.json["csrf_token"], csrf_before) << "the caller's session is kept, not rotated";
  EXPECT_EQ(robot.get("/api/v1/me").status, 200) << "API tokens are not revoked by a password change";
  // The kept session still changes things (its CSRF token is still the right one).
  EXPECT_EQ(me->put(kPath, {{"current_password", kNew}, {"new_password", kOld}}).status, 204);

  auto audit = admin()->get("/api/v1/admin/audit?action=user.password_change");
  ASSERT_EQ(audit.json["events"].size(), 2u) << audit.body;
  // Newest first: [1] is the first change, which ended the laptop's and the phone's.
  EXPECT_EQ(audit.json["events"][1]["details"]["sessions_ended"], 2) << audit.body;
  EXPECT_EQ(audit.json["events"][0]["details"]["sessions_ended"], 0) << audit.body;
}

TEST_F(MePasswordTest, AWrongCurrentPasswordChangesNothing) {
  auto me = session("alice");
  auto other = session("alice");
  auto r = expect_problem(me->put(kPath, {{"current_password", "not the password"}, {"new_password", kNew}}), 403,
                          "auth.current_password_wrong");
  EXPECT_NE(r["detail"].get<std::string>().find("current password"), std::string::npos);
  EXPECT_TRUE(can_sign_in(kOld));
  EXPECT_FALSE(can_sign_in(kNew));
  EXPECT_EQ(other->get("/api/v1/me").status, 200) << "a refused change ends no session";
  EXPECT_TRUE(admin()->get("/api/v1/admin/audit?action=user.password_change").json["events"].empty());
}

TEST_F(MePasswordTest, AWeakOrMissingNewPasswordIsAFieldError) {
  auto me = session("alice");
  auto r = expect_problem(me->put(kPath, {{"current_password", kOld}, {"new_password", "short"}}), 422,
                          "api.validation_failed");
  ASSERT_EQ(r["errors"].size(), 1u) << r.dump();
  EXPECT_EQ(r["errors"][0]["field"], "/new_password");
  EXPECT_EQ(r["errors"][0]["code"], "api.field_too_short");
  EXPECT_NE(r["errors"][0]["detail"].get<std::string>().find("10"), std::string::npos) << r.dump();

  r = expect_problem(me->put(kPath, json::object()), 422, "api.validation_failed");
  EXPECT_EQ(r["errors"].size(), 2u) << r.dump();
  r = expect_problem(me->put(kPath, {{"current_password", kOld}, {"new_password", kNew}, {"password", "x"}}), 422,
                     "api.validation_failed");
  EXPECT_EQ(r["errors"][0]["field"], "/password");
  EXPECT_TRUE(can_sign_in(kOld)) << "nothing was changed";
}

TEST_F(MePasswordTest, AnApiTokenIsRefused) {
  auto token = pool_.transact(
      [&](db::Tx& tx) { return db::api_tokens::create(tx, alice_, "robot", std::nullopt, clock_.now()); });
  ASSERT_TRUE(token);
  ApiClient robot(port_);
  robot.bearer(token->plaintext);
  expect_problem(robot.put(kPath, {{"current_password", kOld}, {"new_password", kNew}}), 403,
                 "auth.session_required");
  EXPECT_TRUE(can_sign_in(kOld));
  ApiClient nobody(port_);
  expect_problem(nobody.put(kPath, {{"current_password", kOld}, {"new_password", kNew}}), 401, "api.unauthenticated");
}

TEST_F(MePasswordTest, WrongCurrentPasswordsShareTheSignInThrottle) {
  auto me = session("alice");  // a successful sign-in leaves the account's bucket full
  for (int i = 0; i < kBurst; ++i) {
    expect_problem(me->put(kPath, {{"current_password", "guess " + std::to_string(i)}, {"new_password", kNew}}), 403,
                   "auth.current_password_wrong");
  }
  // The bucket is empty: even the right password waits, and so does signing in.
  auto r = me->put(kPath, {{"current_password", kOld}, {"new_password", kNew}});
  expect_problem(r, 429, "api.rate_limited");
  EXPECT_FALSE(r.header("Retry-After").empty());
  ApiClient form(port_);
  EXPECT_FALSE(form.sign_in("alice", kOld)) << "the sign-in form shares the bucket";

  clock_.advance(std::chrono::seconds(60));  // one attempt back
  ASSERT_EQ(me->put(kPath, {{"current_password", kOld}, {"new_password", kNew}}).status, 204);
  // Success cleared the account's bucket: a full burst of wrong tries is refused as
  // wrong, not as throttled.
  for (int i = 0; i < kBurst; ++i) {
    expect_problem(me->put(kPath, {{"current_password", "guess " + std::to_string(i)}, {"new_password", kOld}}), 403,
                   "auth.current_password_wrong");
  }
  EXPECT_FALSE(can_sign_in(kNew)) << "the burst is spent again";
}

}  // namespace
}  // namespace faxbridge::webapi
