// DESIGN: sofia's objects are not thread-safe, so one thread owns them all and every
// public call of the agent becomes a closure run on that thread. A caller queues it
// under a mutex, bumps an eventfd (which the loop's su_root waits on, so an idle loop
// wakes at once instead of at its next poll timeout) and waits on the closure's future.
// A caller already on the loop (a user callback calling the agent back) runs it inline:
// waiting would deadlock. Once stopping, no closure is taken: the caller gets nullopt
// (service.stopping to the API) rather than a future nobody will ever fulfil.
#include "loop_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace faxbridge::sip::detail {

Result<void> LoopQueue::open() {
  efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd_ < 0) {
    return Error(Code::k_sip_start_failed, "Cannot create the SIP agent's wake-up descriptor.")
        .with("reason", std::strerror(errno));
  }
  return ok();
}

void LoopQueue::drain() {
  std::deque<std::function<void()>> work;
  {
    std::lock_guard lock(mu_);
    work.swap(queue_);
  }
  for (auto& f : work) f();
}

void LoopQueue::clear_wakeups() {
  std::uint64_t n = 0;
  while (::read(efd_, &n, sizeof n) > 0) {
  }
}

void LoopQueue::wake() {
  const std::uint64_t one = 1;
  if (efd_ >= 0) {
    // A full counter already means "wake up"; nothing else can fail here.
    [[maybe_unused]] auto n = ::write(efd_, &one, sizeof one);
  }
}

bool LoopQueue::stop_accepting() {
  std::lock_guard lock(mu_);
  const bool was = accepting_;
  accepting_ = false;
  return was;
}

void LoopQueue::close_fd() {
  if (efd_ >= 0) ::close(efd_);
  efd_ = -1;
}

}  // namespace faxbridge::sip::detail
