// `faxbridge routes add|list` against a real database: first-run seeding adds a default
// route only when there is none, and the list shows each address with its health.
#include <gtest/gtest.h>

#include <sstream>

#include "commands.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"

namespace faxbridge::cli {
namespace {

TEST(RouteCommands, SeedingAddsADefaultRouteOnlyWhenThereIsNoneAndListShowsHealth) {
  auto dsn = db::testing::shared_cluster().create_database("cli_routes");
  ASSERT_TRUE(dsn);
  std::ostringstream out, err;
  ASSERT_EQ(migrate(*dsn, 0, out, err), 0) << err.str();
  out.str("");
  ASSERT_EQ(routes_list(*dsn, out, err), 0);
  EXPECT_NE(out.str().find("No routes"), std::string::npos) << out.str();

  NewRouteArgs seed;
  seed.is_default = true;
  seed.addresses = {"127.0.0.1:5064"};
  seed.only_if_none = true;
  out.str("");
  ASSERT_EQ(routes_add(*dsn, seed, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("added (default, 1 address(es))"), std::string::npos) << out.str();
  out.str("");
  ASSERT_EQ(routes_add(*dsn, seed, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("nothing added"), std::string::npos) << out.str();

  NewRouteArgs prefix;
  prefix.prefix = "0039";
  prefix.addresses = {"gw1.example.test", "gw2.example.test:5080"};
  ASSERT_EQ(routes_add(*dsn, prefix, out, err), 0) << err.str();
  NewRouteArgs empty;
  empty.prefix = "1";
  EXPECT_EQ(routes_add(*dsn, empty, out, err), 2);
  EXPECT_NE(err.str().find("config.invalid"), std::string::npos) << err.str();

  db::Pool pool(db::PoolSettings{*dsn, 1});
  ASSERT_TRUE(pool.transact([](db::Tx& tx) {
    return db::gateway_health::report(tx, {"gw1.example.test", "down", std::nullopt, "OPTIONS failed with 408", 408});
  }));
  out.str("");
  ASSERT_EQ(routes_list(*dsn, out, err), 0);
  const std::string listed = out.str();
  EXPECT_NE(listed.find("default"), std::string::npos) << listed;
  EXPECT_NE(listed.find("prefix 0039"), std::string::npos) << listed;
  EXPECT_NE(listed.find("down  OPTIONS failed with 408"), std::string::npos) << listed;
  EXPECT_NE(listed.find("gw2.example.test:5080"), std::string::npos) << listed;
  EXPECT_NE(listed.find("not pinged yet"), std::string::npos) << listed;
}

}  // namespace
}  // namespace faxbridge::cli
