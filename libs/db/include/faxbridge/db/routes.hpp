#pragma once
// Outbound routes: a prefix of the called number, an ordered list of gateway addresses
// (fallbacks for high availability), and the default route (prefix "") for the rest.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

struct Gateway {
  std::string address;  // host[:port] or a sip: URI
  std::string transport = "udp";
};

struct Route {
  std::int64_t id = 0;
  std::string prefix;  // "" for the default route
  bool is_default = false;
  std::string description;
  std::string t38_policy = "auto";  // auto | require | off
  bool enabled = true;
  std::vector<Gateway> gateways;  // in the order they are tried
  TimePoint created_at{};          // as stored (list, get, update)
  TimePoint updated_at{};
};

// What an update changes; absent fields stay. `gateways` replaces the whole list.
struct RouteChange {
  std::optional<std::string> prefix;
  std::optional<std::string> description;
  std::optional<std::string> t38_policy;
  std::optional<bool> enabled;
  std::optional<std::vector<Gateway>> gateways;
};

namespace routes {
Result<Route> create(Tx& tx, const Route& route);
Result<std::vector<Route>> list(Tx& tx);
Result<std::optional<Route>> get(Tx& tx, std::int64_t id);
// nullopt when no route has the id; db.constraint for a prefix another route has.
Result<std::optional<Route>> update(Tx& tx, std::int64_t id, const RouteChange& change);
// The enabled route with the longest prefix of `number`, else the default route;
// empty when neither exists (the administrator must configure a default route).
Result<std::optional<Route>> match(Tx& tx, const std::string& number);
Result<bool> remove(Tx& tx, std::int64_t id);
// The route's T.38 policy (auto | require | off); false when no route has the id.
Result<bool> set_t38_policy(Tx& tx, std::int64_t id, const std::string& policy);
}  // namespace routes

}  // namespace faxbridge::db
