#pragma once
// The test harness's throw-away PostgreSQL 15 cluster: initdb into a temporary folder,
// a private socket folder and a free loopback port, torn down by the destructor.
// PostgreSQL refuses to run as root, so when the tests run as root (CI) the server runs
// as the unprivileged user that scripts/setup creates (faxbridge-test).
// With FAXBRIDGE_TEST_PG_DSN set, no cluster is started and that server is used.
#include <memory>
#include <string>

#include "faxbridge/core/result.hpp"

namespace faxbridge::db::testing {

struct ClusterOptions {
  bool durable = false;  // fsync on (benchmarks); tests run with fsync off
  std::string run_as = "faxbridge-test";
  int max_connections = 200;
};

class PgCluster final {
 public:
  static Result<std::unique_ptr<PgCluster>> start(ClusterOptions options = {});
  ~PgCluster();

  // DSN of the maintenance database ("postgres").
  const std::string& admin_dsn() const { return admin_dsn_; }
  // Creates an empty database and returns its DSN. Names are made unique per call.
  Result<std::string> create_database(const std::string& prefix = "t");
  // Stops and starts the server on the same port (tests of an outage).
  Result<void> stop();
  Result<void> restart();
  int port() const { return port_; }

 private:
  PgCluster() = default;
  std::string dir_;
  std::string bindir_;
  std::string admin_dsn_;
  std::string run_as_;
  int port_ = 0;
  bool owned_ = false;  // false when FAXBRIDGE_TEST_PG_DSN points at an outside server
  bool durable_ = false;
  int max_connections_ = 200;
  int databases_ = 0;
};

// One cluster per test process, started on first use, stopped at exit.
PgCluster& shared_cluster();
// A fresh database with the whole schema migrated, on the shared cluster.
std::string migrated_database(const std::string& prefix = "t");

// Runs argv, optionally as another user (when root); returns the exit status.
int run_command(const std::vector<std::string>& argv, const std::string& run_as = "",
                const std::string& log_file = "");

// A port on 127.0.0.1, free for TCP and UDP a moment ago, below the kernel's ephemeral
// range and held for this process alone (pg_cluster.cpp says why).
int free_port();

}  // namespace faxbridge::db::testing
