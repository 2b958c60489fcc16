#pragma once
// The base of the tests of services that work over the bus and the database (router, media
// gateway): a migrated database of the test's own on the throw-away cluster, faxbridge-bus
// as a real process, a connection pool, and a publisher already connected to the bus.
#include <gtest/gtest.h>

#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/testing/process.hpp"
#include "faxbridge/testing/sql.hpp"

namespace faxbridge::testing {

class BusAndDatabaseTest : public ::testing::Test {
 protected:
  // Call first in SetUp: `name` names the database and the publisher's instance,
  // `bus_binary` is the faxbridge-bus executable.
  void start_bus_and_database(const std::string& name, const std::string& bus_binary) {
    dsn_ = db::testing::migrated_database(name);
    bus_ = start_bus(bus_binary, ports_);
    pool_ = std::make_unique<db::Pool>(db::PoolSettings{dsn_, 8});
    publisher_ = std::make_unique<bus::Publisher>(ports_.publish_endpoint(), "test", name + "-test", nullptr);
    ASSERT_TRUE(eventually([&] { return publisher_->connected(); }, std::chrono::seconds(10)));
  }

  // One statement in its own transaction, committed.
  pqxx::result sql(const std::string& q) { return faxbridge::testing::committed_sql(dsn_, q); }

  std::string dsn_;
  Ports ports_;
  std::unique_ptr<Child> bus_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<bus::Publisher> publisher_;
};

}  // namespace faxbridge::testing
