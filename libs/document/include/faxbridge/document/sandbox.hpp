#pragma once
// Runs a decoder in a forked child with CPU-time and address-space limits and a
// wall-clock timeout, so a file that crashes or hangs a decoder fails one document.
#include <functional>
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

// Loads the decoders' shared state (fontconfig, glib types) once in this process, so
// every forked child starts warm. Call it from main() before any thread starts.
void warm_up();

}  // namespace faxbridge::document
