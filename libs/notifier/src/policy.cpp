// The retry decision (policy.hpp).
#include "faxbridge/notifier/policy.hpp"

#include <algorithm>

namespace faxbridge::notifier {

Verdict decide(const Error& error, int tries, std::chrono::milliseconds age, const RetryPolicy& p,
               bool is_admin_alert) {
  Verdict v{false, std::chrono::milliseconds(0), error, false};
  if (error.kind() == ErrorKind::kUnavailable) {
    const bool waiting = error.code == Code::k_notification_waiting;
    const auto first = waiting ? p.waiting_first : p.first;
    const auto max = waiting ? p.waiting_max : p.max;
    const int doublings = std::clamp(tries, 0, 30);
    auto delay = first;
    for (int i = 0; i < doublings && delay < max; ++i) delay *= 2;
    delay = std::min(delay, max);
    if (age + delay <= p.window) {
      v.retry = true;
      v.delay = delay;
      return v;
    }
    const auto hours = std::chrono::duration_cast<std::chrono::hours>(p.window).count();
    v.error = Error(Code::k_notification_expired, "Not delivered within " + std::to_string(hours) +
                                                      " hours; the last try: " + error.message);
  }
  v.alert_admin = !is_admin_alert && error.code != Code::k_notification_suppressed;
  return v;
}

std::vector<WatchAlert> watch_alerts(const WatchFacts& f, const WatchThresholds& t) {
  std::vector<WatchAlert> out;
  const bool no_recent_call = f.since_last_attempt_s < 0 || f.since_last_attempt_s >= t.queue_stalled_s;
  if (f.queued_due > 0 && f.oldest_queued_due_s >= t.queue_stalled_s && no_recent_call) {
    out.push_back({"alert.queue_stalled",
                   std::to_string(f.queued_due) + " fax(es) are due to be dialled, the oldest for " +
                       std::to_string(static_cast<long>(f.oldest_queued_due_s / 60)) +
                       " minutes, and no call was placed meanwhile: check that a media gateway is running "
                       "(its /healthz) and that fax.max_concurrent_outgoing is not 0."});
  }
  if (f.conversions_failed_last_hour >= t.conversion_failures_per_hour) {
    out.push_back({"alert.conversions_failing",
                   std::to_string(f.conversions_failed_last_hour) +
                       " faxes failed in the last hour because their documents could not be converted: check "
                       "the document converter's log (LibreOffice, the sandbox) and the failed faxes' error codes."});
  }
  if (!f.gateways_down.empty() && f.longest_gateway_down_s >= t.gateway_down_s) {
    std::string list;
    for (const auto& a : f.gateways_down) list += (list.empty() ? "" : ", ") + a;
    out.push_back({"alert.gateway_down",
                   "The gateway address(es) " + list +
                       " do not answer SIP OPTIONS; faxes routed there go to the next address or the default "
                       "route. Check the PBX or voice gateway and the route's addresses."});
  }
  return out;
}

}  // namespace faxbridge::notifier
