// bench/gateway: what the media gateway sustains on this machine.
//  1. Call set-up rate: the gateway's SIP agent (libs/sip) placing INVITEs with a T.38
//     offer to a second agent that answers at once, `--setup-in-flight` calls at a time:
//     INVITE to 200 OK (and our ACK), then BYE. Calls per second and the mean set-up time.
//  2. Concurrent fax calls: two real gateways (libs/gateway, real time) in this process
//     over SIP + T.38/UDPTL on 127.0.0.1, a private PostgreSQL (fsync off: the database is
//     not what is measured), N one-page jobs queued at once to N numbers gateway B owns.
//     For each N of `--calls`: how many ended sent, the wall time, and the process CPU per
//     channel end (both gateways' SIP, database work and media, divided by 2N).
//  3. The reference from the same run: bench/channels' figure, one channel end of a
//     one-page T.38 call through the fax library's full path over UDP (libs/fax loopback,
//     fast pace) and bare spandsp back to back, CPU per channel end; the ratio is printed.
// Prints figures; no thresholds. The machine is shared: figures are noisy.
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "../support/sql.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/migrate.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/fax/baseline.hpp"
#include "faxbridge/fax/loopback.hpp"
#include "faxbridge/fax/tiff_pages.hpp"
#include "faxbridge/gateway/gateway.hpp"

namespace fs = std::filesystem;
using namespace faxbridge;
using Steady = std::chrono::steady_clock;

namespace {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double seconds_since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }

using bench::count;
using bench::exec;

// A port the kernel just handed out and took back (free on loopback now).
int free_udp_port() { return db::testing::free_port(); }

// free_port() checks TCP; a port another program holds for UDP is replaced (a few times).
Result<std::unique_ptr<sip::UserAgent>> start_agent(sip::Settings& s, const sip::Handlers& h) {
  Result<std::unique_ptr<sip::UserAgent>> ua = Error(Code::k_sip_start_failed, "not started");
  for (int attempt = 0; attempt < 5 && !ua && ua.error().code == Code::k_sip_start_failed; ++attempt) {
    s.port = free_udp_port();
    ua = sip::UserAgent::start(s, h);
  }
  return ua;
}

// ---- 1. set-up rate ------------------------------------------------------------------
void setup_rate(int calls, int in_flight) {
  std::mutex mu;
  std::condition_variable cv;
  // Start and answer times by call; the answer may come before place_call returns.
  std::map<sip::CallId, Steady::time_point> started, answered_at;
  int answered = 0, failed = 0, ended = 0;
  sip::Handlers hb;
  hb.on_incoming = [](const sip::IncomingCall&) {
    sip::MediaOffer m;
    m.t38 = sip::T38Offer{35000, {"T38FaxVersion:0", "T38MaxBitRate:14400"}};
    return sip::InboundDecision::answer_with(m);
  };
  sip::Settings sb;
  auto b = start_agent(sb, hb);
  std::unique_ptr<sip::UserAgent> a_holder;
  sip::Handlers ha;
  ha.on_answered = [&](const sip::CallAnswered& e) {
    {
      std::lock_guard lock(mu);
      answered_at[e.call] = Steady::now();
      ++answered;
    }
    (void)a_holder->hang_up(e.call);
  };
  ha.on_failed = [&](const sip::CallFailed&) {
    std::lock_guard lock(mu);
    ++failed;
    ++ended;
    cv.notify_all();
  };
  ha.on_ended = [&](const sip::CallEnded& e) {
    if (e.reason == sip::EndReason::kFailed) return;  // counted in on_failed
    std::lock_guard lock(mu);
    ++ended;
    cv.notify_all();
  };
  sip::Settings sa;
  auto a = start_agent(sa, ha);
  if (!a || !b) {
    std::fprintf(stderr, "set-up: %s\n", (!a ? a.error() : b.error()).to_string().c_str());
    return;
  }
  a_holder = std::move(*a);
  const auto t0 = Steady::now();
  const double cpu0 = process_cpu_seconds();
  for (int i = 0; i < calls; ++i) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return i - ended < in_flight; });
    }
    sip::CallRequest r;
    r.target = "127.0.0.1:" + std::to_string(sb.port);
    r.number = std::to_string(7000 + i);
    r.offer.t38 = sip::T38Offer{36000, {"T38FaxVersion:0", "T38MaxBitRate:14400"}};
    const auto placed = Steady::now();
    auto id = a_holder->place_call(r);  // never under `mu`: the agent's callbacks take it
    std::lock_guard lock(mu);
    if (!id) {
      ++failed;
      ++ended;
      continue;
    }
    started[*id] = placed;
  }
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(60), [&] { return ended >= calls; });
  }
  const double wall = seconds_since(t0);
  const double cpu = process_cpu_seconds() - cpu0;
  double setup_sum = 0;
  for (const auto& [id, at] : answered_at) setup_sum += std::chrono::duration<double>(at - started[id]).count();
  std::printf("set-up   calls=%d in-flight=%d answered=%d failed=%d  %.0f calls/s (INVITE..200/ACK..BYE/200)  "
              "mean set-up %.2f ms  CPU %.2f ms per call (both agents)\n",
              calls, in_flight, answered, failed, calls / wall, answered ? 1000 * setup_sum / answered : 0,
              1000 * cpu / calls);
  std::fflush(stdout);
  a_holder.reset();
}

// ---- 2. concurrent fax calls through two gateways --------------------------------------
// Media ports below the kernel's ephemeral range (32768 and up), where other programs'
// sockets would take ports of a large range from under the gateways.
constexpr int kMediaBase = 10000;

struct LevelResult {
  int calls = 0, sent = 0, closed = 0;
  double wall = 0, cpu = 0;
};

LevelResult fax_level(const std::string& dsn, db::Pool& pool, bus::Publisher& publisher, std::int64_t pages_doc,
                      const fs::path& spool, int n) {
  exec(dsn, "TRUNCATE fax_jobs, attempts, received_faxes CASCADE");
  exec(dsn, "DELETE FROM documents WHERE kind = 'received_tiff'");
  if (auto set = pool.transact(
          [&](db::Tx& tx) { return db::settings::set(tx, "fax.max_concurrent_outgoing", std::to_string(n)); });
      !set) {
    std::fprintf(stderr, "%s\n", set.error().to_string().c_str());
  }
  // free_port() checks TCP; a port another program holds for UDP is replaced (a few times).
  auto make = [&](const std::string& instance, int media_min, bool place) {
    gateway::GatewaySettings s;
    s.instance = instance;
    s.media_port_min = media_min;
    s.media_port_max = media_min + 4 * n + 8;
    s.channels = n;
    s.place_calls = place;
    s.media_threads = 1;
    s.claim_interval = std::chrono::milliseconds(100);
    s.spool_dir = spool.string();
    s.routes_refresh = std::chrono::milliseconds(0);
    Result<std::unique_ptr<gateway::Gateway>> g = Error(Code::k_sip_start_failed, "not started");
    for (int attempt = 0; attempt < 5 && !g && g.error().code == Code::k_sip_start_failed; ++attempt) {
      s.sip.port = free_udp_port();
      g = gateway::Gateway::start(pool, publisher, "tcp://127.0.0.1:1", s);
    }
    return g;
  };
  auto b = make("bench-b", kMediaBase + 4 * n + 16, false);  // above A's range
  if (b) {
    exec(dsn, "TRUNCATE routes CASCADE");
    exec(dsn, "WITH r AS (INSERT INTO routes (prefix, is_default) VALUES ('', true) RETURNING id) "
              "INSERT INTO route_gateways (route_id, position, address) SELECT id, 0, '127.0.0.1:" +
                  std::to_string((*b)->settings().sip.port) + "' FROM r");
  }
  auto a = make("bench-a", kMediaBase, true);
  LevelResult r;
  r.calls = n;
  if (!a || !b) {
    std::fprintf(stderr, "gateway: %s\n", (!a ? a.error() : b.error()).to_string().c_str());
    return r;
  }
  const auto t0 = Steady::now();
  const double cpu0 = process_cpu_seconds();
  exec(dsn, "INSERT INTO fax_jobs (state, source, recipient_number, recipient_canonical, dial_number, page_count, "
            "pages_document_id) SELECT 'queued', 'api', '7' || i, '7' || i, '7' || i, 1, " +
                std::to_string(pages_doc) + " FROM generate_series(1, " + std::to_string(n) + ") i");
  pqxx::connection poll(dsn);
  // A one-page call takes ~20 s; ten minutes is a backstop against a stuck run.
  while (count(poll, "SELECT count(*) FROM attempts WHERE outcome IS NOT NULL") < n && seconds_since(t0) < 600) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  r.wall = seconds_since(t0);
  r.cpu = process_cpu_seconds() - cpu0;
  r.closed = static_cast<int>(count(poll, "SELECT count(*) FROM attempts WHERE outcome IS NOT NULL"));
  r.sent = static_cast<int>(count(poll, "SELECT count(*) FROM attempts WHERE outcome = 'sent'"));
  std::map<std::string, int> failures;
  pqxx::nontransaction w(poll);
  for (const auto& row : w.exec("SELECT coalesce(error_code, outcome), count(*) FROM attempts WHERE outcome <> 'sent' "
                                "GROUP BY 1")) {
    failures[row[0].as<std::string>()] = row[1].as<int>();
  }
  std::printf("fax      calls at once=%d sent=%d closed=%d  wall=%.1fs  CPU=%.2fs  CPU per channel end=%.2f ms\n", n,
              r.sent, r.closed, r.wall, r.cpu, 1000 * r.cpu / (2.0 * n));
  for (const auto& [code, k] : failures) std::printf("         not sent: %s x%d\n", code.c_str(), k);
  std::fflush(stdout);
  return r;
}

// ---- 3. reference: bench/channels' per-channel figure ---------------------------------
struct Reference {
  double full_ms = 0, bare_ms = 0;
};

Reference channels_reference(const std::string& in, const fs::path& dir, int calls) {
  Reference ref;
  auto rt = fax::ChannelRuntime::create(fax::RuntimeOptions{1, fax::Pace::kFast});
  if (!rt) return ref;
  int ok = 0;
  double full = 0, bare = 0;
  for (int i = 0; i < calls; ++i) {
    const std::string out = (dir / ("ref-" + std::to_string(i) + ".tif")).string();
    double t0 = process_cpu_seconds();
    (void)fax::run_bare_spandsp_call(fax::MediaKind::kT38, in, out);
    bare += process_cpu_seconds() - t0;
    fax::SessionOptions tx, rx;
    tx.direction = fax::Direction::kSend;
    tx.tiff_path = in;
    rx.direction = fax::Direction::kReceive;
    rx.tiff_path = out;
    t0 = process_cpu_seconds();
    auto call = fax::make_loopback_call(tx, rx, fax::LoopbackOptions{});
    if (!call) continue;
    (void)(*rt)->add({call->caller, call->answerer});
    (*rt)->wait_idle();
    full += process_cpu_seconds() - t0;
    ok += call->caller->result().success && call->answerer->result().success;
  }
  ref.full_ms = 1000 * full / calls / 2;
  ref.bare_ms = 1000 * bare / calls / 2;
  std::printf("channels reference (bench/channels, same run): %d one-page T.38 calls ok=%d  CPU per channel end: "
              "full path over UDP=%.2f ms  bare spandsp=%.2f ms\n",
              calls, ok, ref.full_ms, ref.bare_ms);
  std::fflush(stdout);
  return ref;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Media gateway benchmark: SIP set-up rate and concurrent T.38 calls through two gateways"};
  int setup_calls = 500, setup_in_flight = 20, reference_calls = 4;
  std::vector<int> levels{4, 8, 16};
  app.add_option("--setup-calls", setup_calls, "calls in the set-up rate run (0 skips)");
  app.add_option("--setup-in-flight", setup_in_flight, "calls being set up at once");
  app.add_option("--calls", levels, "concurrent fax call counts to try, e.g. --calls 4 8 16 32");
  app.add_option("--reference-calls", reference_calls, "calls for the bench/channels reference");
  CLI11_PARSE(app, argc, argv);
  log::init("bench-gateway", log::Level::kError);

  char tmpl[] = "/tmp/faxbridge-bench-gw-XXXXXX";
  const fs::path dir = ::mkdtemp(tmpl);
  const std::string doc = (dir / "page.tif").string();
  if (auto w = fax::write_test_document(doc, fax::TestDocumentSpec{}); !w) {
    std::fprintf(stderr, "%s\n", w.error().to_string().c_str());
    return 1;
  }
  std::printf("document: 1 page, 1728x2286 fine, G4; T.38 over UDPTL on 127.0.0.1; machine shared, figures noisy\n");
  std::fflush(stdout);

  if (setup_calls > 0) setup_rate(setup_calls, setup_in_flight);
  const Reference ref = channels_reference(doc, dir, reference_calls);

  auto cluster = db::testing::PgCluster::start();
  if (!cluster) {
    std::fprintf(stderr, "%s\n", cluster.error().to_string().c_str());
    return 1;
  }
  auto dsn = (*cluster)->create_database("benchgw");
  if (!dsn) return 1;
  db::Pool pool(db::PoolSettings{*dsn, 8});
  if (auto m = db::migrate(pool); !m) {
    std::fprintf(stderr, "%s\n", m.error().to_string().c_str());
    return 1;
  }
  std::ifstream in(doc, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  auto stored = pool.transact([&](db::Tx& tx) {
    db::Document d;
    d.kind = "fax_pages";
    d.media_type = "image/tiff";
    d.filename = "page.tif";
    d.page_count = 1;
    d.bytes = bytes.str();
    return db::documents::put(tx, d);
  });
  if (!stored) {
    std::fprintf(stderr, "%s\n", stored.error().to_string().c_str());
    return 1;
  }
  const std::int64_t pages_doc = stored->id;
  // Gateway B answers for the numbers users own: 71 .. 74000.
  exec(*dsn, "INSERT INTO users (username, email, fax_number) SELECT 'u' || i, 'u' || i || '@example.test', '7' || i "
             "FROM generate_series(1, 4000) i");
  bus::Publisher publisher("tcp://127.0.0.1:1", "bench", "bench-gateway", /*metrics=*/nullptr);
  int sustained = 0;
  double cpu_per_end = 0;
  for (int n : levels) {
    const LevelResult r = fax_level(*dsn, pool, publisher, pages_doc, dir, n);
    if (r.sent == n) {
      sustained = n;
      cpu_per_end = 1000 * r.cpu / (2.0 * n);
    }
  }
  std::printf("summary  concurrent T.38 calls with every call sent: %d  CPU per channel end %.2f ms vs bench/channels "
              "full path %.2f ms (ratio %.2fx) and bare spandsp %.2f ms (ratio %.2fx)\n",
              sustained, cpu_per_end, ref.full_ms, ref.full_ms > 0 ? cpu_per_end / ref.full_ms : 0, ref.bare_ms,
              ref.bare_ms > 0 ? cpu_per_end / ref.bare_ms : 0);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
