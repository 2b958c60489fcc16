#pragma once
// Runs a decoder in a forked child with CPU-time and address-space limits and a
// wall-clock timeout, so a file that crashes or hangs a decoder fails one document.
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <string>

#include "faxbridge/core/result.hpp"

namespace faxbridge::document {

struct SandboxLimits {
  int cpu_seconds = 60;
  std::size_t memory_bytes = std::size_t{2} << 30;
  int timeout_ms = 120'000;
};

// fn runs in the child; its bytes or its Error come back through a pipe. A child
// that dies on a signal gives document.corrupt (signal in the context), one over its
// CPU or wall time document.timeout, one out of memory document.too_large.
Result<std::string> run_sandboxed(const SandboxLimits& limits, const std::function<Result<std::string>()>& fn);

// A zygote: a small single-threaded process forked once at start-up (after warm_up(),
// before any thread and before any large allocation) that forks one child per
// request. Forking costs time in proportion to the forking process's memory (page
// tables: ~6 ms per 100 MB), so a service holding documents and connections forks
// slowly and from many threads; the zygote stays small and forks in ~1 ms, and no
// fork ever happens in a threaded process. Each child runs `handler` on the request
// bytes under the limits, exactly as run_sandboxed() does, and is never reused: one
// document cannot see another's pages.
using RequestHandler = std::function<Result<std::string>(std::string_view request)>;

class Zygote final {
 public:
  // Forks the zygote; nullptr when that failed (callers fall back to run_sandboxed).
  static std::unique_ptr<Zygote> start(RequestHandler handler);
  ~Zygote();
  Zygote(const Zygote&) = delete;
  Zygote& operator=(const Zygote&) = delete;

  // Safe from any thread. document.sandbox_lost when the zygote is gone (a new one
  // can serve the request), io.failed when it or this process could not fork or
  // make the sockets.
  Result<std::string> run(const SandboxLimits& limits, std::string_view request);
  bool alive() const;
  int pid() const { return pid_; }
  // CPU seconds of the zygote and of its children it has reaped (/proc), for
  // benchmarks: they are not this process's children, so getrusage misses them.
  double cpu_seconds() const;

 private:
  Zygote() = default;
  int control_ = -1;
  int pid_ = -1;
  mutable std::mutex mutex_;
};

// Loads the decoders' shared state (fontconfig, glib types) once in this process, so
// every forked child starts warm. Call it from main() before any thread starts.
void warm_up();

}  // namespace faxbridge::document
