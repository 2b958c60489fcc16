// bench/api: what the REST API serves on this machine, beside a bare cpp-httplib
// server (bench_api_ceiling, ceiling.cpp) answering a body of the same bytes, measured
// in the same run. A private PostgreSQL 15 (fsync on) holds 100,000 faxes of one API
// user; the real services run as processes: the bus, faxbridge-web-api and, unless
// --no-chain, the router, the document converter and two media gateways on the loopback
// line (scripts/run's layout), sending --background faxes (50) the whole time: a second
// user's faxes to numbers 50 other users own, one call per number, topped up as they end.
//
// Two tools (each figure says which made it):
// - wrk (Debian's 4.1, closed loop: each connection sends its next request when the
//   answer arrives) at a few connection counts: requests/s, and its p50/p99;
// - an open-loop generator here (cpp-httplib clients on threads): one request every
//   1/rate s for --open-seconds, each timed from the moment it was due, so a stall shows
//   in the latency of every request it delays (no coordinated omission): p50/p99 at the
//   issue's 200 requests/s.
// Measured: GET /api/v1/faxes (first page of 50, status=sent, status=failed, page 100
// by the cursor) and POST /api/v1/faxes (JSON, one file id, one recipient, send_at a day
// ahead so the measured faxes queue instead of adding to the 50 being sent; --post-now
// sends them at once).
// Usage: bench_api [--faxes N] [--repeats N] [--rate R] [--open-seconds S] [--wrk-seconds S]
//                  [--connections 1,8,32] [--background N] [--no-chain] [--post-now] [--smoke]
//                  [--hold]  (set up, print the DSN, API port and token, wait for EOF on stdin, then measure)
#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "../support/bare_claim.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/routes.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/document/testing/samples.hpp"
#include "faxbridge/testing/ports.hpp"
#include "faxbridge/testing/process.hpp"

using namespace faxbridge;
using namespace std::chrono_literals;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

namespace {

struct Options {
  int faxes = 100000;
  int repeats = 3;
  int rate = 200;
  double open_seconds = 15;
  int wrk_seconds = 5;
  std::vector<int> connections{1, 8, 32};
  int background = 50;
  bool chain = true;
  bool post_now = false;
  bool smoke = false;
  bool hold = false;
};

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::atoi(item.c_str()));
  return out;
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

// Unwinds to main, so the services and the cluster are stopped on the way.
[[noreturn]] void die(const std::string& why) { throw std::runtime_error(why); }

bool healthy(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1, 0);
  c.set_read_timeout(2, 0);
  auto r = c.Get("/healthz");
  return r && r->status == 200;
}

// --- the services ---------------------------------------------------------------------

struct Suite {
  std::string dsn;
  std::filesystem::path dir;
  faxbridge::testing::Ports bus_ports;
  std::vector<std::unique_ptr<faxbridge::testing::Child>> children;
  int api_port = 0;
  int api_side_port = 0;
  int ceiling_port = 0;
  std::unique_ptr<faxbridge::testing::Child> ceiling;

  std::map<std::string, std::string> common_env(const std::string& instance, int side_port) const {
    return {{"FAXBRIDGE_DB_DSN", dsn},
            {"FAXBRIDGE_INSTANCE_ID", instance},
            {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", bus_ports.publish_endpoint()},
            {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", bus_ports.subscribe_endpoint()},
            {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
            {"FAXBRIDGE_HTTP_PORT", std::to_string(side_port)}};
  }

  void start(const std::string& name, const std::string& binary, std::map<std::string, std::string> env,
             int side_port) {
    std::fflush(stdout);  // the child's freopen would write our buffer again
    auto child = std::make_unique<faxbridge::testing::Child>(binary, std::vector<std::string>{}, env,
                                                             (dir / (name + ".log")).string());
    const auto end = Steady::now() + 60s;
    while (!healthy(side_port)) {
      if (!child->running()) die(name + " exited at start; see " + (dir / (name + ".log")).string());
      if (Steady::now() > end) die(name + " is not healthy after 60 s; see " + (dir / (name + ".log")).string());
      std::this_thread::sleep_for(50ms);
    }
    children.push_back(std::move(child));
  }

  // web-api's health needs the bus.
  void start_bus() {
    start("bus", FAXBRIDGE_BUS_BIN,
          {{"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", bus_ports.publish_endpoint()},
           {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", bus_ports.subscribe_endpoint()},
           {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
           {"FAXBRIDGE_HTTP_PORT", std::to_string(bus_ports.http)}},
          bus_ports.http);
  }

  void start_web_api() {
    api_port = faxbridge::testing::free_port();
    api_side_port = faxbridge::testing::free_port();
    auto env = common_env("web-api", api_side_port);
    env["FAXBRIDGE_API_BIND"] = "127.0.0.1";
    env["FAXBRIDGE_API_PORT"] = std::to_string(api_port);
    start("web-api", FAXBRIDGE_WEB_API_BIN, env, api_side_port);
    // The side port answers before the API binds.
    const auto end = Steady::now() + 30s;
    for (;;) {
      httplib::Client c("127.0.0.1", api_port);
      if (auto r = c.Get("/api/v1/version"); r && r->status == 200) break;
      if (Steady::now() > end) die("web-api does not answer on its port; see " + (dir / "web-api.log").string());
      std::this_thread::sleep_for(20ms);
    }
  }

  // scripts/run's suite: bus, router, converter, the gateway placing calls and the
  // answer-only one it calls over SIP on loopback (the default route points there).
  int start_chain(int channels) {
    start_bus();
    int side = faxbridge::testing::free_port();
    start("router", FAXBRIDGE_ROUTER_BIN, common_env("router", side), side);
    side = faxbridge::testing::free_port();
    auto conv = common_env("document-converter", side);
    conv["FAXBRIDGE_CONVERTER_WORK_DIR"] = (dir / "converter").string();
    start("document-converter", FAXBRIDGE_CONVERTER_BIN, conv, side);
    std::filesystem::create_directories(dir / "spool");
    const int loop_sip = faxbridge::testing::free_udp_port();
    const int place_sip = faxbridge::testing::free_udp_port();
    auto gateway = [&](const std::string& name, int sip, int media, bool place) {
      const int s = faxbridge::testing::free_port();
      auto env = common_env(name, s);
      env["FAXBRIDGE_GATEWAY_SIP_BIND"] = "127.0.0.1";
      env["FAXBRIDGE_GATEWAY_SIP_PORT"] = std::to_string(sip);
      env["FAXBRIDGE_GATEWAY_MEDIA_ADDRESS"] = "127.0.0.1";
      env["FAXBRIDGE_GATEWAY_MEDIA_PORT_MIN"] = std::to_string(media);
      env["FAXBRIDGE_GATEWAY_MEDIA_PORT_MAX"] = std::to_string(media + 498);
      env["FAXBRIDGE_GATEWAY_PLACE_CALLS"] = place ? "true" : "false";
      env["FAXBRIDGE_GATEWAY_CHANNELS"] = std::to_string(channels);
      env["FAXBRIDGE_GATEWAY_SPOOL_DIR"] = (dir / "spool").string();
      start(name, FAXBRIDGE_MEDIA_GATEWAY_BIN, env, s);
    };
    // Media ports from 10000 (bench/gateway: outside the kernel's ephemeral range).
    gateway("media-gateway", place_sip, 10000, true);
    gateway("media-gateway-loop", loop_sip, 10500, false);
    return loop_sip;
  }

  // The ceiling answers exactly the bytes web-api answered.
  void start_ceiling(const std::string& get_body, const std::string& post_body) {
    std::ofstream(dir / "get_body.json", std::ios::binary) << get_body;
    std::ofstream(dir / "post_body.json", std::ios::binary) << post_body;
    ceiling_port = faxbridge::testing::free_port();
    std::fflush(stdout);
    ceiling = std::make_unique<faxbridge::testing::Child>(
        FAXBRIDGE_CEILING_BIN,
        std::vector<std::string>{std::to_string(ceiling_port), (dir / "get_body.json").string(),
                                 (dir / "post_body.json").string(), "8", "nodelay"},
        std::map<std::string, std::string>{}, (dir / "ceiling.log").string());
    const auto end = Steady::now() + 10s;
    for (;;) {
      httplib::Client c("127.0.0.1", ceiling_port);
      if (auto r = c.Get("/"); r && r->status == 200) break;
      if (Steady::now() > end || !ceiling->running()) die("the ceiling server did not start");
      std::this_thread::sleep_for(20ms);
    }
  }
};

// --- a request and the two tools ------------------------------------------------------

struct Target {
  std::string name;
  std::string method;  // GET | POST
  std::string path;    // with the query
  std::string body;    // POST: JSON
};

struct Figures {
  double rps = 0, p50 = 0, p99 = 0;  // ms
  long errors = 0;                  // non-2xx answers and socket errors
  double achieved = 0;              // open loop: requests/s actually sent
};

double wrk_ms(const std::string& value) {
  // "1.23ms", "812.00us", "1.02s", "2.00m"
  double v = std::atof(value.c_str());
  if (value.find("us") != std::string::npos) return v / 1000;
  if (value.find("ms") != std::string::npos) return v;
  if (value.find('m') != std::string::npos) return v * 60000;
  if (value.find('s') != std::string::npos) return v * 1000;
  return v;
}

Figures run_wrk(int port, const Target& t, const std::string& token, int connections, int seconds) {
  const std::string script = t.method == "POST" ? BENCH_API_DIR "/post.lua" : BENCH_API_DIR "/get.lua";
  ::setenv("BENCH_TOKEN", token.c_str(), 1);
  ::setenv("BENCH_BODY", t.body.c_str(), 1);
  const int threads = std::min(connections, 2);
  const std::string cmd = "wrk -t" + std::to_string(threads) + " -c" + std::to_string(connections) + " -d" +
                          std::to_string(seconds) + "s --timeout 10s --latency -s " + script + " 'http://127.0.0.1:" +
                          std::to_string(port) + t.path + "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) die("cannot run wrk");
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  if (::pclose(p) != 0) die("wrk failed:\n" + out);
  Figures f;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream w(line);
    std::string first, second;
    w >> first >> second;
    if (first == "50%") f.p50 = wrk_ms(second);
    if (first == "99%") f.p99 = wrk_ms(second);
    if (first == "Requests/sec:") f.rps = std::atof(second.c_str());
    if (line.find("Non-2xx or 3xx responses:") != std::string::npos) f.errors += std::atol(line.substr(line.rfind(':') + 1).c_str());
    if (first == "Socket") {  // Socket errors: connect 0, read 0, write 0, timeout 0
      for (std::size_t at = line.find(' ', 15); at != std::string::npos; at = line.find(',', at + 1)) {
        auto sp = line.find_first_of("0123456789", at);
        if (sp == std::string::npos) break;
        f.errors += std::atol(line.c_str() + sp);
      }
    }
  }
  return f;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

// One request every 1/rate s for `seconds`, each on the next free client of `clients`
// threads (keep-alive connections), timed from its due moment. Each client opens its
// connection first (one GET outside the window). Fewer clients than the servers'
// 8 threads: cpp-httplib gives a connection a thread for as long as it is kept alive,
// so a 9th idle keep-alive connection would wait for one of them (README).
Figures open_loop(int port, const Target& t, const std::string& token, int rate, double seconds, int clients = 6) {
  const int total = static_cast<int>(rate * seconds);
  const auto period = std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(1.0 / rate));
  std::vector<double> latencies(static_cast<std::size_t>(total), -1);
  std::atomic<int> next{0}, ready{0};
  std::atomic<long> errors{0};
  std::atomic<bool> go{false};
  Steady::time_point start;
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);  // the headers and the body of a POST go in two writes
      c.set_read_timeout(10, 0);
      const httplib::Headers h{{"Authorization", "Bearer " + token}};
      (void)c.Get("/api/v1/version");
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::sleep_for(1ms);
      for (int i; (i = next.fetch_add(1)) < total;) {
        const auto due = start + i * period;
        std::this_thread::sleep_until(due);
        auto r = t.method == "POST" ? c.Post(t.path, h, t.body, "application/json") : c.Get(t.path, h);
        const auto done = Steady::now();
        if (!r || r->status / 100 != 2) errors.fetch_add(1);
        latencies[static_cast<std::size_t>(i)] = std::chrono::duration<double, std::milli>(done - due).count();
      }
    });
  }
  while (ready.load() < clients) std::this_thread::sleep_for(1ms);
  start = Steady::now() + 20ms;
  go.store(true);
  for (auto& th : threads) th.join();
  const double wall = std::chrono::duration<double>(Steady::now() - start).count();
  Figures f;
  if (std::getenv("BENCH_API_DEBUG") != nullptr && *std::getenv("BENCH_API_DEBUG") != 0)
    for (std::size_t i = 0; i < latencies.size(); ++i) std::fprintf(stderr, "%zu %.2f\n", i, latencies[i]);
  f.p50 = percentile(latencies, 0.50);
  f.p99 = percentile(latencies, 0.99);
  f.errors = errors.load();
  f.achieved = total / wall;
  f.rps = f.achieved;
  return f;
}

// --- the data -------------------------------------------------------------------------

void exec(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::work w(c);
  w.exec(sql);
  w.commit();
}

std::string scalar(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::nontransaction w(c);
  auto r = w.exec(sql);
  return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
}

bool has_column(const std::string& dsn, const std::string& table, const std::string& column) {
  return scalar(dsn, "SELECT count(*) FROM information_schema.columns WHERE table_name = '" + table +
                         "' AND column_name = '" + column + "'") != "0";
}

// `count` faxes of `user` in final states over the last 90 days, newest last by id, as
// an integrator's history looks: 86% sent, 7% failed (busy, no answer, a few document
// errors), 3% partially sent, 4% cancelled; references, recipients, labels, one file.
void seed(const std::string& dsn, std::int64_t user, std::int64_t file, int count) {
  const std::string n = std::to_string(count);
  // The columns the faxes helper adds (migration 0011) when present.
  std::string extra_cols, extra_vals;
  if (has_column(dsn, "fax_jobs", "labels")) {
    extra_cols += ", labels";
    extra_vals += ", CASE WHEN i % 10 < 3 THEN ARRAY['invoices'] WHEN i % 10 < 5 THEN ARRAY['orders', 'eu'] "
                  "WHEN i % 10 = 5 THEN ARRAY['legal'] ELSE ARRAY[]::text[] END";
  }
  if (has_column(dsn, "fax_jobs", "client_reference")) {
    extra_cols += ", client_reference";
    extra_vals += ", CASE WHEN i % 4 = 0 THEN NULL ELSE 'INV-' || (100000 + i) END";
  }
  exec(dsn,
       "INSERT INTO fax_jobs (state, source, sender_user_id, recipient_number, recipient_canonical, recipient_name, "
       "recipient_company, subject, resolution, priority, not_before, attempts, page_count, pages_sent, error_code, "
       "error_category, error_detail, error_retryable, created_at, updated_at, completed_at" +
           extra_cols +
           ") "
           "SELECT s.state, 'api', " +
           std::to_string(user) +
           ", '+4930' || (2000000 + i % 50000), '+4930' || (2000000 + i % 50000), "
           "CASE WHEN i % 3 = 0 THEN '' ELSE 'Accounts payable' END, "
           "CASE WHEN i % 3 = 0 THEN '' ELSE 'Example GmbH ' || (i % 700) END, "
           "'Invoice ' || (100000 + i), CASE WHEN i % 5 = 0 THEN 'standard' ELSE 'fine' END, 100, t.at, "
           "CASE s.state WHEN 'failed' THEN 3 WHEN 'cancelled' THEN 0 ELSE 1 + (i % 17 = 0)::int END, "
           "1 + i % 3, CASE s.state WHEN 'sent' THEN 1 + i % 3 WHEN 'partially_sent' THEN 1 ELSE 0 END, "
           "CASE s.state WHEN 'failed' THEN (CASE WHEN i % 2 = 0 THEN 'call.busy' ELSE 'call.no_answer' END) END, "
           "CASE s.state WHEN 'failed' THEN 'line' END, "
           "CASE s.state WHEN 'failed' THEN 'No attempt got through: the line was busy or nobody answered.' END, "
           "CASE s.state WHEN 'failed' THEN true END, "
           "t.at, t.at + interval '2 minutes', "
           "CASE WHEN s.state IN ('sent', 'failed', 'partially_sent', 'cancelled') THEN t.at + interval '2 minutes' END" +
           extra_vals +
           " FROM generate_series(1, " + n +
           ") i, "
           "LATERAL (SELECT now() - interval '90 days' + (i * (interval '90 days' / " +
           n +
           ")) - interval '10 minutes' AS at) t, "
           "LATERAL (SELECT CASE WHEN (i * 7919) % 100 < 86 THEN 'sent' WHEN (i * 7919) % 100 < 93 THEN 'failed' "
           "WHEN (i * 7919) % 100 < 96 THEN 'partially_sent' ELSE 'cancelled' END AS state) s");
  exec(dsn, "INSERT INTO fax_job_documents (job_id, position, document_id) SELECT id, 0, " + std::to_string(file) +
                " FROM fax_jobs WHERE sender_user_id = " + std::to_string(user) +
                " AND NOT EXISTS (SELECT 1 FROM fax_job_documents d WHERE d.job_id = fax_jobs.id)");
  exec(dsn,
       "INSERT INTO attempts (job_id, attempt_no, gateway_instance, gateway_address, dialled_number, media, started_at, "
       "answered_at, ended_at, outcome, sip_status, pages_sent, bit_rate) "
       "SELECT id, 1, 'media-gateway', '127.0.0.1:5064', recipient_canonical, 't38', created_at + interval '10 s', "
       "created_at + interval '12 s', created_at + interval '70 s', "
       "CASE state WHEN 'failed' THEN 'busy' ELSE state END, CASE state WHEN 'failed' THEN 486 ELSE 200 END, "
       "pages_sent, 14400 FROM fax_jobs WHERE sender_user_id = " +
           std::to_string(user) + " AND state <> 'cancelled'");
  pqxx::connection c(dsn);
  pqxx::nontransaction(c).exec("VACUUM ANALYZE");
}

struct Account {
  std::int64_t id = 0;
  std::string token;
};

Account make_account(db::Pool& pool, const std::string& name, std::optional<std::string> number) {
  auto r = pool.transact([&](db::Tx& tx) -> Result<Account> {
    db::User u;
    u.username = name;
    u.display_name = name;
    u.email = name + "@example.com";
    u.fax_number = number;
    u.own_permission_level = db::kPermissionFaxUser;
    auto user = db::users::create(tx, u);
    if (!user) return user.error();
    auto t = db::api_tokens::create(tx, user->id, "bench", std::nullopt, std::chrono::system_clock::now());
    if (!t) return t.error();
    return Account{user->id, t->plaintext};
  });
  if (!r) die(r.error().to_string());
  return *r;
}

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// --- the 50 faxes being sent ----------------------------------------------------------

class Background {
 public:
  // `to`: numbers users own (the loop gateway answers only those), one per fax on the
  // line: calls to one number are placed one at a time.
  Background(std::string dsn, int port, Account sender, std::int64_t file, std::vector<std::string> to, int target)
      : dsn_(std::move(dsn)), port_(port), sender_(std::move(sender)), file_(file), to_(std::move(to)), target_(target) {}
  ~Background() { stop(); }

  void start() {
    thread_ = std::thread([this] { loop(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Faxes of the background sender in dialing or sending right now.
  int on_the_line() const {
    return std::atoi(scalar(dsn_, "SELECT count(*) FROM fax_jobs WHERE sender_user_id = " + std::to_string(sender_.id) +
                                      " AND state IN ('dialing', 'sending')")
                         .c_str());
  }
  std::string summary() const {
    return scalar(dsn_, "SELECT string_agg(state || ' ' || n, ', ' ORDER BY state) FROM (SELECT state, count(*) n FROM "
                        "fax_jobs WHERE sender_user_id = " +
                            std::to_string(sender_.id) + " GROUP BY state) s");
  }

 private:
  void loop() {
    pqxx::connection c(dsn_);
    httplib::Client api("127.0.0.1", port_);
    api.set_read_timeout(30, 0);
    while (!stop_) {
      std::set<std::string> busy;
      {
        pqxx::nontransaction w(c);
        for (const auto& row : w.exec("SELECT recipient_number FROM fax_jobs WHERE sender_user_id = " +
                                      std::to_string(sender_.id) + " AND completed_at IS NULL"))
          busy.insert(row[0].c_str());
      }
      for (const auto& number : to_) {
        if (stop_ || static_cast<int>(busy.size()) >= target_) break;
        if (busy.count(number) != 0) continue;
        busy.insert(number);
        const json body{{"to", json::array({number})}, {"files", json::array({file_})}, {"subject", "background"}};
        auto r = api.Post("/api/v1/faxes", bearer(sender_.token), body.dump(), "application/json");
        if (!r || r->status != 201) {
          std::fprintf(stderr, "bench_api: a background fax was refused: %s\n", r ? r->body.c_str() : "no answer");
          break;
        }
      }
      for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(100ms);
    }
  }

  std::string dsn_;
  int port_;
  Account sender_;
  std::int64_t file_;
  std::vector<std::string> to_;
  int target_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// --- the report -----------------------------------------------------------------------

struct Row {
  std::string what, tool;
  int load = 0;  // connections (wrk) or requests/s (open loop)
  Figures api, ceiling;
};

void print_row(const Row& r) {
  const bool open = r.tool == "open-loop";
  std::printf("%-22s %-9s %7s | %8.0f %7.2f %7.2f %5ld | %8.0f %7.2f %7.2f | %s\n", r.what.c_str(), r.tool.c_str(),
              (std::to_string(r.load) + (open ? "/s" : "c")).c_str(), r.api.rps, r.api.p50, r.api.p99, r.api.errors,
              r.ceiling.rps, r.ceiling.p50, r.ceiling.p99,
              open ? ("p99 x" + std::to_string(r.api.p99 / std::max(r.ceiling.p99, 0.001)).substr(0, 5)).c_str()
                   : (std::to_string(static_cast<int>(std::lround(100 * r.api.rps / std::max(r.ceiling.rps, 1.0)))) +
                      "% of ceiling")
                         .c_str());
  std::fflush(stdout);
}

void print_header() {
  std::printf("%-22s %-9s %7s | %8s %7s %7s %5s | %8s %7s %7s | %s\n", "request", "tool", "load", "req/s", "p50 ms",
              "p99 ms", "err", "ceil r/s", "p50 ms", "p99 ms", "ratio");
}

}  // namespace

int run(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--faxes") o.faxes = std::atoi(value().c_str());
    else if (a == "--repeats") o.repeats = std::atoi(value().c_str());
    else if (a == "--rate") o.rate = std::atoi(value().c_str());
    else if (a == "--open-seconds") o.open_seconds = std::atof(value().c_str());
    else if (a == "--wrk-seconds") o.wrk_seconds = std::atoi(value().c_str());
    else if (a == "--connections") o.connections = parse_list(value());
    else if (a == "--background") o.background = std::atoi(value().c_str());
    else if (a == "--no-chain") o.chain = false;
    else if (a == "--post-now") o.post_now = true;
    else if (a == "--hold") o.hold = true;
    else if (a == "--smoke") {
      o.smoke = true;
      o.faxes = 2000;
      o.repeats = 1;
      o.rate = 50;
      o.open_seconds = 1;
      o.wrk_seconds = 1;
      o.connections = {4};
      o.background = 2;
    } else {
      std::fprintf(stderr,
                   "usage: bench_api [--faxes N] [--repeats N] [--rate R] [--open-seconds S] [--wrk-seconds S]\n"
                   "                 [--connections 1,8,32] [--background N] [--no-chain] [--post-now] [--smoke] [--hold]\n");
      return 2;
    }
  }
  log::init("bench_api", log::Level::kError);
  std::printf("bench/api: %d faxes stored, %u cores, load %s at start\n", o.faxes, std::thread::hardware_concurrency(),
              loadavg().c_str());
  std::fflush(stdout);

  auto database = bench::durable_database();
  Suite suite;
  suite.dsn = database.dsn;
  char tmpl[] = "/tmp/bench-api-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) die("no temporary folder");
  suite.dir = tmpl;
  ::chmod(tmpl, 0777);

  db::Pool pool(db::PoolSettings{suite.dsn, 1});
  const Account bench_user = make_account(pool, "integrator", std::nullopt);
  const Account sender = make_account(pool, "background", std::nullopt);
  std::vector<std::string> receiver_numbers;
  for (int i = 0; i < std::max(1, o.background); ++i) {
    receiver_numbers.push_back("+39029786" + std::to_string(5000 + i));
    (void)make_account(pool, "receiver" + std::to_string(i), receiver_numbers.back());
  }

  if (o.chain) {
    const int channels = std::max(8, o.background + 14);
    if (auto r = pool.transact([&](db::Tx& tx) {
          return db::settings::set(tx, "fax.max_concurrent_outgoing", std::to_string(std::max(1, o.background)));
        });
        !r)
      die(r.error().to_string());
    const int loop_sip = suite.start_chain(channels);
    auto r = pool.transact([&](db::Tx& tx) {
      db::Route route;
      route.is_default = true;
      route.description = "loopback PBX (bench/api)";
      route.gateways = {{"127.0.0.1:" + std::to_string(loop_sip)}};
      return db::routes::create(tx, route);
    });
    if (!r) die(r.error().to_string());
  }
  if (!o.chain) suite.start_bus();
  suite.start_web_api();
  httplib::Client api("127.0.0.1", suite.api_port);
  api.set_read_timeout(60, 0);

  // The one-page PDF, uploaded once by each sender.
  document::testing::PdfPage page;
  page.text = document::testing::sample_text(220);
  const std::string pdf = document::testing::make_pdf({page});
  auto upload = [&](const Account& a) -> std::optional<std::int64_t> {
    auto r = api.Post("/api/v1/files", bearer(a.token),
                      httplib::MultipartFormDataItems{{"file", pdf, "letter.pdf", "application/pdf"}});
    if (r && r->status == 404) return std::nullopt;
    if (!r || r->status != 201) die("POST /api/v1/files: " + (r ? std::to_string(r->status) + " " + r->body : "no answer"));
    return json::parse(r->body).at("id").get<std::int64_t>();
  };
  const auto file = upload(bench_user);
  std::vector<Target> targets;
  std::unique_ptr<Background> background;
  std::string get_reply, post_reply;
  if (!file) {
    // A build without the fax endpoints: what runs is the API layer with a token.
    std::printf("this build has no POST /api/v1/files: measuring GET /api/v1/me (token check, one user read) instead\n");
    targets.push_back({"GET /me", "GET", "/api/v1/me", ""});
    auto me = api.Get("/api/v1/me", bearer(bench_user.token));
    if (!me || me->status != 200) die("GET /api/v1/me: " + (me ? me->body : "no answer"));
    get_reply = me->body;
    post_reply = "{}";
  } else {
    const std::int64_t sender_file = *upload(sender);
    const auto seed_start = Steady::now();
    seed(suite.dsn, bench_user.id, *file, o.faxes);
    std::printf("seeded %d faxes in %.1f s (one INSERT ... SELECT generate_series, then VACUUM ANALYZE)\n", o.faxes,
                bench::Seconds(Steady::now() - seed_start).count());

    if (o.chain && o.background > 0) {
      background =
          std::make_unique<Background>(suite.dsn, suite.api_port, sender, sender_file, receiver_numbers, o.background);
      background->start();
      const auto end = Steady::now() + (o.smoke ? 30s : 180s);
      while (background->on_the_line() < o.background && Steady::now() < end) std::this_thread::sleep_for(500ms);
      std::printf("background: %d of %d faxes on the line (%s)\n", background->on_the_line(), o.background,
                  background->summary().c_str());
    }

    targets = {{"GET first page", "GET", "/api/v1/faxes?limit=50", ""},
               {"GET status=sent", "GET", "/api/v1/faxes?limit=50&status=sent", ""},
               {"GET status=failed", "GET", "/api/v1/faxes?limit=50&status=failed", ""}};
    {
      std::string path = "/api/v1/faxes?limit=50";
      int pages = 1;
      for (; pages < 100; ++pages) {
        auto r = api.Get(path, bearer(bench_user.token));
        if (!r || r->status != 200) die("GET " + path + ": " + (r ? r->body : "no answer"));
        auto j = json::parse(r->body);
        if (!j.contains("next_cursor") || j["next_cursor"].is_null()) break;
        path = "/api/v1/faxes?limit=50&cursor=" + url_encode(j["next_cursor"].get<std::string>());
      }
      if (pages == 100) targets.push_back({"GET page 100 (cursor)", "GET", path, ""});
      else std::printf("(fewer than 100 pages: no page-100 measure)\n");
    }
    json post_body{{"to", json::array({"+4930" + std::to_string(3000000)})}, {"files", json::array({*file})},
                   {"subject", "bench"}};
    if (!o.post_now) {
      const auto ahead = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + 24h);
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&ahead));
      post_body["send_at"] = when;
    }
    targets.push_back({"POST /faxes", "POST", "/api/v1/faxes", post_body.dump()});

    auto first = api.Get("/api/v1/faxes?limit=50", bearer(bench_user.token));
    if (!first || first->status != 200) die("GET /api/v1/faxes: " + (first ? first->body : "no answer"));
    auto posted = api.Post("/api/v1/faxes", bearer(bench_user.token), targets.back().body, "application/json");
    if (!posted || posted->status != 201)
      die("POST /api/v1/faxes: " + (posted ? std::to_string(posted->status) + " " + posted->body : "no answer"));
    get_reply = first->body;
    post_reply = posted->body;
    std::printf("GET page: %zu bytes of JSON; POST reply: %zu bytes; POST body: %zu bytes\n", get_reply.size(),
                post_reply.size(), targets.back().body.size());
  }
  // The ceiling answers the bytes web-api answered.
  suite.start_ceiling(get_reply, post_reply);
  if (o.hold) {
    std::printf("holding (--hold): FAXBRIDGE_DB_DSN='%s' API http://127.0.0.1:%d token %s ceiling :%d; "
                "end with Ctrl-D\n",
                suite.dsn.c_str(), suite.api_port, bench_user.token.c_str(), suite.ceiling_port);
    std::fflush(stdout);
    while (std::getchar() != EOF) {
    }
  }
  std::printf("web-api: the service binary, defaults (8 threads, pool of 4 connections); ceiling: bench_api_ceiling, 8 "
              "threads\n");
  std::printf("wrk: closed loop, %d s per figure; open-loop: %d requests/s for %.0f s, timed from each request's due "
              "moment\n",
              o.wrk_seconds, o.rate, o.open_seconds);
  std::fflush(stdout);

  std::vector<std::vector<Row>> runs;
  for (int rep = 0; rep < o.repeats; ++rep) {
    std::printf("\nrun %d of %d, load %s%s\n", rep + 1, o.repeats, loadavg().c_str(),
                background ? (", on the line: " + std::to_string(background->on_the_line())).c_str() : "");
    print_header();
    std::vector<Row> rows;
    auto measure = [&](const Target& t) {
      for (int c : o.connections) {
        Row r{t.name, "wrk", c, {}, {}};
        r.ceiling = run_wrk(suite.ceiling_port, t, bench_user.token, c, o.wrk_seconds);
        r.api = run_wrk(suite.api_port, t, bench_user.token, c, o.wrk_seconds);
        print_row(r);
        rows.push_back(r);
      }
      Row r{t.name, "open-loop", o.rate, {}, {}};
      r.ceiling = open_loop(suite.ceiling_port, t, bench_user.token, o.rate, o.open_seconds);
      r.api = open_loop(suite.api_port, t, bench_user.token, o.rate, o.open_seconds);
      print_row(r);
      rows.push_back(r);
    };
    for (const auto& t : targets) measure(t);
    if (background) {
      std::printf("on the line after the run: %d (%s)\n", background->on_the_line(), background->summary().c_str());
    }
    runs.push_back(rows);
  }

  if (o.repeats > 1) {
    std::printf("\nmedian of %d runs\n", o.repeats);
    print_header();
    for (std::size_t i = 0; i < runs[0].size(); ++i) {
      Row m = runs[0][i];
      auto med = [&](auto pick) {
        std::vector<double> v;
        for (auto& run : runs) v.push_back(pick(run[i]));
        return bench::median(v);
      };
      m.api.rps = med([](const Row& r) { return r.api.rps; });
      m.api.p50 = med([](const Row& r) { return r.api.p50; });
      m.api.p99 = med([](const Row& r) { return r.api.p99; });
      m.ceiling.rps = med([](const Row& r) { return r.ceiling.rps; });
      m.ceiling.p50 = med([](const Row& r) { return r.ceiling.p50; });
      m.ceiling.p99 = med([](const Row& r) { return r.ceiling.p99; });
      m.api.errors = 0;
      for (auto& run : runs) m.api.errors += run[i].api.errors;
      print_row(m);
    }
  }
  std::printf("\nload at the end %s\n", loadavg().c_str());
  long errors = 0;
  for (auto& run : runs)
    for (auto& r : run) errors += r.api.errors + r.ceiling.errors;
  if (background) background->stop();
  std::error_code ec;
  std::filesystem::remove_all(suite.dir, ec);
  if (errors > 0) {
    std::printf("%ld requests failed (non-2xx or socket errors): see the err column\n", errors);
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_api: %s (the services' logs stay in /tmp/bench-api-*)\n", e.what());
    return 1;
  }
}
