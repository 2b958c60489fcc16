// DESIGN: see observe.hpp. The registry creates a series on first use and finds it
// afterwards under its lock; that is a map lookup per request, cheap next to the rest.
#include "observe.hpp"

#include <cmath>

#include "faxbridge/core/log.hpp"

namespace faxbridge::api {

std::string status_class(int status) {
  if (status < 100 || status > 599) return "other";
  return std::to_string(status / 100) + "xx";
}

void observe(metrics::Registry* registry, const Finished& f) {
  // Microsecond resolution is plenty and keeps the line short.
  const double ms = std::round(f.seconds * 1e6) / 1e3;
  if (f.code.empty()) {
    log::info("api.request", {{"method", f.method}, {"route", f.route}, {"status", f.status},
                              {"duration_ms", ms}, {"request_id", f.request_id},
                              {"bytes_in", static_cast<std::int64_t>(f.bytes_in)},
                              {"bytes_out", static_cast<std::int64_t>(f.bytes_out)}, {"user", f.user_id}});
  } else {
    log::info("api.request", {{"method", f.method}, {"route", f.route}, {"status", f.status},
                              {"duration_ms", ms}, {"request_id", f.request_id},
                              {"bytes_in", static_cast<std::int64_t>(f.bytes_in)},
                              {"bytes_out", static_cast<std::int64_t>(f.bytes_out)}, {"user", f.user_id},
                              {"code", f.code}});
  }
  if (registry == nullptr) return;
  const std::string route(f.route);
  registry
      ->counter("faxbridge_api_requests_total", "API requests answered, by route pattern, method and status class.",
                {{"route", route}, {"method", std::string(f.method)}, {"status_class", status_class(f.status)}})
      .inc();
  registry
      ->histogram("faxbridge_api_request_duration_seconds", "API request latency, by route pattern.",
                  metrics::latency_buckets(), {{"route", route}})
      .observe(f.seconds);
}

}  // namespace faxbridge::api
