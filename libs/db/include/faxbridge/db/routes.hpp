#pragma once
// Outbound routes: a prefix of the called number, an ordered list of gateway addresses
// (fallbacks for high availability), and the default route (prefix "") for the rest.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
};

namespace routes {
Result<Route> create(Tx& tx, const Route& route);
Result<std::vector<Route>> list(Tx& tx);
// The enabled route with the longest prefix of `number`, else the default route;
// empty when neither exists (the administrator must configure a default route).
Result<std::optional<Route>> match(Tx& tx, const std::string& number);
Result<bool> remove(Tx& tx, std::int64_t id);
// The route's T.38 policy (auto | require | off); false when no route has the id.
Result<bool> set_t38_policy(Tx& tx, std::int64_t id, const std::string& policy);
}  // namespace routes

}  // namespace faxbridge::db
