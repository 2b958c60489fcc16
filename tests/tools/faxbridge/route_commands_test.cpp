// `faxbridge routes add|list|set` against a real database: first-run seeding adds a
// default route only when there is none, the list shows each address with its health,
// and a route's T.38 policy is given when it is added and changed later.
#include <gtest/gtest.h>

#include <sstream>

#include "commands.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/routes.hpp"
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

namespace faxbridge::cli {
namespace {

db::Route route_with_prefix(const std::string& dsn, const std::string& prefix) {
  db::Pool pool(db::PoolSettings{dsn, 1});
  auto routes = pool.transact([](db::Tx& tx) { return db::routes::list(tx); });
  EXPECT_TRUE(routes);
  for (const auto& r : *routes)
    if (r.prefix == prefix) return r;
  ADD_FAILURE() << "no route for " << prefix;
  return {};
}

TEST(RouteCommands, TheT38PolicyIsSetWhenARouteIsAddedAndChangedLaterWithoutSql) {
  const std::string dsn = db::testing::migrated_database("cli_t38");
  std::ostringstream out, err;
  NewRouteArgs pbx;
  pbx.prefix = "0049";
  pbx.addresses = {"pbx.example.test"};
  pbx.t38_policy = "off";
  ASSERT_EQ(routes_add(dsn, pbx, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("T.38 policy off"), std::string::npos) << out.str();
  const auto added = route_with_prefix(dsn, "0049");
  EXPECT_EQ(added.t38_policy, "off");

  out.str("");
  ASSERT_EQ(routes_set(dsn, added.id, {std::string("require")}, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("T.38 policy require"), std::string::npos) << out.str();
  EXPECT_EQ(route_with_prefix(dsn, "0049").t38_policy, "require");
  out.str("");
  ASSERT_EQ(routes_list(dsn, out, err), 0);
  EXPECT_NE(out.str().find("prefix 0049  t38 require"), std::string::npos) << out.str();

  // A name the gateway does not know is bad input, refused before the database.
  std::ostringstream err2;
  EXPECT_EQ(routes_set(dsn, added.id, {std::string("t38")}, out, err2), 2);
  EXPECT_NE(err2.str().find("[config.invalid] --t38-policy must be auto, require or off; got \"t38\"."),
            std::string::npos) << err2.str();
  EXPECT_EQ(route_with_prefix(dsn, "0049").t38_policy, "require");
  NewRouteArgs typo = pbx;
  typo.prefix = "0033";
  typo.t38_policy = "Off";
  std::ostringstream err3;
  EXPECT_EQ(routes_add(dsn, typo, out, err3), 2);
  EXPECT_NE(err3.str().find("--t38-policy"), std::string::npos) << err3.str();

  std::ostringstream err4;
  EXPECT_EQ(routes_set(dsn, added.id + 100, {std::string("auto")}, out, err4), 1);
  EXPECT_NE(err4.str().find("[route.not_found]"), std::string::npos) << err4.str();
  std::ostringstream err5;
  EXPECT_EQ(routes_set(dsn, added.id, {}, out, err5), 2);
  EXPECT_NE(err5.str().find("--t38-policy"), std::string::npos) << err5.str();
}

}  // namespace
}  // namespace faxbridge::cli
