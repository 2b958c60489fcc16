// `faxbridge routes list|add`: the outbound routes (prefix -> ordered gateway addresses,
// and the default route) with each address's health from the gateways' OPTIONS pings.
#include <iomanip>
#include <iostream>
#include <map>

#include "commands.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/routes.hpp"

namespace faxbridge::cli {
namespace {

int fail(std::ostream& err, const Error& e) {
  err << "faxbridge: " << e.to_string() << "\n";
  return e.kind() == ErrorKind::kInvalidArgument ? 2 : 1;
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
      << ", " << (*created)->gateways.size() << " address(es)).\n";
  return 0;
}

}  // namespace faxbridge::cli
