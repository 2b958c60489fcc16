#include "commands.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "faxbridge/core/password.hpp"
#include "faxbridge/db/migrate.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::cli {
namespace {

TEST(Commands, MigrateThenBootstrapAnAdministrator) {
  auto dsn = db::testing::shared_cluster().create_database("cli");
  ASSERT_TRUE(dsn);
  std::ostringstream out, err;
  ASSERT_EQ(migrate(*dsn, 0, out, err), 0) << err.str();
  const auto applied = "Applied " + std::to_string(db::builtin_migrations().size()) + " migration(s)";
  EXPECT_NE(out.str().find(applied), std::string::npos) << out.str();
  out.str("");
  ASSERT_EQ(migrate(*dsn, 0, out, err), 0);
  EXPECT_NE(out.str().find("up to date"), std::string::npos);

  NewUserArgs a;
  a.username = "admin";
  a.display_name = "Fax Admin";
  a.email = "fax-admin@example.com";
  a.fax_number = "+39 02 9786-5400";
  a.permission_level = 10;
  a.password = "a long enough secret";
  out.str("");
  ASSERT_EQ(users_add(*dsn, a, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("fax number +390297865400"), std::string::npos) << out.str();

  db::Pool pool(db::PoolSettings{*dsn, 1});
  auto u = pool.transact([](db::Tx& tx) { return db::users::by_username(tx, "admin"); });
  ASSERT_TRUE(u);
  EXPECT_EQ(u->permission_level, 10);
  EXPECT_EQ(u->fax_to_email_address, "fax-admin@example.com");
  ASSERT_TRUE(u->password_hash);
  EXPECT_TRUE(password::verify(*u->password_hash, "a long enough secret"));

  out.str("");
  ASSERT_EQ(users_list(*dsn, false, out, err), 0);
  EXPECT_NE(out.str().find("admin"), std::string::npos);
  out.str("");
  ASSERT_EQ(users_list(*dsn, true, out, err), 0);
  EXPECT_NE(out.str().find("\"permission_level\": 10"), std::string::npos) << out.str();
}

TEST(Commands, RefusalsCarryACodeAndASentence) {
  const std::string dsn = db::testing::migrated_database("clierr");
  std::ostringstream out, err;
  NewUserArgs a;
  a.username = "rossi";
  ASSERT_EQ(users_add(dsn, a, out, err), 0);
  EXPECT_EQ(users_add(dsn, a, out, err), 1);
  EXPECT_NE(err.str().find("[user.exists] A user named \"rossi\" already exists."), std::string::npos) << err.str();

  err.str("");
  a.username = "verdi";
  a.fax_number = "FAX-ME";
  EXPECT_EQ(users_add(dsn, a, out, err), 2);
  EXPECT_NE(err.str().find("[phone.invalid]"), std::string::npos) << err.str();

  err.str("");
  a.fax_number.clear();
  a.password = "short";
  EXPECT_EQ(users_add(dsn, a, out, err), 2);
  EXPECT_NE(err.str().find("[auth.password_invalid]"), std::string::npos);
}

TEST(Commands, MigrateReportsAnUnreachableDatabase) {
  std::ostringstream out, err;
  const std::string dsn = "host=127.0.0.1 port=" + std::to_string(db::testing::free_port()) +
                          " user=postgres connect_timeout=2";
  EXPECT_EQ(migrate(dsn, 0, out, err), 1);
  EXPECT_NE(err.str().find("[db.unavailable]"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace faxbridge::cli

#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/records.hpp"

namespace faxbridge::cli {
namespace {

TEST(Commands, StatusShowsHistoryAndCallsAndCancelStopsAJob) {
  const std::string dsn = db::testing::migrated_database("clijob");
  db::Pool pool(db::PoolSettings{dsn, 1});
  auto job = pool.transact([](db::Tx& tx) -> Result<db::Job> {
    db::NewJob n;
    n.recipient_number = n.recipient_canonical = "+390297865403";
    auto j = db::jobs::create(tx, n, "test");
    if (!j) return j;
    if (auto t = db::jobs::transition(tx, j->id, "submitted", "converting", "conv-1"); !t) return t;
    if (auto t = db::jobs::transition(tx, j->id, "converting", "ready", "conv-1"); !t) return t;
    auto a = db::attempts::open(tx, {j->id, "gw-1", std::nullopt, "pbx", "0297865403"});
    if (!a) return a.error();
    db::AttemptEnd end;
    end.outcome = db::Outcome::kBusy;
    end.sip_status = 486;
    end.error_code = "call.busy";
    if (auto c = db::attempts::close(tx, *a, end); !c) return c.error();
    return db::jobs::get(tx, j->id);
  });
  ASSERT_TRUE(job) << job.error().to_string();
  std::ostringstream out, err;
  ASSERT_EQ(job_status(dsn, job->id, out, err), 0) << err.str();
  const std::string s = out.str();
  EXPECT_NE(s.find("state ready"), std::string::npos) << s;
  EXPECT_NE(s.find("-> converting"), std::string::npos) << s;
  EXPECT_NE(s.find("busy  SIP 486"), std::string::npos) << s;

  out.str("");
  ASSERT_EQ(job_cancel(dsn, "tcp://127.0.0.1:1", job->id, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("Cancelled fax job"), std::string::npos);
  err.str("");
  EXPECT_EQ(job_cancel(dsn, "tcp://127.0.0.1:1", job->id, out, err), 1);
  EXPECT_NE(err.str().find("[job.not_cancellable]"), std::string::npos) << err.str();
  EXPECT_EQ(job_status(dsn, 424242, out, err), 1);
}

}  // namespace
}  // namespace faxbridge::cli
