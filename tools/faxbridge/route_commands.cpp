// `faxbridge routes list|add|set`: the outbound routes (prefix -> ordered gateway
// addresses, and the default route) with each address's health from the gateways'
// OPTIONS pings, and each route's T.38 policy. The policy's names are checked here, not
// by the gateway's parser (libs/gateway, which the tool does not link): the same three
// the routes table's CHECK allows, so a typo is refused as bad input (exit 2) before
// the database would refuse it as a constraint.
#include <algorithm>
#include <array>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>

#include "commands.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/routes.hpp"

namespace faxbridge::cli {
namespace {

// auto: the gateway's choice by "Allow G.711 for outgoing faxes"; require: T.38 only;
// off: G.711 only (libs/gateway media_policy.hpp).
constexpr std::array<std::string_view, 3> kT38Policies = {"auto", "require", "off"};

Result<void> check_t38_policy(const std::string& policy) {
  if (std::find(kT38Policies.begin(), kT38Policies.end(), policy) != kT38Policies.end()) return ok();
  return Error(Code::k_config_invalid, "--t38-policy must be auto, require or off; got \"" + policy + "\".");
}

}  // namespace
int routes_list(const std::string& dsn, std::ostream& out, std::ostream& err) {
  db::Pool pool(db::PoolSettings{dsn, 1});
  struct View {
    std::vector<db::Route> routes;
    std::map<std::string, db::GatewayHealth> health;
  };
  auto v = pool.transact([&](db::Tx& tx) -> Result<View> {
    View view;
    auto routes = db::routes::list(tx);
    if (!routes) return routes.error();
    view.routes = std::move(*routes);
    auto health = db::gateway_health::list(tx);
    if (!health) return health.error();
    for (auto& h : *health) view.health[h.address] = h;
    return view;
  });
  if (!v) return fail(err, v.error());
  if (v->routes.empty()) out << "No routes: outgoing faxes cannot be dialled until a default route exists.\n";
  for (const auto& r : v->routes) {
    out << "route " << r.id << "  " << (r.is_default ? "default" : "prefix " + r.prefix) << "  t38 " << r.t38_policy
        << (r.enabled ? "" : "  (disabled)") << "\n";
    for (const auto& g : r.gateways) {
      auto h = v->health.find(g.address);
      out << "  " << std::left << std::setw(32) << g.address << " "
          << (h == v->health.end() ? "not pinged yet" : h->second.state + "  " + h->second.detail) << "\n";
    }
  }
  return 0;
}

int routes_add(const std::string& dsn, const NewRouteArgs& a, std::ostream& out, std::ostream& err) {
  if (a.addresses.empty()) {
    return fail(err, Error(Code::k_config_invalid, "Give at least one gateway address (host[:port])."));
  }
  if (auto c = check_t38_policy(a.t38_policy); !c) return fail(err, c.error());
  db::Pool pool(db::PoolSettings{dsn, 1});
  auto created = pool.transact([&](db::Tx& tx) -> Result<std::optional<db::Route>> {
    if (a.only_if_none) {
      auto existing = db::routes::list(tx);
      if (!existing) return existing.error();
      if (!existing->empty()) return std::optional<db::Route>();
    }
    db::Route r;
    r.is_default = a.is_default;
    r.prefix = a.is_default ? "" : a.prefix;
    r.description = a.description;
    r.t38_policy = a.t38_policy;
    for (const auto& address : a.addresses) r.gateways.push_back({address});
    auto c = db::routes::create(tx, r);
    if (!c) return c.error();
    return std::optional<db::Route>(*c);
  });
  if (!created) return fail(err, created.error());
  if (!*created) {
    out << "Routes exist already; nothing added.\n";
    return 0;
  }
  out << "Route " << (*created)->id << " added (" << ((*created)->is_default ? "default" : "prefix " + (*created)->prefix)
      << ", " << (*created)->gateways.size() << " address(es)), T.38 policy " << (*created)->t38_policy << ".\n";
  return 0;
}

int routes_set(const std::string& dsn, std::int64_t id, const RouteChanges& changes, std::ostream& out,
               std::ostream& err) {
  if (!changes.t38_policy) return fail(err, Error(Code::k_config_invalid, "Nothing to change: give --t38-policy."));
  if (auto c = check_t38_policy(*changes.t38_policy); !c) return fail(err, c.error());
  db::Pool pool(db::PoolSettings{dsn, 1});
  auto changed = pool.transact([&](db::Tx& tx) -> Result<bool> {
    auto found = db::routes::set_t38_policy(tx, id, *changes.t38_policy);
    if (!found || !*found) return found;
    nlohmann::json details{{"t38_policy", *changes.t38_policy}};
    auto a = db::audit::record(tx, {std::nullopt, "cli", "route.update", "route", std::to_string(id), details.dump()});
    if (!a) return a.error();
    return true;
  });
  if (!changed) return fail(err, changed.error());
  if (!*changed) {
    return fail(err, Error(Code::k_route_not_found,
                           "No route has the id " + std::to_string(id) + "; `faxbridge routes list` shows them."));
  }
  out << "Route " << id << ": T.38 policy " << *changes.t38_policy << ".\n";
  return 0;
}

}  // namespace faxbridge::cli
