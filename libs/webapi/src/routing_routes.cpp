// DESIGN: the outbound routes (the seed's "IP Routes"): a prefix of the called number
// and its gateway addresses in the order they are tried (the fallbacks), and the default
// route that takes every number no prefix matches and whose addresses are also every
// route's last fallback. Prefixes match the canonical number the router routes
// (core/phone.hpp: "+3906..." when a home country is configured), longest first.
// There is exactly one default route once one is made: a second is 409, and deleting or
// disabling it is 409 route.no_default (change its addresses instead); whether a route is
// the default is fixed when it is made.
// An address is host[:port] and its transport is a field; the gateway dials what the
// router copies from the table, "host[:port][;transport=tcp|tls]" (libs/sip target.cpp),
// so the transport is stored in the address too and split off again when shown. Each
// address is shown with its health from the gateways' OPTIONS pings (gateway_health,
// "unknown" until one has pinged it). The router reads the routes per job
// (db::routing::load_for_routing), so a change applies to the next job routed.
#include <map>
#include <regex>

#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/routes.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxGateways = 16;  // more fallbacks than a call could try before the far end gives up

api::Problem not_found(std::string_view id) {
  return api::Problem(Code::k_route_not_found,
                      "No route has the id " + std::string(id) + "; GET /api/v1/admin/routes lists them.");
}

bool valid_prefix(const std::string& p) {
  static const std::regex re(R"(^\+?[0-9]{1,20}$)");
  return std::regex_match(p, re);
}

// host[:port]: a DNS name, an IPv4 address or a bracketed IPv6 address.
bool valid_address(const std::string& a) {
  static const std::regex name(
      R"(^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?(:[0-9]{1,5})?$)");
  static const std::regex ipv6(R"(^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$)");
  if (a.size() > 255) return false;
  if (!std::regex_match(a, name) && !std::regex_match(a, ipv6)) return false;
  std::string port;
  if (a.front() == '[') {
    const auto close = a.find(']');
    if (close + 1 < a.size()) port = a.substr(close + 2);
  } else if (const auto colon = a.find(':'); colon != std::string::npos) {
    port = a.substr(colon + 1);
  }
  if (!port.empty() && (std::stoi(port) < 1 || std::stoi(port) > 65535)) return false;
  return true;
}

// What the table holds -> what the API shows, and back.
db::Gateway stored(const std::string& address, const std::string& transport) {
  return {transport == "udp" ? address : address + ";transport=" + transport, transport};
}
std::pair<std::string, std::string> shown(const db::Gateway& g) {
  const auto at = g.address.find(";transport=");
  if (at == std::string::npos) return {g.address, g.transport};
  return {g.address.substr(0, at), g.address.substr(at + 11)};
}

json health_json(const std::map<std::string, db::GatewayHealth>& health, const std::string& address) {
  const auto h = health.find(address);
  if (h == health.end()) {
    return {{"state", "unknown"}, {"rtt_ms", nullptr},      {"last_status", nullptr}, {"detail", "Not pinged yet."},
            {"last_ok_at", nullptr}, {"last_fail_at", nullptr}, {"checked_at", nullptr}};
  }
  const auto& g = h->second;
  return {{"state", g.state},
          {"rtt_ms", g.rtt_ms ? json(*g.rtt_ms) : json(nullptr)},
          {"last_status", g.last_status ? json(*g.last_status) : json(nullptr)},
          {"detail", g.detail},
          {"last_ok_at", time_or_null(g.last_ok_at)},
          {"last_fail_at", time_or_null(g.last_fail_at)},
          {"checked_at", time_or_null(g.updated_at)}};
}

json route_json(const db::Route& r, const std::map<std::string, db::GatewayHealth>& health) {
  json gateways = json::array();
  for (const auto& g : r.gateways) {
    const auto [address, transport] = shown(g);
    gateways.push_back({{"address", address}, {"transport", transport}, {"health", health_json(health, g.address)}});
  }
  return {{"id", r.id},
          {"prefix", r.prefix},
          {"default", r.is_default},
          {"description", r.description},
          {"enabled", r.enabled},
          {"t38_policy", r.t38_policy},
          {"gateways", gateways},
          {"created_at", iso8601_utc(r.created_at)},
          {"updated_at", iso8601_utc(r.updated_at)}};
}

Result<std::map<std::string, db::GatewayHealth>> health_map(db::Tx& tx) {
  auto list = db::gateway_health::list(tx);
  if (!list) return list.error();
  std::map<std::string, db::GatewayHealth> out;
  for (auto& h : *list) out.emplace(h.address, std::move(h));
  return out;
}

const api::OneOf kT38{{"auto", "require", "off"}};
const api::OneOf kTransports{{"udp", "tcp", "tls"}};

// The gateways field of POST and PATCH.
void read_gateways(api::Fields& f, std::vector<db::Gateway>& out) {
  f.each("gateways", api::Items{1, kMaxGateways}, [&](api::Fields& g) {
    std::string address, transport = "udp";
    g.required("address", address, api::Text{1, 255});
    g.optional("transport", transport, kTransports);
    if (!address.empty() && !valid_address(address)) {
      g.reject("address", Code::k_api_field_invalid,
               "A gateway address is host[:port]: pbx.example.com, 192.0.2.10:5060 or [2001:db8::1]:5061 (the "
               "transport goes in \"transport\", not in the address).");
    }
    out.push_back(stored(address, transport));
  });
}

void check_prefix(api::Fields& f, const std::optional<std::string>& prefix) {
  if (prefix && !valid_prefix(*prefix)) {
    f.reject("prefix", Code::k_api_field_invalid,
             "A prefix is the first digits of the called number as the router sees it, with an optional leading + "
             "(\"+3906\" for Rome when routing.country_code is 39), at most 20 digits.");
  }
}

api::Reply list(Context& cx, api::Request& req) {
  if (auto problem = refuse_unknown_query(req)) return *problem;
  auto body = cx.pool.transact([&](db::Tx& tx) -> Result<json> {
    auto routes = db::routes::list(tx);
    if (!routes) return routes.error();
    auto health = health_map(tx);
    if (!health) return health.error();
    json items = json::array();
    for (const auto& r : *routes) items.push_back(route_json(r, *health));
    return json{{"routes", items}};
  });
  if (!body) return body.error();
  return api::Response::json(*body);
}

api::Reply get_one(Context& cx, api::Request& req) {
  auto id = path_id(req, not_found);
  if (!id) return std::move(id).problem();
  auto body = cx.pool.transact([&](db::Tx& tx) -> Result<std::optional<json>> {
    auto r = db::routes::get(tx, *id);
    if (!r || !*r) return r ? std::optional<json>{} : Result<std::optional<json>>(r.error());
    auto health = health_map(tx);
    if (!health) return health.error();
    return std::optional<json>(route_json(**r, *health));
  });
  if (!body) return body.error();
  if (!*body) return not_found(req.param("id"));
  return api::Response::json(**body);
}

api::Reply create(Context& cx, api::Request& req) {
  api::Fields f(req.json());
  db::Route route;
  std::optional<std::string> prefix;
  f.optional("default", route.is_default);
  f.optional("prefix", prefix, api::Text{0, 21});
  f.optional("description", route.description, api::Text{0, 200});
  f.optional("enabled", route.enabled);
  f.optional("t38_policy", route.t38_policy, kT38);
  read_gateways(f, route.gateways);
  if (route.is_default) {
    if (prefix && !prefix->empty()) {
      f.reject("prefix", Code::k_api_field_invalid, "The default route takes every number: leave the prefix out.");
    }
    if (!route.enabled) {
      f.reject("enabled", Code::k_api_field_invalid, "The default route cannot be disabled: outgoing faxes need it.");
    }
  } else if (!prefix || prefix->empty()) {
    f.reject("prefix", Code::k_api_field_required,
             "A route needs a prefix (or \"default\": true for the default route).");
  } else {
    check_prefix(f, prefix);
  }
  if (auto problem = f.finish()) return *problem;
  route.prefix = route.is_default ? "" : *prefix;
  auto body = cx.pool.transact([&](db::Tx& tx) -> Result<json> {
    auto made = db::routes::create(tx, route);
    if (!made) return made.error();
    auto r = db::routes::get(tx, made->id);
    if (!r) return r.error();
    auto health = health_map(tx);
    if (!health) return health.error();
    json j = route_json(**r, *health);
    auto a = db::audit::record(tx, audit_event(req, "route.create", "route", std::to_string(made->id), req.json()));
    if (!a) return a.error();
    return j;
  });
  if (!body) return body.error();
  return api::Response::json(*body, 201).with_header("Location", "/api/v1/admin/routes/" + std::to_string((*body)["id"].get<std::int64_t>()));
}

api::Reply update(Context& cx, api::Request& req) {
  auto id = path_id(req, not_found);
  if (!id) return std::move(id).problem();
  api::Fields f(req.json());
  db::RouteChange change;
  std::optional<bool> is_default;
  std::optional<std::string> description, t38_policy, prefix;
  if (f.has("default")) {
    bool d = false;
    f.optional("default", d);
    is_default = d;
  }
  f.optional("prefix", prefix, api::Text{1, 21});
  f.optional("description", description, api::Text{0, 200});
  if (f.has("enabled")) {
    bool e = true;
    f.optional("enabled", e);
    change.enabled = e;
  }
  if (f.has("t38_policy")) {
    std::string p;
    f.optional("t38_policy", p, kT38);
    t38_policy = p;
  }
  if (f.has("gateways")) {
    std::vector<db::Gateway> gateways;
    read_gateways(f, gateways);
    change.gateways = std::move(gateways);
  }
  check_prefix(f, prefix);
  if (auto problem = f.finish()) return *problem;
  change.prefix = prefix;
  change.description = description;
  change.t38_policy = t38_policy;

  struct Outcome {
    std::optional<json> route;
    std::optional<api::Problem> problem;
  };
  auto out = cx.pool.transact([&](db::Tx& tx) -> Result<Outcome> {
    auto current = db::routes::get(tx, *id);
    if (!current) return current.error();
    if (!*current) return Outcome{};
    const db::Route& r = **current;
    if (is_default && *is_default != r.is_default) {
      return Outcome{std::nullopt,
                     api::Problem(Code::k_api_validation_failed, "One field is invalid; see errors.")};
    }
    if (r.is_default && change.prefix) {
      return Outcome{std::nullopt, api::Problem(Code::k_api_validation_failed, "One field is invalid; see errors.")};
    }
    if (r.is_default && change.enabled && !*change.enabled) {
      return Outcome{std::nullopt,
                     api::Problem(Code::k_route_no_default,
                                  "The default route cannot be disabled: outgoing faxes that match no prefix need "
                                  "it. Change its gateway addresses instead.")};
    }
    auto updated = db::routes::update(tx, *id, change);
    if (!updated) return updated.error();
    auto health = health_map(tx);
    if (!health) return health.error();
    auto a = db::audit::record(tx, audit_event(req, "route.update", "route", std::to_string(*id), req.json()));
    if (!a) return a.error();
    return Outcome{route_json(**updated, *health), std::nullopt};
  });
  if (!out) return out.error();
  if (out->problem) {
    api::Problem p = std::move(*out->problem);
    if (p.code == Code::k_api_validation_failed) {
      p.errors = {is_default ? api::FieldError{"/default", Code::k_api_field_invalid,
                                               "Whether a route is the default route is fixed when it is made: "
                                               "create a route with \"default\": true, or delete this one."}
                             : api::FieldError{"/prefix", Code::k_api_field_invalid,
                                               "The default route takes every number: it has no prefix."}};
    }
    return p;
  }
  if (!out->route) return not_found(req.param("id"));
  return api::Response::json(*out->route);
}

api::Reply remove(Context& cx, api::Request& req) {
  auto id = path_id(req, not_found);
  if (!id) return std::move(id).problem();
  enum class Result_ { kDeleted, kNotFound, kDefault };
  auto out = cx.pool.transact([&](db::Tx& tx) -> Result<Result_> {
    auto current = db::routes::get(tx, *id);
    if (!current) return current.error();
    if (!*current) return Result_::kNotFound;
    if ((*current)->is_default) return Result_::kDefault;
    auto gone = db::routes::remove(tx, *id);
    if (!gone) return gone.error();
    auto a = db::audit::record(
        tx, audit_event(req, "route.delete", "route", std::to_string(*id), {{"prefix", (*current)->prefix}}));
    if (!a) return a.error();
    return Result_::kDeleted;
  });
  if (!out) return out.error();
  if (*out == Result_::kNotFound) return not_found(req.param("id"));
  if (*out == Result_::kDefault) {
    return api::Problem(Code::k_route_no_default,
                        "The default route cannot be deleted: outgoing faxes that match no prefix need it. Change "
                        "its gateway addresses instead.");
  }
  return api::Response::no_content();
}

}  // namespace

std::vector<api::Route> routing_routes(Context& cx) {
  return {
      {"GET", "/api/v1/admin/routes", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return list(cx, r); }},
      {"POST", "/api/v1/admin/routes", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return create(cx, r); }},
      {"GET", "/api/v1/admin/routes/{id}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return get_one(cx, r); }},
      {"PATCH", "/api/v1/admin/routes/{id}", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return update(cx, r); }},
      {"DELETE", "/api/v1/admin/routes/{id}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return remove(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
