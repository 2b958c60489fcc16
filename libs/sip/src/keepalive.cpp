// DESIGN: whether each gateway a route names answers SIP at all, known before a fax is
// dialled there. Each target gets an OPTIONS every interval (the first at once) on a
// handle of its own that lives only while the ping is in flight, so at most one ping per
// target is ever outstanding and a dead gateway costs one transaction timeout per round,
// never a pile of them. Any answer below 500 (a 404 or 405 included) shows a stack that
// takes requests; the stack's own 408/503 (no answer, ICMP unreachable) and a gateway's
// 5xx read as down. The next ping is one interval after the last was sent, whatever the
// answer took. A new target list keeps the targets that stay as they are (their health,
// their ping in flight): the gateway hands over a new list whenever a route changes, and
// an edit must not make every address look new and unknown again.
#include "keepalive.hpp"

#include <algorithm>

#include "target.hpp"

// sofia's tag macros expand to C casts at every use site (as in user_agent.cpp).
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_tag.h>

namespace faxbridge::sip::detail {

void OptionsMonitor::set_targets(nua_s* nua, const std::vector<std::string>& targets) {
  nua_ = nua;
  std::vector<Target> kept;
  for (const auto& t : targets) {
    auto it = std::find_if(targets_.begin(), targets_.end(), [&](const Target& m) { return m.health.target == t; });
    if (it != targets_.end()) {
      kept.push_back(std::move(*it));
      targets_.erase(it);
      continue;
    }
    Target m;
    m.health.target = t;
    m.uri = *monitor_uri(t);  // validated by UserAgent::monitor
    m.to = "<" + m.uri + ">";  // so a ;transport= stays on the URI
    m.next_at = Clock::now();
    kept.push_back(std::move(m));
  }
  for (auto& m : targets_) {
    if (m.nh != nullptr) nua_handle_destroy(m.nh);
  }
  targets_ = std::move(kept);
  tick();
}

void OptionsMonitor::tick() {
  const auto now = Clock::now();
  for (auto& m : targets_) {
    if (m.nh != nullptr) continue;
    if (now < m.next_at) continue;
    m.nh = nua_handle(nua_, nullptr, NUTAG_URL(m.uri.c_str()), SIPTAG_TO_STR(m.to.c_str()), TAG_END());
    if (m.nh == nullptr) {
      m.next_at = now + interval_;
      continue;
    }
    m.sent_at = now;
    nua_options(m.nh, TAG_END());
  }
}

bool OptionsMonitor::owns(const nua_handle_s* nh) const {
  if (nh == nullptr) return false;
  return std::any_of(targets_.begin(), targets_.end(), [&](const Target& m) { return m.nh == nh; });
}

void OptionsMonitor::on_response(int status, nua_handle_s* nh) {
  if (status < 200) return;
  for (auto& m : targets_) {
    if (m.nh != nh) continue;
    const auto now = Clock::now();
    // Any answer below 500 shows a SIP stack that takes requests; a 408 or a 5xx is
    // either the stack's own timeout/ICMP report or the gateway saying it cannot.
    m.health.up = status < 500 && status != 408;
    m.health.last_status = status;
    m.health.round_trip_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - m.sent_at).count();
    m.health.checked_at = std::chrono::system_clock::now();
    nua_handle_destroy(m.nh);
    m.nh = nullptr;
    m.next_at = m.sent_at + interval_;
    const GatewayHealth health = m.health;  // the report may replace the targets
    report_(health);
    return;
  }
}

std::vector<GatewayHealth> OptionsMonitor::health() const {
  std::vector<GatewayHealth> out;
  for (const auto& m : targets_) out.push_back(m.health);
  return out;
}

void OptionsMonitor::stop() {
  for (auto& m : targets_) {
    if (m.nh != nullptr) nua_handle_destroy(m.nh);
  }
  targets_.clear();
}

}  // namespace faxbridge::sip::detail
