#pragma once
// DESIGN: the common ground of the web API tests, so that each test file says only what
// its world holds. WebApiFixture owns a throw-away migrated Postgres database (named
// after the test file's prefix), a pool over it and a ManualClock set to now; it starts
// the real WebApi (libs/api server, database authenticator, every /api/v1 endpoint) on
// an ephemeral loopback port with the settings a test passes, over that clock or another
// one (the permission matrix and the bad-input sweep keep the system clock). It makes
// users the way the administration does (db::users::create, a hashed password unless a
// test wants none), API tokens for them (db::api_tokens::create, the clock's now), and
// ApiClients holding a token; the WebApi gets a FAXBRIDGE_SECRET_KEY (kTestSecretKey) as
// the service's main passes it, unless a test says without_secret_key_; those clients check every reply against
// docs/api/openapi.yaml. The derived fixtures (admin_config_fixture.hpp,
// admin_people_fixture.hpp, inbox_fixture.hpp) and the test files add only their callers
// and their data.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/password.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/testing/api_client.hpp"
#include "faxbridge/webapi/web_api.hpp"

namespace faxbridge::webapi::testing_support {

inline constexpr const char* kTestPassword = "correct horse battery";
// The FAXBRIDGE_SECRET_KEY every test's WebApi gets (secret settings are sealed with it),
// unless the test turns it off (without_secret_key_).
inline constexpr const char* kTestSecretKey = "5e0c3b2a19f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5";

// How a test's user differs from the usual one (a password, no fax number, the display
// name "<name> Example", email <name>@example.com).
struct UserOptions {
  // nullopt: no password, the account can only use tokens.
  std::optional<std::string> password = std::string(kTestPassword);
  std::optional<std::string> fax_number{};
  // nullopt: "<name> Example".
  std::optional<std::string> display_name{};
};

class WebApiFixture : public ::testing::Test {
 protected:
  explicit WebApiFixture(const std::string& database_prefix)
      : dsn_(db::testing::migrated_database(database_prefix)) {}

  // Binds the WebApi to 127.0.0.1 on an ephemeral port; call it with
  // ASSERT_NO_FATAL_FAILURE so a server that does not start ends the test's SetUp.
  void start_api(WebApiSettings settings = {}) { start_api(std::move(settings), clock_); }
  void start_api(WebApiSettings settings, const Clock& clock) {
    settings.server.bind_address = "127.0.0.1";
    settings.server.port = 0;
    if (settings.secret_key.empty() && !without_secret_key_) settings.secret_key = kTestSecretKey;
    api_clock_ = &clock;
    api_ = std::make_unique<WebApi>(pool_, settings, clock);
    auto port = api_->start();
    ASSERT_TRUE(port) << port.error().to_string();
    port_ = *port;
  }

  // level nullopt: the user inherits the default level (2, a fax user).
  std::int64_t make_user(const std::string& name, std::optional<int> level, const UserOptions& o = {}) {
    auto u = pool_.transact([&](db::Tx& tx) -> Result<db::User> {
      db::User user;
      user.username = name;
      user.display_name = o.display_name.value_or(name + " Example");
      user.email = name + "@example.com";
      user.fax_number = o.fax_number;
      user.own_permission_level = level;
      if (o.password) {
        auto h = password::hash(*o.password);
        if (!h) return h.error();
        user.password_hash = *h;
      }
      return db::users::create(tx, user);
    });
    EXPECT_TRUE(u) << u.error().to_string();
    return u ? u->id : 0;
  }

  // A new API token of the user, its text. Created at the WebApi's clock's now, so a
  // ManualClock's tokens are not from the future.
  std::string token_for(std::int64_t user_id, const std::string& name = "test") {
    auto t = pool_.transact(
        [&](db::Tx& tx) { return db::api_tokens::create(tx, user_id, name, std::nullopt, api_clock_->now()); });
    EXPECT_TRUE(t) << t.error().to_string();
    return t ? t->plaintext : "";
  }

  // A client that carries a new token of the user.
  faxbridge::testing::ApiClient as(std::int64_t user_id) {
    faxbridge::testing::ApiClient c(port_);
    c.bearer(token_for(user_id));
    return c;
  }

  pqxx::result sql(const std::string& statement) {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    auto r = w.exec(statement);
    w.commit();
    return r;
  }
  // Outside a transaction (VACUUM).
  void sql_autocommit(const std::string& statement) {
    pqxx::connection c(dsn_);
    pqxx::nontransaction w(c);
    w.exec(statement);
  }
  // The first column of the first row; empty when there is none or it is NULL. Not
  // committed: a query, not a change.
  std::string sql_value(const std::string& query) {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    auto r = w.exec(query);
    return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].as<std::string>();
  }

  // Declared in this order because each is built from the ones above it.
  std::string dsn_;
  db::Pool pool_{db::PoolSettings{dsn_, 4}};
  ManualClock clock_{std::chrono::system_clock::now()};
  const Clock* api_clock_ = &clock_;
  std::unique_ptr<WebApi> api_;
  int port_ = 0;
  // Set before start_api: the WebApi runs with no FAXBRIDGE_SECRET_KEY.
  bool without_secret_key_ = false;
};

}  // namespace faxbridge::webapi::testing_support
