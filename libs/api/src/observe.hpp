#pragma once
// DESIGN: what every finished request leaves behind: one access-log line (method,
// route pattern, status, duration, request id, bytes) and two series: a counter by
// route, method and status class, a latency histogram by route. The label is the route
// pattern, never the raw path, so ids in paths cannot grow the series without bound;
// paths that match no route share the label "unmatched".
#include <cstdint>
#include <string>
#include <string_view>

#include "faxbridge/core/metrics.hpp"

namespace faxbridge::api {

inline constexpr const char* kUnmatchedRoute = "unmatched";

struct Finished {
  std::string_view method;
  std::string_view route;
  int status = 0;
  double seconds = 0;
  std::string_view request_id;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::string_view code;  // the problem's code, empty on success
  std::int64_t user_id = 0;  // 0: no caller
};

// "2xx" for 204.
std::string status_class(int status);

void observe(metrics::Registry* registry, const Finished& f);

}  // namespace faxbridge::api
