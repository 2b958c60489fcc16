#include "faxbridge/gateway/route_health.hpp"

#include <algorithm>
#include <cctype>

#include "faxbridge/core/log.hpp"
#include "faxbridge/db/routes.hpp"

namespace faxbridge::gateway {

std::string RouteHealth::ping_target(const std::string& address) {
  std::string t = address;
  // The address's transport is kept: a gateway reached over TCP or TLS is pinged that
  // way (a TLS-only gateway does not answer on UDP and would read as down).
  std::string transport;
  for (const char* p : {";transport=tcp", ";transport=tls"}) {
    if (t.find(p) != std::string::npos) transport = p;
  }
  if (t.rfind("sips:", 0) == 0 || t.rfind("<sips:", 0) == 0) transport = ";transport=tls";
  if (!t.empty() && t.front() == '<') t.erase(0, 1);
  if (t.rfind("sips:", 0) == 0) t.erase(0, 5);
  else if (t.rfind("sip:", 0) == 0) t.erase(0, 4);
  if (auto at = t.find('@'); at != std::string::npos) t.erase(0, at + 1);
  if (auto end = t.find_first_of(";>?"); end != std::string::npos) t.erase(end);
  // What the agent accepts as a ping target; anything else is not pinged (and so never
  // counts as down).
  const bool usable = !t.empty() && t.size() <= 255 && std::all_of(t.begin(), t.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
  });
  return usable ? t + transport : std::string();
}

bool RouteHealth::set_addresses(const std::vector<std::string>& addresses) {
  std::map<std::string, std::set<std::string>> next;
  for (const auto& a : addresses) {
    const std::string t = ping_target(a);
    if (!t.empty()) next[t].insert(a);
  }
  bool targets_changed = next.size() != addresses_by_target_.size();
  for (auto it = next.begin(); !targets_changed && it != next.end(); ++it) {
    targets_changed = addresses_by_target_.count(it->first) == 0;
  }
  for (auto it = down_by_target_.begin(); it != down_by_target_.end();) {
    it = next.count(it->first) ? std::next(it) : down_by_target_.erase(it);
  }
  addresses_by_target_ = std::move(next);
  return targets_changed;
}

std::vector<std::string> RouteHealth::ping_targets() const {
  std::vector<std::string> out;
  for (const auto& [t, _] : addresses_by_target_) out.push_back(t);
  return out;
}

std::vector<db::GatewayHealth> RouteHealth::record(const sip::GatewayHealth& result) {
  auto it = addresses_by_target_.find(result.target);
  if (it == addresses_by_target_.end()) return {};  // a ping of a target since removed
  down_by_target_[result.target] = !result.up;
  std::vector<db::GatewayHealth> rows;
  for (const auto& a : it->second) rows.push_back(health_row(a, result));
  return rows;
}

bool RouteHealth::is_down(const std::string& address) const {
  auto it = down_by_target_.find(ping_target(address));
  return it != down_by_target_.end() && it->second;
}

std::vector<std::string> RouteHealth::order(const std::vector<std::string>& addresses) const {
  std::vector<std::string> out = addresses;
  std::stable_partition(out.begin(), out.end(), [&](const std::string& a) { return !is_down(a); });
  return out;
}

db::GatewayHealth health_row(const std::string& address, const sip::GatewayHealth& result) {
  db::GatewayHealth h;
  h.address = address;
  h.state = result.up ? "up" : "down";
  if (result.round_trip_ms >= 0) h.rtt_ms = static_cast<int>(result.round_trip_ms);
  h.last_status = result.last_status;
  h.detail = result.up ? "OPTIONS answered " + std::to_string(result.last_status)
                       : "OPTIONS failed with " + std::to_string(result.last_status);
  return h;
}

HealthMonitor::HealthMonitor(Submit submit, Post post,
                             std::function<Result<void>(const std::vector<std::string>&)> monitor,
                             std::chrono::milliseconds refresh_interval)
    : submit_(std::move(submit)), post_(std::move(post)), monitor_(std::move(monitor)),
      refresh_interval_(refresh_interval) {}

void HealthMonitor::tick() {
  if (refresh_interval_.count() <= 0 || loading_) return;  // monitoring switched off, or a load in flight
  const auto now = std::chrono::steady_clock::now();
  if (now < next_refresh_) return;
  next_refresh_ = now + refresh_interval_;
  loading_ = submit_([this](db::Pool& pool) {
    auto routes = pool.transact([&](db::Tx& tx) { return db::routes::list(tx); });
    post_([this, routes = std::move(routes)] {
      loading_ = false;
      if (!routes) {
        log::write_error(log::Level::kWarn, "gateway.health_routes_failed", routes.error());
        return;
      }
      std::vector<std::string> addresses;
      for (const auto& r : *routes) {
        if (!r.enabled) continue;
        for (const auto& g : r.gateways) addresses.push_back(g.address);
      }
      apply_routes(addresses);
    });
  });
}

void HealthMonitor::apply_routes(const std::vector<std::string>& addresses) {
  std::map<std::string, std::string> states;
  for (const auto& a : addresses) {
    auto it = states_.find(a);
    states[a] = it == states_.end() ? "unknown" : it->second;
  }
  states_ = std::move(states);
  if (!health_.set_addresses(addresses)) return;
  const auto targets = health_.ping_targets();
  if (auto m = monitor_(targets); !m) {
    log::write_error(log::Level::kWarn, "gateway.health_monitor_failed", m.error());
    return;
  }
  log::info("gateway.health_targets", {{"count", static_cast<std::int64_t>(targets.size())}});
}

void HealthMonitor::record(const sip::GatewayHealth& result) {
  const auto rows = health_.record(result);
  if (rows.empty()) return;
  for (const auto& row : rows) {
    auto it = states_.find(row.address);
    if (it != states_.end() && it->second != row.state) {
      log::info("gateway.health_changed", {{"address", row.address}, {"state", row.state}, {"status", result.last_status}});
    }
    states_[row.address] = row.state;
  }
  // A row lost to a saturated worker is replaced by the next ping's.
  (void)submit_([rows](db::Pool& pool) {
    auto written = pool.transact([&](db::Tx& tx) -> Result<void> {
      for (const auto& row : rows) {
        if (auto r = db::gateway_health::report(tx, row); !r) return r;
      }
      return ok();
    });
    if (!written) log::write_error(log::Level::kWarn, "gateway.health_write_failed", written.error());
  });
}

}  // namespace faxbridge::gateway
