#pragma once
// What to do with a delivery that did not succeed: the pure decision, apart from the
// database and the network (unit-tested alone).
//
// A temporary failure (an error of kind kUnavailable: the server unreachable, a 4xx
// answer, no SMTP settings yet, a fax-to-email waiting for its PDF) is tried again
// after a backoff that doubles from `first` up to `max`, for as long as the row is
// younger than `window` (setting notifications.retry_hours, 2 days by default: the
// way mail servers queue). Past the window it fails with notification.expired, keeping
// the last error's sentence. Anything else (a 5xx answer, an address no server takes,
// a template that does not render) fails at once. A failure is told to the
// administrator, unless the mail was itself an administrator alert (never an alert
// about an alert) or was only suppressed.
#include <chrono>
#include <string>
#include <vector>

#include "faxbridge/core/error.hpp"

namespace faxbridge::notifier {

struct RetryPolicy {
  std::chrono::seconds window{std::chrono::hours(48)};
  std::chrono::milliseconds first{std::chrono::seconds(60)};
  std::chrono::milliseconds max{std::chrono::hours(1)};
  // notification.waiting (the PDF is being made): soon, and never long.
  std::chrono::milliseconds waiting_first{std::chrono::seconds(2)};
  std::chrono::milliseconds waiting_max{std::chrono::seconds(30)};
};

struct Verdict {
  bool retry = false;
  std::chrono::milliseconds delay{0};  // retry: how long to wait
  Error error;                         // what the row records
  bool alert_admin = false;            // failed: tell the administrator
};

// tries: the tries that ended before this one; age: since the row was written.
Verdict decide(const Error& error, int tries, std::chrono::milliseconds age, const RetryPolicy& policy,
               bool is_admin_alert);

// The watchdog's alerts: the conditions an administrator must hear of although no single
// fax tells them (a gateway that stopped answering, a queue that stopped moving,
// conversions that keep failing). Each has a stable cause; the alerts of one cause
// are rate-limited like every alert.
struct WatchFacts {
  long queued_due = 0;
  double oldest_queued_due_s = 0;
  double since_last_attempt_s = -1;  // -1: no call was ever placed
  long conversions_failed_last_hour = 0;
  std::vector<std::string> gateways_down;
  double longest_gateway_down_s = 0;
};
struct WatchThresholds {
  double queue_stalled_s = 600;         // queued work due this long with no call placed meanwhile
  long conversion_failures_per_hour = 5;
  double gateway_down_s = 120;          // a gateway address down this long
};
struct WatchAlert {
  std::string cause;    // alert.queue_stalled, alert.conversions_failing, alert.gateway_down
  std::string message;  // what is wrong and what to look at
};
std::vector<WatchAlert> watch_alerts(const WatchFacts& facts, const WatchThresholds& thresholds);

}  // namespace faxbridge::notifier
