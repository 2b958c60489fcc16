#include "faxbridge/db/routes.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db::routes {
namespace {

constexpr const char* kSelect =
    "SELECT r.id, r.prefix, r.is_default, r.description, r.t38_policy, r.enabled, "
    "coalesce(array_agg(g.address ORDER BY g.position) FILTER (WHERE g.address IS NOT NULL), '{}'), "
    "coalesce(array_agg(g.transport ORDER BY g.position) FILTER (WHERE g.address IS NOT NULL), '{}'), "
    "r.created_at, r.updated_at "
    "FROM routes r LEFT JOIN route_gateways g ON g.route_id = r.id ";

Route route_from(const pqxx::row& r) {
  Route route;
  route.id = r[0].as<std::int64_t>();
  route.prefix = r[1].as<std::string>();
  route.is_default = r[2].as<bool>();
  route.description = r[3].as<std::string>();
  route.t38_policy = r[4].as<std::string>();
  route.enabled = r[5].as<bool>();
  auto addresses = text_array(r[6]);
  auto transports = text_array(r[7]);
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    route.gateways.push_back({addresses[i], i < transports.size() ? transports[i] : "udp"});
  }
  route.created_at = from_sql_time(r[8].as<std::string>());
  route.updated_at = from_sql_time(r[9].as<std::string>());
  return route;
}

}  // namespace

Result<Route> create(Tx& tx, const Route& route) {
  pqxx::subtransaction sp(savepoint_parent(tx), "route_create");
  try {
    auto r = sp.exec_params(
        "INSERT INTO routes (prefix, is_default, description, t38_policy, enabled) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        route.is_default ? std::string() : route.prefix, route.is_default, route.description,
        route.t38_policy, route.enabled);
    const auto id = r[0][0].as<std::int64_t>();
    for (std::size_t i = 0; i < route.gateways.size(); ++i) {
      sp.exec_params("INSERT INTO route_gateways (route_id, position, address, transport) VALUES ($1, $2, $3, $4)",
                     id, static_cast<int>(i), route.gateways[i].address, route.gateways[i].transport);
    }
    sp.commit();
    Route out = route;
    out.id = id;
    return out;
  } catch (const pqxx::unique_violation&) {
    return Error(Code::k_db_constraint, route.is_default ? "A default route already exists."
                                                         : "A route for the prefix " + route.prefix + " already exists.");
  } catch (const pqxx::check_violation&) {
    return Error(Code::k_db_constraint,
                 "The route is invalid: a prefix is digits with an optional leading +, a T.38 "
                 "policy is auto, require or off, and a gateway transport is udp, tcp or tls.");
  }
}

Result<std::vector<Route>> list(Tx& tx) {
  auto rows = W(tx).exec(std::string(kSelect) + "GROUP BY r.id ORDER BY r.is_default DESC, r.prefix");
  std::vector<Route> out;
  for (const auto& r : rows) out.push_back(route_from(r));
  return out;
}

Result<std::optional<Route>> get(Tx& tx, std::int64_t id) {
  auto rows = W(tx).exec_params(std::string(kSelect) + "WHERE r.id = $1 GROUP BY r.id", id);
  if (rows.empty()) return std::optional<Route>{};
  return std::optional<Route>(route_from(rows[0]));
}

Result<std::optional<Route>> update(Tx& tx, std::int64_t id, const RouteChange& c) {
  pqxx::subtransaction sp(savepoint_parent(tx), "route_update");
  try {
    // Locks the row, so two concurrent edits of one route's gateways apply one after the other.
    auto found = sp.exec_params(
        "UPDATE routes SET prefix = CASE WHEN is_default THEN prefix ELSE coalesce($2, prefix) END, "
        "description = coalesce($3, description), t38_policy = coalesce($4, t38_policy), "
        "enabled = coalesce($5, enabled), updated_at = now() WHERE id = $1 RETURNING id",
        id, c.prefix, c.description, c.t38_policy, c.enabled);
    if (found.empty()) return std::optional<Route>{};
    if (c.gateways) {
      sp.exec_params("DELETE FROM route_gateways WHERE route_id = $1", id);
      for (std::size_t i = 0; i < c.gateways->size(); ++i) {
        sp.exec_params("INSERT INTO route_gateways (route_id, position, address, transport) VALUES ($1, $2, $3, $4)",
                       id, static_cast<int>(i), (*c.gateways)[i].address, (*c.gateways)[i].transport);
      }
    }
    sp.commit();
  } catch (const pqxx::unique_violation&) {
    return Error(Code::k_db_constraint, "A route for the prefix " + c.prefix.value_or("") + " already exists.");
  } catch (const pqxx::check_violation&) {
    return Error(Code::k_db_constraint,
                 "The route is invalid: a prefix is digits with an optional leading +, a T.38 "
                 "policy is auto, require or off, and a gateway transport is udp, tcp or tls.");
  }
  return get(tx, id);
}

Result<std::optional<Route>> match(Tx& tx, const std::string& number) {
  auto rows = W(tx).exec_params(std::string(kSelect) +
                                    "WHERE r.enabled AND (r.is_default OR ($1 LIKE r.prefix || '%' AND r.prefix <> '')) "
                                    "GROUP BY r.id ORDER BY r.is_default, length(r.prefix) DESC LIMIT 1",
                                number);
  if (rows.empty()) return std::optional<Route>{};
  return std::optional<Route>(route_from(rows[0]));
}

Result<bool> remove(Tx& tx, std::int64_t id) {
  return W(tx).exec_params("DELETE FROM routes WHERE id = $1", id).affected_rows() > 0;
}

Result<bool> set_t38_policy(Tx& tx, std::int64_t id, const std::string& policy) {
  pqxx::subtransaction sp(savepoint_parent(tx), "route_t38_policy");
  try {
    const bool found = sp.exec_params("UPDATE routes SET t38_policy = $2, updated_at = now() WHERE id = $1", id, policy).affected_rows() > 0;
    sp.commit();
    return found;
  } catch (const pqxx::check_violation&) {
    return Error(Code::k_db_constraint, "A T.38 policy is auto, require or off; got \"" + policy + "\".");
  }
}

}  // namespace faxbridge::db::routes
