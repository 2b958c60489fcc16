#include "faxbridge/db/testing/pg_cluster.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <vector>

#include "faxbridge/db/migrate.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db::testing {
namespace fs = std::filesystem;

// Ports for test servers. A port the kernel hands out for bind(0) lies in its ephemeral
// range, which is also where every outgoing connection takes its source port: on a busy
// CI machine some other test's Postgres or HTTP client took the port between the pick and
// the server's bind ("Address already in use"). So ports come from 10000-19999, below
// that range and below the media ports the gateway tests spread over 20000-32000 by
// process id, and a lock file held for the
// life of this process keeps two test processes running side by side from picking the
// same one; the kernel drops the lock when the process dies.
namespace {

bool bindable(int type, int port) {
  int s = ::socket(AF_INET, type, 0);
  if (s < 0) return false;
  int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as the servers bind
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

int ephemeral_low() {
  int low = 32768;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d", &low) != 1) low = 32768;
    std::fclose(f);
  }
  return low;
}

// Holds <dir>/<port> locked until the process ends; false when another process holds it.
bool claim_across_processes(int port) {
  static const fs::path dir = fs::temp_directory_path() / "faxbridge-test-ports";
  std::error_code ec;
  if (fs::create_directories(dir, ec)) fs::permissions(dir, fs::perms::all | fs::perms::sticky_bit, ec);
  const std::string file = (dir / std::to_string(port)).string();
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return true;  // no lock directory: fall back to the bind checks alone
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return false;
  }
  return true;  // fd stays open on purpose: the lock lasts as long as this process
}

}  // namespace

int free_port() {
  static std::mutex mutex;
  static std::set<int> handed_out;
  std::lock_guard lock(mutex);
  const int low = 10000;
  const int high = std::min(20000, ephemeral_low());
  if (high - low < 1000) {  // an unusual kernel setting: take what bind(0) gives
    for (int tries = 0; tries < 100; ++tries) {
      int s = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof a;
      int port = 0;
      if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
          ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
      ::close(s);
      if (port != 0 && handed_out.insert(port).second) return port;
    }
    return 0;
  }
  static std::mt19937 random(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  const int span = high - low;
  int port = low + static_cast<int>(random() % static_cast<unsigned>(span));
  for (int tries = 0; tries < span; ++tries, port = low + (port - low + 1) % span) {
    if (handed_out.count(port)) continue;
    if (!bindable(SOCK_STREAM, port) || !bindable(SOCK_DGRAM, port)) continue;
    if (!claim_across_processes(port)) continue;
    handed_out.insert(port);
    return port;
  }
  return 0;
}

int run_command(const std::vector<std::string>& argv, const std::string& run_as, const std::string& log_file) {
  uid_t uid = 0;
  gid_t gid = 0;
  const bool switch_user = !run_as.empty() && ::geteuid() == 0;
  if (switch_user) {
    passwd* pw = ::getpwnam(run_as.c_str());
    if (!pw) {
      std::cerr << "pg_cluster: user " << run_as << " does not exist; run scripts/setup\n";
      return 127;
    }
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  pid_t pid = ::fork();
  if (pid < 0) return 127;
  if (pid == 0) {
    if (!log_file.empty()) {
      int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
    }
    if (switch_user && (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)) _exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

Error harness_error(const std::string& what, const std::string& dir) {
  return Error(Code::k_io_failed, "The test PostgreSQL cluster could not " + what +
                                      "; see the log under " + dir + " (is postgresql-15 installed? run scripts/setup).");
}

}  // namespace

Result<std::unique_ptr<PgCluster>> PgCluster::start(ClusterOptions options) {
  std::unique_ptr<PgCluster> c(new PgCluster());
  if (const char* dsn = std::getenv("FAXBRIDGE_TEST_PG_DSN"); dsn && *dsn) {
    c->admin_dsn_ = dsn;
    return c;
  }
  c->owned_ = true;
  c->durable_ = options.durable;
  c->max_connections_ = options.max_connections;
  c->bindir_ = env_or("FAXBRIDGE_PG_BINDIR", "/usr/lib/postgresql/15/bin");
  c->run_as_ = ::geteuid() == 0 ? options.run_as : "";
  char tmpl[] = "/tmp/faxbridge-pg-XXXXXX";
  if (!::mkdtemp(tmpl)) return harness_error("make a temporary folder", "/tmp");
  c->dir_ = tmpl;
  if (!c->run_as_.empty()) {
    passwd* pw = ::getpwnam(c->run_as_.c_str());
    if (!pw) {
      return Error(Code::k_io_failed, "The user " + c->run_as_ +
                                          " that runs the test PostgreSQL does not exist; run scripts/setup.");
    }
    if (::chown(c->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) return harness_error("chown its folder", c->dir_);
  }
  const std::string data = c->dir_ + "/data";
  if (run_command({c->bindir_ + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8",
                   "--locale=C"},
                  c->run_as_, c->dir_ + "/initdb.log") != 0) {
    return harness_error("be initialised", c->dir_);
  }
  auto r = c->restart();
  if (!r) return r.error();
  return c;
}

Result<void> PgCluster::restart() {
  if (!owned_) return ok();
  // Another process may grab the free port between our probe and the bind: retry.
  for (int tries = 0; tries < 5; ++tries) {
    if (port_ == 0 || tries > 0) port_ = free_port();
    std::string opts = "-p " + std::to_string(port_) + " -k " + dir_ +
                       " -c listen_addresses=127.0.0.1 -c max_connections=" + std::to_string(max_connections_);
    if (!durable_) opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
    // For looking inside a run (e.g. "-c shared_preload_libraries=pg_stat_statements"):
    // never set by the tests themselves.
    if (const char* extra = std::getenv("FAXBRIDGE_TEST_PG_OPTIONS"); extra && *extra) opts += std::string(" ") + extra;
    if (run_command({bindir_ + "/pg_ctl", "-w", "-t", "60", "-D", dir_ + "/data", "-o", opts, "-l",
                     dir_ + "/server.log", "start"},
                    run_as_, dir_ + "/pg_ctl.log") == 0) {
      admin_dsn_ = "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
      return ok();
    }
  }
  return harness_error("start", dir_);
}

Result<void> PgCluster::stop() {
  if (!owned_) return ok();
  if (run_command({bindir_ + "/pg_ctl", "-w", "-D", dir_ + "/data", "-m", "fast", "stop"}, run_as_,
                  dir_ + "/pg_ctl.log") != 0) {
    return harness_error("stop", dir_);
  }
  return ok();
}

PgCluster::~PgCluster() {
  if (!owned_) return;
  run_command({bindir_ + "/pg_ctl", "-w", "-D", dir_ + "/data", "-m", "immediate", "stop"}, run_as_,
              dir_ + "/pg_ctl.log");
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

Result<std::string> PgCluster::create_database(const std::string& prefix) {
  static std::atomic<int> counter{0};
  const std::string name = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  try {
    pqxx::connection conn(admin_dsn_);
    pqxx::nontransaction w(conn);
    w.exec("CREATE DATABASE " + w.quote_name(name));
  } catch (const std::exception& e) {
    return Error(Code::k_db_unavailable, "Creating the test database failed.").with("reason", e.what());
  }
  // Same server, other database: rewrite dbname in the DSN (key=value form).
  std::string dsn = admin_dsn_;
  auto pos = dsn.find("dbname=");
  if (pos != std::string::npos) {
    auto end = dsn.find(' ', pos);
    dsn.replace(pos, end == std::string::npos ? std::string::npos : end - pos, "dbname=" + name);
  } else {
    dsn += " dbname=" + name;
  }
  ++databases_;
  return dsn;
}

PgCluster& shared_cluster() {
  static std::unique_ptr<PgCluster> cluster = [] {
    auto c = PgCluster::start();
    if (!c) {
      std::cerr << c.error().to_string() << "\n";
      std::abort();
    }
    return std::move(c).value();
  }();
  return *cluster;
}

std::string migrated_database(const std::string& prefix) {
  auto dsn = shared_cluster().create_database(prefix);
  if (!dsn) {
    std::cerr << dsn.error().to_string() << "\n";
    std::abort();
  }
  Pool pool(PoolSettings{*dsn, 1});
  auto m = migrate(pool);
  if (!m) {
    std::cerr << m.error().to_string() << "\n";
    std::abort();
  }
  return *dsn;
}

}  // namespace faxbridge::db::testing
