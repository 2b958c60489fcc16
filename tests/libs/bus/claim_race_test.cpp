// The claim-and-sweep loop across real processes: the faxbridge-bus forwarder, several
// queue_worker processes (each a service over the real runtime, queue, consumer and
// work feed) and the real throw-away Postgres. The test process publishes the work
// messages, kills workers, and reads the database.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/testing/process.hpp"

namespace faxbridge {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::eventually;

struct Worker {
  std::string name;
  int http_port;
  std::string log_file;
  std::unique_ptr<Child> process;
};

class ClaimRace : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = db::testing::migrated_database("race");
    bus_ = testing::start_bus(FAXBRIDGE_BUS_BIN, ports_);
    char tmpl[] = "/tmp/faxbridge-race-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override {
    workers_.clear();
    if (HasFailure()) {
      std::cerr << "worker logs kept in " << dir_ << "\n";
    } else {
      std::filesystem::remove_all(dir_);
    }
  }

  Worker& start_worker(const std::string& name, std::map<std::string, std::string> extra = {}) {
    Worker w{name, testing::free_port(), dir_ + "/" + name + ".log", nullptr};
    std::map<std::string, std::string> env{
        {"FAXBRIDGE_DB_DSN", dsn_},
        {"FAXBRIDGE_INSTANCE_ID", name},
        {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", ports_.publish_endpoint()},
        {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", ports_.subscribe_endpoint()},
        {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
        {"FAXBRIDGE_HTTP_PORT", std::to_string(w.http_port)},
        {"FAXBRIDGE_DB_POOL_SIZE", "6"}};
    for (auto& [k, v] : extra) env[k] = v;
    w.process = std::make_unique<Child>(FAXBRIDGE_QUEUE_WORKER_BIN, std::vector<std::string>{}, env, w.log_file);
    workers_.push_back(std::move(w));
    return workers_.back();
  }

  static int healthz(const Worker& w) {
    httplib::Client c("127.0.0.1", w.http_port);
    c.set_connection_timeout(1);
    auto r = c.Get("/healthz");
    return r ? r->status : 0;
  }

  void insert_jobs(int n) {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    w.exec_params("INSERT INTO fax_jobs (source, recipient_number, recipient_canonical) "
                  "SELECT 'api', '40' || i, '40' || i FROM generate_series(1, $1) i",
                  n);
    w.commit();
  }

  std::int64_t count(const std::string& sql) {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    return w.exec(sql)[0][0].as<std::int64_t>();
  }

  std::vector<std::int64_t> ids() {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    std::vector<std::int64_t> out;
    for (const auto& row : w.exec("SELECT id FROM fax_jobs ORDER BY id")) out.push_back(row[0].as<std::int64_t>());
    return out;
  }

  // The consumer.stats line a worker logs when it stops.
  static nlohmann::json stats_of(const Worker& w) {
    std::ifstream in(w.log_file);
    std::string line;
    nlohmann::json found;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("event", "") == "consumer.stats") found = j;
    }
    return found;
  }

  static bool log_has(const Worker& w, const std::string& event) {
    std::ifstream in(w.log_file);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("\"event\":\"" + event + "\"") != std::string::npos) return true;
    }
    return false;
  }

  void stop_all() {
    for (auto& w : workers_) w.process->signal(SIGTERM);
    for (auto& w : workers_) {
      auto status = w.process->wait(60s);
      ASSERT_TRUE(status.has_value()) << w.name << " did not stop";
      EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << w.name << " status " << *status;
    }
  }

  std::string dsn_;
  std::string dir_;
  testing::Ports ports_;
  std::unique_ptr<Child> bus_;
  std::vector<Worker> workers_;
};

TEST_F(ClaimRace, FourProcessesRacingOverTenThousandJobsProcessEachExactlyOnce) {
  constexpr int kJobs = 10000;
  for (int i = 0; i < 4; ++i) start_worker("worker-" + std::to_string(i), {{"TEST_WORKER_SWEEP_MS", "2000"}});
  for (auto& w : workers_) ASSERT_TRUE(eventually([&] { return healthz(w) == 200; }, 30s)) << w.name;

  insert_jobs(kJobs);
  bus::Publisher publisher(ports_.publish_endpoint(), "test", "race-test", nullptr);
  ASSERT_TRUE(eventually([&] { return publisher.connected(); }, 10s));
  // Garbage on the consumers' topic among the real messages: dropped, never fatal.
  int n = 0;
  for (auto id : ids()) {
    if (n++ % 100 == 0) (void)publisher.publish_raw("work.fax_jobs", "\xff\x01garbage");
    (void)bus::announce_work(publisher, "fax_jobs", id);
  }

  ASSERT_TRUE(eventually([&] { return count("SELECT count(*) FROM fax_jobs WHERE state = 'ready'") == kJobs; },
                         240s))
      << count("SELECT count(*) FROM fax_jobs WHERE state = 'ready'") << " of " << kJobs << " ready";
  stop_all();

  EXPECT_EQ(count("SELECT count(*) FROM audit_events WHERE action = 'test.processed'"), kJobs);
  EXPECT_EQ(count("SELECT count(DISTINCT object_id) FROM audit_events WHERE action = 'test.processed'"), kJobs);
  EXPECT_GE(count("SELECT count(DISTINCT actor) FROM audit_events WHERE action = 'test.processed'"), 2);
  std::int64_t by_message = 0, by_sweep = 0, completed = 0;
  for (const auto& w : workers_) {
    auto st = stats_of(w);
    ASSERT_FALSE(st.is_null()) << w.name << " logged no stats";
    by_message += st["by_message"].get<std::int64_t>();
    by_sweep += st["by_sweep"].get<std::int64_t>();
    completed += st["completed"].get<std::int64_t>();
  }
  EXPECT_EQ(by_message + by_sweep, kJobs);
  EXPECT_EQ(completed, kJobs);
  EXPECT_GT(by_message, 0) << "no job was claimed through a bus message";
  for (const auto& w : workers_) EXPECT_TRUE(log_has(w, "bus.malformed_message")) << w.name;
  std::cout << "claims by message: " << by_message << ", by sweep: " << by_sweep << "\n";
}

TEST_F(ClaimRace, JobsWhoseMessageWasNeverPublishedArePickedUpByTheSweep) {
  for (int i = 0; i < 2; ++i) start_worker("sweeper-" + std::to_string(i), {{"TEST_WORKER_SWEEP_MS", "500"}});
  for (auto& w : workers_) ASSERT_TRUE(eventually([&] { return healthz(w) == 200; }, 30s)) << w.name;
  insert_jobs(300);  // and no message at all
  ASSERT_TRUE(eventually([&] { return count("SELECT count(*) FROM fax_jobs WHERE state = 'ready'") == 300; }, 60s));
  stop_all();
  std::int64_t by_message = 0, by_sweep = 0;
  for (const auto& w : workers_) {
    by_message += stats_of(w)["by_message"].get<std::int64_t>();
    by_sweep += stats_of(w)["by_sweep"].get<std::int64_t>();
  }
  EXPECT_EQ(by_message, 0);
  EXPECT_EQ(by_sweep, 300);
  EXPECT_EQ(count("SELECT count(DISTINCT object_id) FROM audit_events WHERE action = 'test.processed'"), 300);
}

TEST_F(ClaimRace, AJobOfAConsumerKilledMidJobIsTakenOverAfterTheLeaseExpires) {
  const std::map<std::string, std::string> short_lease{{"TEST_WORKER_LEASE_MS", "1500"},
                                                       {"TEST_WORKER_SWEEP_MS", "200"}};
  auto extra = short_lease;
  extra["TEST_WORKER_MODE"] = "hang";
  Worker& doomed = start_worker("doomed", extra);
  ASSERT_TRUE(eventually([&] { return healthz(doomed) == 200; }, 30s));
  insert_jobs(1);
  ASSERT_TRUE(eventually([&] {
    return count("SELECT count(*) FROM fax_jobs WHERE state = 'converting' AND owner = 'doomed'") == 1;
  }, 30s));
  doomed.process->signal(SIGKILL);
  ASSERT_TRUE(doomed.process->wait(10s).has_value());

  Worker& heir = start_worker("heir", short_lease);
  ASSERT_TRUE(eventually([&] { return count("SELECT count(*) FROM fax_jobs WHERE state = 'ready'") == 1; }, 60s));
  EXPECT_EQ(count("SELECT count(*) FROM audit_events WHERE action = 'test.processed' AND actor = 'heir'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM audit_events WHERE action = 'test.processed'"), 1);
  heir.process->signal(SIGTERM);
  ASSERT_TRUE(heir.process->wait(30s).has_value());
  EXPECT_TRUE(log_has(heir, "queue.lease_taken_over"));
}

}  // namespace
}  // namespace faxbridge
