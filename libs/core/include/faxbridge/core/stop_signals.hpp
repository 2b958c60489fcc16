#pragma once
// How a service's main() waits for SIGTERM / SIGINT without a signal handler: the
// constructor blocks both signals in the calling thread, and every thread started
// afterwards inherits that mask, so the signals stay pending until wait() takes them
// with sigwait(). No code ever runs in signal context. Construct it first in main(),
// before any library starts a thread (ZeroMQ, httplib and pqxx all do).
// Header-only on purpose: it is three POSIX calls.
#include <signal.h>
#include <unistd.h>

namespace faxbridge {

class StopSignals final {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }

  // Blocks until SIGTERM or SIGINT arrives; returns its number.
  int wait() const {
    int sig = 0;
    while (sigwait(&set_, &sig) != 0) {
    }
    return sig;
  }

  // For a part that ends on its own (a proxy that failed): wakes wait() as an
  // operator's SIGTERM would. Safe from any thread.
  static void request_stop() { ::kill(::getpid(), SIGTERM); }

 private:
  sigset_t set_;
};

}  // namespace faxbridge
