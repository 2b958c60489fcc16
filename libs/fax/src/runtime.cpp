// DESIGN: N workers, each a thread with its own channel list, two epoll instances, a timerfd
// (CLOCK_MONOTONIC, absolute deadlines so ticks never drift) and an eventfd used to hand
// new channels over and to stop. A channel belongs to exactly one worker for its whole life
// (spandsp's state must be used from one thread, pitfall 10 of the spandsp notes).
// Real-time loop: epoll_wait blocks on the timer and the eventfd only. T.38 channels'
// sockets sit in a second epoll set that is never waited on: each pass first asks it, with
// a zero timeout, which sockets hold datagrams and delivers them, so a datagram waits at
// most one pass (5 ms; the channel uses it at its next 20 ms tick anyway). Audio channels
// (and memory links) are polled instead, read right before their tick: a G.711 stream
// brings a datagram every 20 ms anyway, and a socket in no epoll set spares the kernel a
// wake-up call on every datagram sent and received. Either way a worker wakes 200 times a
// second whatever the number of calls and datagrams, instead of once per datagram. The timer fires every 5 ms and each firing ticks one of four phases of
// the worker's channels, so every channel ticks every 20 ms while the work comes in
// quarter-size passes; after a stall every missed firing is run (the media clock stays at
// 8000 samples/s) and each pass records how late it started and ended. New calls are admitted a few per 20 ms (pacing),
// so calls added together do not reach their page boundaries on the same tick.
// Fast loop: the same steps without waiting: deliver what the sockets hold (one epoll_wait
// for all), tick every channel, repeat; an idle fast worker sleeps on its eventfd.
// Off-media work goes to the runtime's one finishing thread, at a lower priority than the
// workers: each received page as it ends (coded and written there), and after the call the
// received document, put in place. Channels done with the media leave the lists (and epoll)
// at the end of the pass; those with a document to put in place count as active until the
// finishing thread has done it. The runtime counts active channels for wait_idle().
#include "faxbridge/fax/runtime.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "faxbridge/core/log.hpp"

namespace faxbridge::fax {

namespace {

// Lateness histogram: 10 us buckets up to 20 ms, then 1 ms buckets up to 10 s.
class Histogram {
 public:
  static constexpr std::size_t kFine = 2000;
  static constexpr std::size_t kBuckets = kFine + 10000;
  static std::size_t bucket(double us) {
    if (us < 0) us = 0;
    if (us < 20'000) return static_cast<std::size_t>(us / 10.0);
    auto b = kFine + static_cast<std::size_t>((us - 20'000) / 1000.0);
    return b < kBuckets ? b : kBuckets - 1;
  }
  static double upper_us(std::size_t b) {
    return b < kFine ? (static_cast<double>(b) + 1) * 10.0 : 20'000 + (static_cast<double>(b - kFine) + 1) * 1000.0;
  }
  void add(double us) {
    buckets_[bucket(us)].fetch_add(1, std::memory_order_relaxed);
    double m = max_.load(std::memory_order_relaxed);
    while (us > m && !max_.compare_exchange_weak(m, us, std::memory_order_relaxed)) {
    }
  }
  void merge_into(std::vector<std::uint64_t>& out, double& max) const {
    out.resize(kBuckets);
    for (std::size_t i = 0; i < kBuckets; ++i) out[i] += buckets_[i].load(std::memory_order_relaxed);
    max = std::max(max, max_.load(std::memory_order_relaxed));
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<double> max_{0};
};

double percentile(const std::vector<std::uint64_t>& b, double q) {
  std::uint64_t total = 0;
  for (auto v : b) total += v;
  if (total == 0) return 0;
  auto want = static_cast<std::uint64_t>(q * static_cast<double>(total));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    seen += b[i];
    if (seen > want) return Histogram::upper_us(i);
  }
  return Histogram::upper_us(b.size() - 1);
}

Error sys_error(const char* op) {
  return Error(Code::k_internal, std::string("The channel runtime could not start: ") + op + ".")
      .with("reason", std::strerror(errno));
}

}  // namespace

struct Worker {
  int id = 0;
  Pace pace = Pace::kRealtime;
  int epfd = -1, timerfd = -1, wakefd = -1;  // epfd waits on timerfd and wakefd
  int sockets_ep = -1;                        // the channels' sockets, polled, never waited on
  std::thread thread;
  std::mutex mu;
  std::size_t max_starts = 0;                         // groups per tick, 0 = all
  int rt_priority = 0;
  std::deque<std::vector<std::shared_ptr<FaxChannel>>> incoming;  // groups, guarded by mu
  std::vector<std::shared_ptr<FaxChannel>> channels;  // worker thread only
  std::size_t in_epoll = 0;                           // channels in sockets_ep; worker thread only
  // Real-time pace: channels are spread over kSlots phases of the 20 ms tick, one timer
  // firing every 20/kSlots ms ticking one phase, so a worker's load (and a page-boundary
  // burst) is cut into smaller passes and each channel still ticks exactly every 20 ms.
  static constexpr std::size_t kSlots = 4;
  std::array<std::vector<FaxChannel*>, kSlots> slots;
  std::size_t next_slot = 0;
  std::atomic<std::size_t> load{0};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> ticks{0};
  Histogram start_late, end_late;
  std::atomic<std::uint64_t> ends_over_10ms{0};
  std::atomic<double> slowest_channel_us{0};
  std::atomic<double> slowest_tick_us{0};
  std::atomic<double> slowest_readable_us{0};
  ChannelRuntime::Impl* rt = nullptr;

  ~Worker() {
    for (int fd : {epfd, timerfd, wakefd, sockets_ep}) {
      if (fd >= 0) ::close(fd);
    }
  }
  void wake() {
    std::uint64_t one = 1;
    ssize_t n = ::write(wakefd, &one, sizeof one);
    (void)n;
  }
  void adopt(std::size_t max_groups);
  void deliver_datagrams(bool timed);
  void reap();
  void run_realtime();
  void run_fast();
};

struct ChannelRuntime::Impl {
  RuntimeOptions options;
  metrics::Gauge* active_gauge = nullptr;
  metrics::Histogram* lateness = nullptr;
  std::vector<std::unique_ptr<Worker>> workers;
  std::mutex idle_mu;
  std::condition_variable idle_cv;
  std::size_t active = 0;  // guarded by idle_mu

  // The finishing thread: off-media work of channels that are done with the media.
  std::thread finisher;
  std::mutex finish_mu;
  std::condition_variable finish_cv;
  struct FinishWork {
    std::shared_ptr<FaxChannel> channel;
    bool last = false;  // the call is over: put the document in place
  };
  std::deque<FinishWork> to_finish;  // guarded by finish_mu
  bool finisher_stop = false;        // guarded by finish_mu

  void hand_to_finisher(std::shared_ptr<FaxChannel> ch, bool last) {
    {
      std::lock_guard lk(finish_mu);
      to_finish.push_back({std::move(ch), last});
    }
    finish_cv.notify_one();
  }

  void run_finisher() {
    // Below the media workers: storing a document may wait, a tick may not.
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
    for (;;) {
      FinishWork work;
      {
        std::unique_lock lk(finish_mu);
        finish_cv.wait(lk, [this] { return finisher_stop || !to_finish.empty(); });
        if (finisher_stop) return;
        work = std::move(to_finish.front());
        to_finish.pop_front();
      }
      if (!work.last) {
        work.channel->store_pending_pages();
        continue;
      }
      work.channel->finish_off_media_thread();
      count_result(*work.channel);
      finished(1);
    }
  }

  void finished(std::size_t n) {
    if (n == 0) return;
    std::lock_guard lk(idle_mu);
    active -= n;
    if (active_gauge) active_gauge->set(static_cast<double>(active));
    if (active == 0) idle_cv.notify_all();
  }

  void count_result(const FaxChannel& ch) {
    if (!options.metrics) return;
    const FaxResult& r = ch.result();
    std::string result = r.success ? "ok" : (r.error ? std::string(r.error->name()) : "unknown");
    // Series are created once per code; the registry lock is taken only then and here is
    // the end of a call, not the media path.
    options.metrics
        ->counter("faxbridge_fax_channel_results_total", "Fax channels ended, by result code.",
                  {{"result", result}})
        .inc();
  }
};

void Worker::adopt(std::size_t max_groups) {
  std::vector<std::shared_ptr<FaxChannel>> fresh;
  {
    std::lock_guard lk(mu);
    for (std::size_t g = 0; !incoming.empty() && (max_groups == 0 || g < max_groups); ++g) {
      for (auto& ch : incoming.front()) fresh.push_back(std::move(ch));
      incoming.pop_front();
    }
  }
  for (auto& ch : fresh) {
    ch->set_store_hook([rt = rt, weak = std::weak_ptr<FaxChannel>(ch)] {
      if (auto c = weak.lock()) rt->hand_to_finisher(std::move(c), false);
    });
    if (!ch->polled()) {
      // Level-triggered, one datagram read per report: T.38 brings a datagram every 20-30 ms
      // at most, so a socket rarely holds two; when it does, the next pass reads the next.
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = ch.get();
      if (::epoll_ctl(sockets_ep, EPOLL_CTL_ADD, ch->fd(), &ev) < 0) {
        log::error("fax.runtime_epoll_add_failed", {{"worker", id}, {"reason", std::strerror(errno)}});
      } else {
        ++in_epoll;
      }
    }
    slots[next_slot++ % kSlots].push_back(ch.get());
    channels.push_back(std::move(ch));
  }
}

void Worker::reap() {
  std::size_t before = channels.size();
  for (auto& slot : slots) {
    slot.erase(std::remove_if(slot.begin(), slot.end(), [](FaxChannel* ch) { return ch->media_done(); }), slot.end());
  }
  std::size_t to_finisher = 0;
  auto it = std::remove_if(channels.begin(), channels.end(), [&](const std::shared_ptr<FaxChannel>& ch) {
    if (!ch->media_done()) return false;
    if (ch->needs_finishing()) {
      rt->hand_to_finisher(ch, true);
      ++to_finisher;
    } else {
      rt->count_result(*ch);
    }
    if (!ch->polled() && ::epoll_ctl(sockets_ep, EPOLL_CTL_DEL, ch->fd(), nullptr) == 0) --in_epoll;
    return true;
  });
  channels.erase(it, channels.end());
  std::size_t gone = before - channels.size();
  if (gone) {
    load.fetch_sub(gone, std::memory_order_relaxed);
    rt->finished(gone - to_finisher);
  }
}

void Worker::run_realtime() {
  using Clock = std::chrono::steady_clock;
  // timerfd and steady_clock both run on CLOCK_MONOTONIC.
  timespec now_ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &now_ts);
  itimerspec its{};
  constexpr long kPeriodNs = 20'000'000 / static_cast<long>(kSlots);
  its.it_interval.tv_nsec = kPeriodNs;
  its.it_value = now_ts;
  its.it_value.tv_nsec += kPeriodNs;
  if (its.it_value.tv_nsec >= 1'000'000'000) {
    its.it_value.tv_sec += 1;
    its.it_value.tv_nsec -= 1'000'000'000;
  }
  ::timerfd_settime(timerfd, TFD_TIMER_ABSTIME, &its, nullptr);
  const auto first = Clock::time_point(std::chrono::seconds(its.it_value.tv_sec) +
                                       std::chrono::nanoseconds(its.it_value.tv_nsec));
  std::uint64_t tick_index = 0;
  std::array<epoll_event, 256> evs;
  while (!stop.load(std::memory_order_acquire)) {
    int n = ::epoll_wait(epfd, evs.data(), static_cast<int>(evs.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log::error("fax.runtime_epoll_failed", {{"worker", id}, {"reason", std::strerror(errno)}});
      return;
    }
    bool timer = false, woke = false;
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.ptr == &timerfd) timer = true;
      if (evs[i].data.ptr == &wakefd) woke = true;
    }
    if (woke) {
      std::uint64_t v;
      ssize_t r = ::read(wakefd, &v, sizeof v);
      (void)r;
      // Unpaced starts join at once; paced ones are admitted at each tick below.
      if (max_starts == 0) adopt(0);
    }
    if (timer) {
      std::uint64_t expirations = 0;
      if (::read(timerfd, &expirations, sizeof expirations) != sizeof expirations) expirations = 0;
      for (std::uint64_t e = 0; e < expirations; ++e) {
        auto deadline = first + std::chrono::nanoseconds(kPeriodNs) * tick_index;
        const std::size_t slot = tick_index % kSlots;
        auto start = Clock::now();
        start_late.add(std::chrono::duration<double, std::micro>(start - deadline).count());
        if (max_starts > 0 && slot == 0) adopt(max_starts);
        deliver_datagrams(true);
        auto prev = Clock::now();
        double slowest = 0;
        for (FaxChannel* ch : slots[slot]) {
          if (ch->polled()) ch->on_readable();
          ch->on_tick();
          auto t = Clock::now();
          slowest = std::max(slowest, std::chrono::duration<double, std::micro>(t - prev).count());
          prev = t;
        }
        auto end = prev;
        if (slowest > slowest_channel_us.load(std::memory_order_relaxed)) slowest_channel_us.store(slowest);
        double pass = std::chrono::duration<double, std::micro>(end - start).count();
        if (pass > slowest_tick_us.load(std::memory_order_relaxed)) slowest_tick_us.store(pass);
        double end_us = std::chrono::duration<double, std::micro>(end - deadline).count();
        end_late.add(end_us);
        if (rt->lateness) rt->lateness->observe(end_us / 1e6);
        if (end_us > 10'000) ends_over_10ms.fetch_add(1, std::memory_order_relaxed);
        ++tick_index;
        ticks.fetch_add(1, std::memory_order_relaxed);
      }
    }
    reap();
  }
}

void Worker::deliver_datagrams(bool timed) {
  if (in_epoll == 0) return;  // only polled channels: nothing to ask the kernel
  std::array<epoll_event, 256> evs;
  for (;;) {
    int n = ::epoll_wait(sockets_ep, evs.data(), static_cast<int>(evs.size()), 0);
    for (int i = 0; i < n; ++i) {
      auto* ch = static_cast<FaxChannel*>(evs[i].data.ptr);
      if (!timed) {
        ch->on_datagram_ready();
        continue;
      }
      auto t0 = std::chrono::steady_clock::now();
      ch->on_datagram_ready();
      double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      if (us > slowest_readable_us.load(std::memory_order_relaxed)) slowest_readable_us.store(us);
    }
    if (n < static_cast<int>(evs.size())) return;
  }
}

void Worker::run_fast() {
  while (!stop.load(std::memory_order_acquire)) {
    adopt(0);
    if (channels.empty()) {
      // Idle: only the eventfd is in the epoll set, so this sleeps until work or stop.
      epoll_event ev;
      while (::epoll_wait(epfd, &ev, 1, -1) < 0 && errno == EINTR) {
      }
      std::uint64_t v;
      ssize_t r = ::read(wakefd, &v, sizeof v);
      (void)r;
      continue;
    }
    // Deliver what arrived since the last pass (one epoll_wait for all sockets), then
    // tick everybody: the same order a real-time tick sees.
    deliver_datagrams(false);
    for (auto& ch : channels) {
      if (ch->polled()) ch->on_readable();
      ch->on_tick();
    }
    ticks.fetch_add(1, std::memory_order_relaxed);
    reap();
  }
}

ChannelRuntime::ChannelRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<ChannelRuntime>> ChannelRuntime::create(RuntimeOptions options) {
  if (options.threads < 1 || options.threads > 256) {
    return Error(Code::k_config_invalid, "The channel runtime needs 1 to 256 threads.")
        .with("threads", std::to_string(options.threads));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (options.metrics) {
    impl->active_gauge = &options.metrics->gauge("faxbridge_fax_channels_active", "Fax channels running.");
    impl->lateness = &options.metrics->histogram(
        "faxbridge_fax_tick_lateness_seconds", "How late each real-time pass ended against its deadline.",
        {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0});
  }
  for (int i = 0; i < options.threads; ++i) {
    auto w = std::make_unique<Worker>();
    w->id = i;
    w->pace = options.pace;
    w->max_starts = options.max_starts_per_tick > 0 ? static_cast<std::size_t>(options.max_starts_per_tick) : 0;
    w->rt_priority = options.pace == Pace::kRealtime ? std::clamp(options.realtime_priority, 0, 99) : 0;
    w->rt = impl.get();
    w->epfd = ::epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0) return sys_error("epoll_create1");
    w->sockets_ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (w->sockets_ep < 0) return sys_error("epoll_create1");
    w->wakefd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wakefd < 0) return sys_error("eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &w->wakefd;
    if (::epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) < 0) return sys_error("epoll_ctl");
    if (options.pace == Pace::kRealtime) {
      w->timerfd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      if (w->timerfd < 0) return sys_error("timerfd_create");
      ev.data.ptr = &w->timerfd;
      if (::epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->timerfd, &ev) < 0) return sys_error("epoll_ctl");
    }
    impl->workers.push_back(std::move(w));
  }
  impl->finisher = std::thread([rt = impl.get()] { rt->run_finisher(); });
  for (auto& w : impl->workers) {
    Worker* wp = w.get();
    wp->thread = std::thread([wp] {
      if (wp->rt_priority > 0) {
        sched_param sp{};
        sp.sched_priority = wp->rt_priority;
        int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
        if (rc != 0) {
          log::warn("fax.runtime_priority_refused", {{"worker", wp->id}, {"reason", std::strerror(rc)}});
        }
      }
      if (wp->pace == Pace::kRealtime) {
        wp->run_realtime();
      } else {
        wp->run_fast();
      }
    });
  }
  return std::unique_ptr<ChannelRuntime>(new ChannelRuntime(std::move(impl)));
}

ChannelRuntime::~ChannelRuntime() {
  for (auto& w : impl_->workers) {
    w->stop.store(true, std::memory_order_release);
    w->wake();
  }
  for (auto& w : impl_->workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  {
    std::lock_guard lk(impl_->finish_mu);
    impl_->finisher_stop = true;
  }
  impl_->finish_cv.notify_all();
  if (impl_->finisher.joinable()) impl_->finisher.join();
}

Result<void> ChannelRuntime::add(std::vector<std::shared_ptr<FaxChannel>> group) {
  if (group.empty()) return ok();
  for (const auto& ch : group) {
    if (!ch) return Error(Code::k_internal, "A null channel was handed to the runtime.");
  }
  Worker* best = impl_->workers.front().get();
  for (auto& w : impl_->workers) {
    if (w->load.load(std::memory_order_relaxed) < best->load.load(std::memory_order_relaxed)) best = w.get();
  }
  {
    std::lock_guard lk(impl_->idle_mu);
    impl_->active += group.size();
    if (impl_->active_gauge) impl_->active_gauge->set(static_cast<double>(impl_->active));
  }
  best->load.fetch_add(group.size(), std::memory_order_relaxed);
  {
    std::lock_guard lk(best->mu);
    best->incoming.push_back(std::move(group));
  }
  best->wake();
  return ok();
}

void ChannelRuntime::wait_idle() {
  std::unique_lock lk(impl_->idle_mu);
  impl_->idle_cv.wait(lk, [this] { return impl_->active == 0; });
}

bool ChannelRuntime::wait_idle_for(std::chrono::milliseconds timeout) {
  std::unique_lock lk(impl_->idle_mu);
  return impl_->idle_cv.wait_for(lk, timeout, [this] { return impl_->active == 0; });
}

std::size_t ChannelRuntime::active() const {
  std::lock_guard lk(impl_->idle_mu);
  return impl_->active;
}

const RuntimeOptions& ChannelRuntime::options() const { return impl_->options; }

TickStats ChannelRuntime::tick_stats() const {
  TickStats s;
  std::vector<std::uint64_t> start, end;
  double start_max = 0, end_max = 0;
  for (const auto& w : impl_->workers) {
    s.ticks += w->ticks.load(std::memory_order_relaxed);
    w->start_late.merge_into(start, start_max);
    w->end_late.merge_into(end, end_max);
    s.ends_later_than_10ms += w->ends_over_10ms.load(std::memory_order_relaxed);
    s.slowest_channel_tick_us = std::max(s.slowest_channel_tick_us, w->slowest_channel_us.load());
    s.slowest_tick_us = std::max(s.slowest_tick_us, w->slowest_tick_us.load());
    s.slowest_readable_us = std::max(s.slowest_readable_us, w->slowest_readable_us.load());
  }
  s.start_p50_us = percentile(start, 0.50);
  s.start_p99_us = percentile(start, 0.99);
  s.start_max_us = start_max;
  s.end_p50_us = percentile(end, 0.50);
  s.end_p99_us = percentile(end, 0.99);
  s.end_max_us = end_max;
  return s;
}

}  // namespace faxbridge::fax
