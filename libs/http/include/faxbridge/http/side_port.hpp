#pragma once
// The side port every service has (ARCHITECTURE.md section 6): GET /healthz and
// GET /metrics on a small HTTP server thread, apart from any public API port. /metrics
// renders the registry it was given (the service runtime's), which must outlive it.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "faxbridge/core/metrics.hpp"
#include "faxbridge/core/result.hpp"

namespace faxbridge::http {

// probe() returns whether the dependency is usable and may set `detail` to a short,
// human-readable reason. It runs on the HTTP thread for every /healthz request, so it
// must be cheap and thread-safe; an exception counts as "not ok".
struct HealthCheck {
  std::string name;
  std::function<bool(std::string& detail)> probe;
};

class SidePort final {
 public:
  // port 0: ephemeral. metrics nullptr: /metrics answers an empty exposition.
  SidePort(std::string bind_address, int port, std::vector<HealthCheck> checks, const metrics::Registry* metrics);
  ~SidePort();  // stops
  SidePort(const SidePort&) = delete;
  SidePort& operator=(const SidePort&) = delete;

  // Binds (io.failed with the address and reason when it can't) and returns the bound
  // port; then serves on a background thread. Call once.
  Result<int> start();
  void add_check(HealthCheck c);  // thread-safe
  void stop();                    // idempotent

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faxbridge::http
