// `faxbridge tokens create` against a real database: the token is printed once, alone
// on stdout, works as the user's credential and is stored only as its hash; an unknown
// user or an empty name is refused with its code and a sentence.
#include <gtest/gtest.h>

#include <sstream>

#include "commands.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"

namespace faxbridge::cli {
namespace {

TEST(TokenCommands, CreatePrintsATokenOnceThatActsAsTheUser) {
  const std::string dsn = db::testing::migrated_database("cli_tokens");
  std::ostringstream out, err;
  NewUserArgs a;
  a.username = "admin";
  a.permission_level = 10;
  ASSERT_EQ(users_add(dsn, a, out, err), 0) << err.str();

  out.str("");
  err.str("");
  ASSERT_EQ(tokens_create(dsn, "Admin", "bootstrap", out, err), 0) << err.str();
  const std::string printed = out.str();
  ASSERT_EQ(printed.rfind("fbx_", 0), 0u) << printed;
  ASSERT_EQ(printed.back(), '\n');
  const std::string token = printed.substr(0, printed.size() - 1);
  EXPECT_EQ(token.find_first_of(" \t\n"), std::string::npos) << "the token alone on stdout";
  EXPECT_NE(err.str().find("shown only now"), std::string::npos) << err.str();
  EXPECT_EQ(err.str().find(token), std::string::npos);

  db::Pool pool(db::PoolSettings{dsn, 1});
  auto caller = pool.transact(
      [&](db::Tx& tx) { return db::api_tokens::authenticate(tx, token, std::chrono::system_clock::now()); });
  ASSERT_TRUE(caller && caller->has_value());
  EXPECT_EQ((*caller)->user.username, "admin");
  EXPECT_EQ((*caller)->user.permission_level, 10);
  EXPECT_EQ((*caller)->token.name, "bootstrap");

  // A second run makes a second token; the first is not shown again.
  out.str("");
  ASSERT_EQ(tokens_create(dsn, "admin", "ci", out, err), 0);
  EXPECT_EQ(out.str().find(token), std::string::npos);
}

TEST(TokenCommands, RefusalsCarryACodeAndASentence) {
  const std::string dsn = db::testing::migrated_database("cli_tokens_err");
  std::ostringstream out, err;
  EXPECT_EQ(tokens_create(dsn, "nobody", "bootstrap", out, err), 1);
  EXPECT_NE(err.str().find("[user.not_found] No user is named \"nobody\"."), std::string::npos) << err.str();
  EXPECT_EQ(out.str(), "");
  NewUserArgs a;
  a.username = "rossi";
  ASSERT_EQ(users_add(dsn, a, out, err), 0);
  err.str("");
  EXPECT_EQ(tokens_create(dsn, "rossi", "", out, err), 2);
  EXPECT_NE(err.str().find("[user.invalid]"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace faxbridge::cli
