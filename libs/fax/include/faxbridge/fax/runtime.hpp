#pragma once
// The channel runtime: many fax channels on a few worker threads. Each worker owns its
// channels (spandsp has no locking, so a channel never changes thread) and runs one loop:
//  - real-time pace: epoll over a timerfd, the channels' sockets and a wake-up eventfd; no
//    thread per call, no busy waiting. A worker's channels are spread over four phases of
//    the 20 ms tick (a firing every 5 ms ticks one phase), so each channel ticks every 20 ms
//    while the work comes in smaller passes; the lateness of every pass is recorded;
//  - fast pace: no timer; the loop drains every link and ticks every channel back to back,
//    so calls run as fast as the CPU allows with the same media time base.
// Channels added together (the two ends of a loopback call) share a worker, which in fast
// pace is what keeps their clocks in step.
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "faxbridge/core/metrics.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/fax/channel.hpp"

namespace faxbridge::fax {

enum class Pace { kRealtime, kFast };

struct RuntimeOptions {
  int threads = 2;
  Pace pace = Pace::kRealtime;
  // Real-time pace: at most this many newly added groups start per 20 ms tick per worker
  // (0 = no limit; the default 1 admits 50 calls a second per worker). Calls started on the same tick hit their page boundaries (T.4/T.6 coding and
  // TIFF I/O, milliseconds each) on the same tick too; admitting a few per tick keeps those
  // bursts apart, at the price of a start delay of up to (queued / limit) ticks.
  int max_starts_per_tick = 1;
  // Real-time pace: run the workers under SCHED_FIFO at this priority (1..99; 0 = normal
  // scheduling), as media servers do so that other load on the host cannot delay a tick.
  // Needs CAP_SYS_NICE; without it the runtime logs a warning and runs normally.
  int realtime_priority = 0;
  // When set, the runtime keeps these series up to date (for the service's /metrics):
  //   faxbridge_fax_channels_active                      gauge
  //   faxbridge_fax_channel_results_total{result="ok"|"fax.timeout"|...}   counter
  //   faxbridge_fax_tick_lateness_seconds                histogram of pass-end lateness
  metrics::Registry* metrics = nullptr;
};

struct TickStats {
  std::uint64_t ticks = 0;           // passes, summed over workers (4 per 20 ms in real time)
  // Lateness of a pass's start and of its end (all its channels ticked) against the pass's
  // deadline, in microseconds. Real-time pace only.
  double start_p50_us = 0, start_p99_us = 0, start_max_us = 0;
  double end_p50_us = 0, end_p99_us = 0, end_max_us = 0;
  std::uint64_t ends_later_than_10ms = 0;
  double slowest_channel_tick_us = 0;  // the longest single on_tick() of any channel
  double slowest_tick_us = 0;          // the longest pass over all channels of one worker
  double slowest_readable_us = 0;      // the longest single on_readable() (datagram delivery)
};

class ChannelRuntime {
 public:
  static Result<std::unique_ptr<ChannelRuntime>> create(RuntimeOptions options);
  ~ChannelRuntime();  // stops the workers; unfinished channels are dropped unfinished
  ChannelRuntime(const ChannelRuntime&) = delete;
  ChannelRuntime& operator=(const ChannelRuntime&) = delete;

  // Hands channels to one worker (the least loaded). They start at its next tick (or later,
  // see max_starts_per_tick) and run until finished.
  Result<void> add(std::vector<std::shared_ptr<FaxChannel>> group);
  // Blocks until every channel added so far has finished.
  void wait_idle();
  // Like wait_idle, but gives up after `timeout` (wall time); true when idle.
  bool wait_idle_for(std::chrono::milliseconds timeout);
  std::size_t active() const;
  TickStats tick_stats() const;
  const RuntimeOptions& options() const;

  struct Impl;

 private:
  explicit ChannelRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace faxbridge::fax
