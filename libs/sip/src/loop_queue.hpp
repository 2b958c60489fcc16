#pragma once
// The way into the agent's loop thread: closures queued by any thread, and an eventfd
// the loop waits on (registered in its su_root) that says "the queue has work". Private
// to libs/sip; see loop_queue.cpp.
#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "faxbridge/core/result.hpp"

namespace faxbridge::sip::detail {

class LoopQueue final {
 public:
  LoopQueue() = default;
  ~LoopQueue() { close_fd(); }
  LoopQueue(const LoopQueue&) = delete;
  LoopQueue& operator=(const LoopQueue&) = delete;

  // Makes the eventfd; sip.start_failed when the system has none to give.
  Result<void> open();
  int fd() const { return efd_; }
  // The thread calling this is the loop: closures run() from it run inline.
  void bind_to_current_thread() { loop_id_ = std::this_thread::get_id(); }

  // Runs `f` on the loop thread and returns its result; nullopt once closed.
  template <class F>
  auto run(F&& f) -> std::optional<decltype(f())> {
    using R = decltype(f());
    if (std::this_thread::get_id() == loop_id_) return f();
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(f));
    auto result = task->get_future();
    {
      std::lock_guard lock(mu_);
      if (!accepting_) return std::nullopt;
      queue_.emplace_back([task] { (*task)(); });
    }
    wake();
    return result.get();
  }

  // On the loop: runs what is queued now.
  void drain();
  // On the loop, from the su_root callback: empties the eventfd's counter.
  void clear_wakeups();
  void wake();
  // Refuses closures from now on (those queued still run at the loop's last drain);
  // true when it was accepting until now.
  bool stop_accepting();
  void close_fd();

 private:
  int efd_ = -1;
  // Read by callers on other threads to tell whether they already run on the loop.
  std::atomic<std::thread::id> loop_id_{};
  std::mutex mu_;
  std::deque<std::function<void()>> queue_;
  bool accepting_ = true;
};

}  // namespace faxbridge::sip::detail
