// bench/channels: what one fax channel costs through the library's full path (UDP sockets
// on 127.0.0.1, UDPTL or RTP, the runtime, spandsp), printed beside bare spandsp back to back
// measured in the same run; then a real-time run of many 1-page calls started together,
// both ends in this process, with the runtime's tick lateness. Prints figures; no thresholds.
#include <sys/resource.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>
#include <unistd.h>

#include "faxbridge/core/log.hpp"
#include "faxbridge/fax/baseline.hpp"
#include "faxbridge/fax/loopback.hpp"
#include "faxbridge/fax/tiff_pages.hpp"

namespace fs = std::filesystem;
using namespace faxbridge::fax;

namespace {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

bool g_decode_ahead = false;  // senders decode documents into memory before the call
StoreCompression g_store = StoreCompression::kT6;  // how receivers store pages

SessionOptions sender(const std::string& in) {
  SessionOptions o;
  o.decode_ahead = g_decode_ahead;
  o.direction = Direction::kSend;
  o.tiff_path = in;
  o.local_ident = "bench-tx";
  return o;
}

SessionOptions receiver(const std::string& out) {
  SessionOptions o;
  o.direction = Direction::kReceive;
  o.tiff_path = out;
  o.local_ident = "bench-rx";
  o.store_compression = g_store;
  return o;
}

struct Cost {
  double cpu = 0;
  double media = 0;
  int ok = 0;
};

// One call through the library on a fast runtime; adds its CPU time to `c`.
bool full_call(ChannelRuntime& rt, MediaKind media, bool udp, const std::string& in, const std::string& out,
               Cost& c) {
  LoopbackOptions line;
  line.media = media;
  line.udp = udp;
  // Setting the call up (sockets, spandsp, decoding the document) is part of its cost.
  double t0 = process_cpu_seconds();
  auto call = make_loopback_call(sender(in), receiver(out), line);
  if (!call) {
    std::fprintf(stderr, "%s\n", call.error().to_string().c_str());
    return false;
  }
  (void)rt.add({call->caller, call->answerer});
  rt.wait_idle();
  c.cpu += process_cpu_seconds() - t0;
  if (call->caller->result().success && call->answerer->result().success) {
    ++c.ok;
    c.media += static_cast<double>(call->caller->result().duration.count()) / 1000.0;
  }
  return true;
}

// `n` calls at once on one fast worker: the per-pass costs (one epoll_wait per pass for all
// sockets) are shared as they are on a loaded server. Returns CPU ms per call, or -1.
double batch_cost(MediaKind media, const std::string& in, const fs::path& dir, int n, int* ok) {
  auto rt = ChannelRuntime::create(RuntimeOptions{1, Pace::kFast});
  if (!rt) return -1;
  double t0 = process_cpu_seconds();
  std::vector<LoopbackCall> calls;
  for (int i = 0; i < n; ++i) {
    LoopbackOptions line;
    line.media = media;
    auto call = make_loopback_call(sender(in), receiver((dir / ("batch-" + std::to_string(i) + ".tif")).string()), line);
    if (!call) return -1;
    calls.push_back(*call);
    (void)(*rt)->add({call->caller, call->answerer});
  }
  (*rt)->wait_idle();
  double cpu = process_cpu_seconds() - t0;
  *ok = 0;
  for (auto& c : calls) *ok += c.caller->result().success && c.answerer->result().success;
  return cpu / n * 1000;
}

void measure_cost(MediaKind media, const std::string& in, const fs::path& dir, int calls) {
  Cost bare, floor, full, memory;
  auto rt = ChannelRuntime::create(RuntimeOptions{1, Pace::kFast});
  if (!rt) {
    std::fprintf(stderr, "%s\n", rt.error().to_string().c_str());
    return;
  }
  // Alternate the two so load from elsewhere on the machine hits both alike.
  for (int i = 0; i < calls; ++i) {
    std::string out = (dir / ("cost-" + std::to_string(i) + ".tif")).string();
    double t0 = process_cpu_seconds();
    auto b = run_bare_spandsp_call(media, in, out, true, g_store);
    bare.cpu += process_cpu_seconds() - t0;
    if (b && b->success) {
      ++bare.ok;
      bare.media += b->media_seconds;
    }
    t0 = process_cpu_seconds();
    auto f = run_bare_spandsp_call(media, in, out, true, g_store, BaselineWire::kUdpFloor);
    floor.cpu += process_cpu_seconds() - t0;
    if (f && f->success) ++floor.ok;
    if (!full_call(**rt, media, true, in, out, full)) return;
    if (!full_call(**rt, media, false, in, out, memory)) return;
  }
  double bare_ms = bare.cpu / calls * 1000, full_ms = full.cpu / calls * 1000, mem_ms = memory.cpu / calls * 1000;
  double floor_ms = floor.cpu / calls * 1000;
  double media_s = full.ok ? full.media / full.ok : 0;
  int ok = 0;
  double batch_ms = batch_cost(media, in, dir, calls, &ok);
  auto ratio = [&](double ms) { return bare_ms > 0 ? ms / bare_ms : 0; };
  const std::string name(media_name(media));
  std::printf("%-6s %d calls of %.1fs media, ok bare/floor/udp/memory/shared=%d/%d/%d/%d/%d. CPU per channel end:\n",
              name.c_str(), calls, media_s, bare.ok, floor.ok, full.ok, memory.ok, ok);
  std::printf("%-6s   bare spandsp back to back            %6.2f ms\n", name.c_str(), bare_ms / 2);
  std::printf("%-6s   floor: bare + each datagram once over UDP %6.2f ms  (%.2fx)\n", name.c_str(), floor_ms / 2,
              ratio(floor_ms));
  std::printf("%-6s   full path over UDP, %d calls sharing a worker %6.2f ms  (%.2fx)  <- a server's case\n",
              name.c_str(), calls, batch_ms / 2, ratio(batch_ms));
  std::printf("%-6s   full path over UDP, one call alone   %6.2f ms  (%.2fx; pays a worker pass per tick alone)\n",
              name.c_str(), full_ms / 2, ratio(full_ms));
  std::printf("%-6s   full path, in-memory links           %6.2f ms  (%.2fx)\n", name.c_str(), mem_ms / 2,
              ratio(mem_ms));
  std::printf("%-6s   => full path over UDP (shared) / floor = %.2fx; channel ends per core in real time = %.0f\n",
              name.c_str(), floor_ms > 0 ? batch_ms / floor_ms : 0, batch_ms > 0 ? 2 * media_s / (batch_ms / 1000) : 0);
  std::fflush(stdout);
}

void realtime_run(MediaKind media, int calls, int threads, int spread_ms, int starts_per_tick, int priority,
                  bool split_ends, const std::string& in, const fs::path& dir) {
  if (calls <= 0) return;
  auto rt = ChannelRuntime::create(RuntimeOptions{threads, Pace::kRealtime, starts_per_tick, priority});
  if (!rt) {
    std::fprintf(stderr, "%s\n", rt.error().to_string().c_str());
    return;
  }
  std::vector<LoopbackCall> all;
  all.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    LoopbackOptions line;
    line.media = media;
    auto call = make_loopback_call(sender(in), receiver((dir / ("rt-" + std::to_string(i) + ".tif")).string()), line);
    if (!call) {
      std::fprintf(stderr, "call %d: %s\n", i, call.error().to_string().c_str());
      return;
    }
    all.push_back(*call);
  }
  double cpu0 = process_cpu_seconds();
  rusage ru0{};
  getrusage(RUSAGE_SELF, &ru0);
  auto wall0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    auto& c = all[static_cast<std::size_t>(i)];
    if (split_ends) {
      // Each end on its own worker: datagrams cross threads, as they arrive from a PBX.
      (void)(*rt)->add({c.caller});
      (void)(*rt)->add({c.answerer});
    } else {
      (void)(*rt)->add({c.caller, c.answerer});
    }
    if (spread_ms > 0 && calls > 1) {
      std::this_thread::sleep_for(std::chrono::microseconds(spread_ms * 1000LL / calls));
    }
  }
  bool idle = (*rt)->wait_idle_for(std::chrono::minutes(10));
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  double cpu = process_cpu_seconds() - cpu0;
  int failed = 0;
  for (auto& c : all) {
    if (!c.caller->finished() || !c.answerer->finished() || !c.caller->result().success ||
        !c.answerer->result().success) {
      ++failed;
    }
  }
  auto st = (*rt)->tick_stats();
  std::printf("realtime %-6s calls=%d threads=%d priority=%s spread=%dms starts/tick/worker=%s%s  finished=%s failed=%d  wall=%.1fs cpu=%.1fs "
              "(%.0f%% of %d cores)\n"
              "         tick lateness, start: p50=%.2fms p99=%.2fms max=%.2fms | end: p50=%.2fms p99=%.2fms "
              "max=%.2fms | ticks ending >10ms late: %llu of %llu\n"
              "         slowest pass over a worker's channels=%.2fms, slowest single channel tick=%.2fms, "
              "slowest datagram delivery=%.2fms\n",
              std::string(media_name(media)).c_str(), calls, threads,
              priority > 0 ? ("fifo:" + std::to_string(priority)).c_str() : "normal", spread_ms,
              starts_per_tick > 0 ? std::to_string(starts_per_tick).c_str() : "all",
              split_ends ? " ends on different workers" : "", idle ? "all" : "NOT ALL",
              failed, wall, cpu, 100.0 * cpu / wall / threads, threads, st.start_p50_us / 1000,
              st.start_p99_us / 1000, st.start_max_us / 1000, st.end_p50_us / 1000, st.end_p99_us / 1000,
              st.end_max_us / 1000, static_cast<unsigned long long>(st.ends_later_than_10ms),
              static_cast<unsigned long long>(st.ticks), st.slowest_tick_us / 1000, st.slowest_channel_tick_us / 1000,
              st.slowest_readable_us / 1000);
  std::map<std::string, int> codes;
  for (auto& c : all) {
    for (const auto* ch : {c.caller.get(), c.answerer.get()}) {
      if (ch->finished() && !ch->result().success) ++codes[std::string(ch->result().error->name()) + " (" + ch->result().t30_text + ")"];
    }
  }
  for (auto& [k, n] : codes) std::printf("         failure: %s x%d\n", k.c_str(), n);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  // Each time a worker sleeps in epoll_wait and is woken counts as one voluntary switch.
  std::printf("         voluntary context switches (thread wake-ups): %.0f per second of wall time\n",
              static_cast<double>(ru.ru_nvcsw - ru0.ru_nvcsw) / wall);
  std::printf("         peak RSS of the process so far: %.0f MB (%.0f KB per call, both ends)\n",
              static_cast<double>(ru.ru_maxrss) / 1024, static_cast<double>(ru.ru_maxrss) / calls);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fax channel cost and real-time capacity."};
  int cost_calls = 10, t38_calls = 1000, g711_calls = 500, threads = 2, spread_ms = 0, starts_per_tick = 1, priority = 0;
  bool skip_cost = false, skip_realtime = false, split_ends = false;
  app.add_option("--cost-calls", cost_calls, "calls per mode for the CPU cost comparison");
  app.add_option("--t38-calls", t38_calls, "simultaneous T.38 calls in the real-time run (0 skips)");
  app.add_option("--g711-calls", g711_calls, "simultaneous G.711 calls in the real-time run (0 skips)");
  app.add_option("--threads", threads, "runtime worker threads in the real-time run");
  app.add_option("--spread-ms", spread_ms, "start the real-time calls over this many ms instead of at once");
  app.add_option("--starts-per-tick", starts_per_tick,
                 "runtime admission pacing: calls started per 20 ms tick per worker (0 = all at once)");
  app.add_option("--rt-priority", priority, "run the runtime workers under SCHED_FIFO at this priority");
  std::string work_dir = fs::temp_directory_path().string();
  app.add_option("--dir", work_dir, "where the documents are written (e.g. /dev/shm for tmpfs)");
  bool no_prepare = false;
  app.add_flag("--no-prepare", no_prepare,
               "real-time run: senders decode the G4 document inside the tick (spandsp's way; the CPU "
               "comparison always does, as bare spandsp and the media gateway do)");
  bool store_1d = false;
  app.add_flag("--store-1d", store_1d, "receivers store T.4 1D instead of T.6 (cheaper page-end tick)");
  app.add_flag("--split-ends", split_ends,
               "real-time run: put a call's two ends on different workers, so datagrams cross threads");
  app.add_flag("--skip-cost", skip_cost);
  std::string cost_media = "both";
  app.add_option("--cost-media", cost_media, "media of the CPU cost comparison")
      ->check(CLI::IsMember({"both", "t38", "g711a"}));
  app.add_flag("--skip-realtime", skip_realtime);
  CLI11_PARSE(app, argc, argv);
  faxbridge::log::init("bench-channels", faxbridge::log::Level::kError);

  // Two sockets and two TIFF files per call.
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  fs::path dir = fs::path(work_dir) / ("faxbridge-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string in = (dir / "in.tif").string();
  if (store_1d) g_store = StoreCompression::kT4OneD;
  TestDocumentSpec spec;
  spec.pages = 1;
  spec.resolution = TestResolution::kFine;
  if (auto w = write_test_document(in, spec); !w) {
    std::fprintf(stderr, "%s\n", w.error().to_string().c_str());
    return 1;
  }
  std::printf("document: 1 page, 1728x2286 fine, G4; ECM on, V.17; receivers store %s\n", store_1d ? "T.4 1D" : "T.6");
  if (!skip_cost) {
    std::printf("CPU cost: senders decode the G4 page inside the tick, as bare spandsp does\n");
    if (cost_media != "g711a") measure_cost(MediaKind::kT38, in, dir, cost_calls);
    if (cost_media != "t38") measure_cost(MediaKind::kAlaw, in, dir, cost_calls);
  }
  if (!skip_realtime) {
    g_decode_ahead = !no_prepare;
    std::printf("real time: senders %s\n",
                no_prepare ? "decode inside the tick" : "decode the document into memory before the call (decode_ahead)");
    realtime_run(MediaKind::kT38, t38_calls, threads, spread_ms, starts_per_tick, priority, split_ends, in, dir);
    realtime_run(MediaKind::kAlaw, g711_calls, threads, spread_ms, starts_per_tick, priority, split_ends, in, dir);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
