// DESIGN: group fax numbers (level 10): a fax to a group's number reaches the inbox of
// every member. A group has a name (1-64 characters, unique) and one fax number, unique
// among users' and groups' numbers alike (number.taken; db::numbers::owner under its
// lock), stored canonical like users' numbers. Members are set as a whole: PUT
// .../members {"user_ids": [...]} replaces the list (idempotent, one audit row saying
// who was added and removed), and POST /groups may carry the first list. A per-member
// POST/DELETE would make a UI that edits a list send one request per change and leave
// half an edit behind when one fails. An id that is no user is 422 naming its position
// (/user_ids/2), and nothing changes. Deleting a group keeps the faxes its members
// received through it (inbox entries lose only their via_group_id).
#include <algorithm>
#include <set>

#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/core/phone.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;

api::Problem group_not_found(std::string_view id) {
  return api::Problem(Code::k_group_not_found, "No group has the id " + std::string(id) + ".");
}

Result<json> group_json(db::Tx& tx, const db::Group& g) {
  auto members = db::groups::member_details(tx, g.id);
  if (!members) return members.error();
  json list = json::array();
  for (const auto& m : *members) list.push_back({{"id", m.id}, {"username", m.username}, {"name", m.display_name}});
  return json{{"id", g.id},
              {"name", g.name},
              {"fax_number", g.fax_number},
              {"members", list},
              {"created_at", iso8601_utc(g.created_at)}};
}

// The number, canonical, or a field error.
std::optional<std::string> read_number(api::Fields& f, bool required) {
  std::string raw;
  if (required) {
    f.required("fax_number", raw, api::Text{1, 40});
  } else {
    f.optional("fax_number", raw, api::Text{1, 40});
  }
  if (raw.empty()) return std::nullopt;
  auto n = normalize_phone(raw);
  if (!n) {
    f.reject("fax_number", n.error().code, n.error().message);
    return std::nullopt;
  }
  return n->canonical;
}

void refuse_null(api::Fields& f, const json& body, const char* name) {
  if (body.is_object() && body.contains(name) && body[name].is_null()) {
    f.reject(name, Code::k_api_field_wrong_type, "Must not be null.");
  }
}

// The "user_ids" list, checked here rather than by api::Fields (which has no list of
// integers): positive ids, each once. Its errors join the body's in finish().
struct UserIds {
  std::optional<std::vector<std::int64_t>> ids;  // nullopt: not given
  std::vector<api::FieldError> errors;
};

UserIds read_user_ids(const json& body, bool required) {
  UserIds out;
  if (!body.is_object()) return out;
  auto it = body.find("user_ids");
  if (it == body.end()) {
    if (required) out.errors.push_back({"/user_ids", Code::k_api_field_required, "This field is required."});
    return out;
  }
  if (!it->is_array()) {
    out.errors.push_back({"/user_ids", Code::k_api_field_wrong_type, "Must be a list of user ids, not " +
                                                                         std::string(it->type_name()) + "."});
    return out;
  }
  if (it->size() > 10'000) {
    out.errors.push_back({"/user_ids", Code::k_api_field_too_long, "Must have at most 10000 items."});
    return out;
  }
  std::vector<std::int64_t> ids;
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    const std::string field = "/user_ids/" + std::to_string(i);
    if (!v.is_number_integer() || v.get<std::int64_t>() <= 0) {
      out.errors.push_back({field, Code::k_api_field_wrong_type, "Must be a user's id (a positive integer)."});
    } else if (!seen.insert(v.get<std::int64_t>()).second) {
      out.errors.push_back({field, Code::k_api_field_invalid, "This user is already in the list."});
    } else {
      ids.push_back(v.get<std::int64_t>());
    }
  }
  if (out.errors.empty()) out.ids = std::move(ids);
  return out;
}

json without(const json& body, const char* name) {
  json copy = body;
  if (copy.is_object()) copy.erase(name);
  return copy;
}

// Fields::finish() with the errors checked outside it.
std::optional<api::Problem> finish(api::Fields& f, const std::vector<api::FieldError>& extra) {
  auto p = f.finish();
  if (extra.empty()) return p;
  if (!p) p = api::Problem(Code::k_api_validation_failed, "");
  p->errors.insert(p->errors.end(), extra.begin(), extra.end());
  p->detail = p->errors.size() == 1 ? "One field is invalid; see errors."
                                    : std::to_string(p->errors.size()) + " fields are invalid; see errors.";
  return p;
}

// number.taken when another user or group (not group `self`) has the number.
Result<void> check_number(db::Tx& tx, const std::string& number, std::int64_t self) {
  auto owner = db::numbers::owner(tx, number);
  if (!owner) return owner.error();
  if (!*owner) return ok();
  const auto& o = **owner;
  if (o.kind == db::NumberOwner::Kind::kGroup && o.id == self) return ok();
  return Error(Code::k_number_taken, "The fax number " + number + " already belongs to " +
                                         (o.kind == db::NumberOwner::Kind::kUser ? "the user \"" : "the group \"") +
                                         o.name + "\"; a number reaches one user or group.");
}

// Sets the members; a missing user becomes a 422 naming its position in the list.
struct MemberChange {
  std::vector<std::int64_t> added, removed;
};
Result<MemberChange> set_members(db::Tx& tx, std::int64_t group_id, const std::vector<std::int64_t>& ids) {
  auto before = db::groups::members(tx, group_id);
  if (!before) return before.error();
  auto s = db::groups::set_members(tx, group_id, ids);
  if (!s) return s.error();
  MemberChange c;
  for (auto id : ids) {
    if (std::find(before->begin(), before->end(), id) == before->end()) c.added.push_back(id);
  }
  for (auto id : *before) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) c.removed.push_back(id);
  }
  return c;
}

// user.not_found from set_members as the validation problem it is for the client.
api::Reply member_problem(const Error& e, const std::vector<std::int64_t>& ids) {
  if (e.code != Code::k_user_not_found) return e;
  std::string missing;
  for (const auto& [k, v] : e.context) {
    if (k == "user_id") missing = v;
  }
  api::Problem p(Code::k_api_validation_failed, "One field is invalid; see errors.");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (std::to_string(ids[i]) == missing) {
      p.errors.push_back({"/user_ids/" + std::to_string(i), Code::k_user_not_found,
                          "No user has the id " + missing + "."});
    }
  }
  if (p.errors.empty()) return e;
  return p;
}

api::Reply create(Context& cx, api::Request& req) {
  const json rest = without(req.json(), "user_ids");
  api::Fields f(rest);
  std::string name;
  f.required("name", name, api::Text{1, 64});
  const auto number = read_number(f, true);
  const auto [ids, id_errors] = read_user_ids(req.json(), false);
  if (auto problem = finish(f, id_errors)) return *problem;
  auto made = cx.pool.transact([&](db::Tx& tx) -> Result<json> {
    if (auto n = check_number(tx, *number, 0); !n) return n.error();
    auto g = db::groups::create(tx, name, *number);
    if (!g) return g.error();
    if (ids) {
      auto m = set_members(tx, g->id, *ids);
      if (!m) return m.error();
    }
    auto a = db::audit::record(tx, audit_event(req, "group.create", "group", std::to_string(g->id),
                                               {{"name", name}, {"fax_number", *number},
                                                {"user_ids", ids.value_or(std::vector<std::int64_t>{})}}));
    if (!a) return a.error();
    auto j = group_json(tx, *g);
    return j;
  });
  if (!made) return ids ? member_problem(made.error(), *ids) : api::Reply(made.error());
  return api::Response::json(*made, 201)
      .with_header("Location", "/api/v1/admin/groups/" + std::to_string((*made)["id"].get<std::int64_t>()));
}

api::Reply list(Context& cx, api::Request& req) {
  if (auto problem = refuse_unknown_query(req)) return *problem;
  auto groups = cx.pool.transact([&](db::Tx& tx) -> Result<json> {
    auto all = db::groups::list(tx);
    if (!all) return all.error();
    json items = json::array();
    for (const auto& g : *all) {
      auto j = group_json(tx, g);
      if (!j) return j;
      items.push_back(std::move(*j));
    }
    return items;
  });
  if (!groups) return groups.error();
  return api::Response::json({{"groups", *groups}});
}

api::Reply get(Context& cx, api::Request& req) {
  auto id = path_id(req, group_not_found);
  if (!id) return std::move(id).problem();
  auto g = cx.pool.transact([&](db::Tx& tx) -> Result<json> {
    auto found = db::groups::get(tx, *id);
    if (!found) return found.error();
    return group_json(tx, *found);
  });
  if (!g) return g.error();
  return api::Response::json(*g);
}

api::Reply update(Context& cx, api::Request& req) {
  auto id = path_id(req, group_not_found);
  if (!id) return std::move(id).problem();
  const json& body = req.json();
  api::Fields f(body);
  refuse_null(f, body, "name");
  refuse_null(f, body, "fax_number");
  std::optional<std::string> name;
  f.optional("name", name, api::Text{1, 64});
  const auto number = read_number(f, false);
  if (auto problem = f.finish()) return *problem;
  auto done = cx.pool.transact([&](db::Tx& tx) -> Result<json> {
    auto g = db::groups::get(tx, *id);
    if (!g) return g.error();
    std::vector<std::string> changed;
    if (name && *name != g->name) {
      g->name = *name;
      changed.emplace_back("name");
    }
    if (number && *number != g->fax_number) {
      if (auto n = check_number(tx, *number, *id); !n) return n.error();
      g->fax_number = *number;
      changed.emplace_back("fax_number");
    }
    if (!changed.empty()) {
      auto w = db::groups::update(tx, *g);
      if (!w) return w.error();
      auto a = db::audit::record(tx, audit_event(req, "group.update", "group", std::to_string(*id),
                                                 {{"fields", changed}, {"name", g->name},
                                                  {"fax_number", g->fax_number}}));
      if (!a) return a.error();
    }
    return group_json(tx, *g);
  });
  if (!done) return done.error();
  return api::Response::json(*done);
}

api::Reply remove(Context& cx, api::Request& req) {
  auto id = path_id(req, group_not_found);
  if (!id) return std::move(id).problem();
  auto done = cx.pool.transact([&](db::Tx& tx) -> Result<bool> {
    auto g = db::groups::get(tx, *id);
    if (!g) return g.error();
    auto r = db::groups::remove(tx, *id);
    if (!r) return r;
    auto a = db::audit::record(tx, audit_event(req, "group.delete", "group", std::to_string(*id),
                                               {{"name", g->name}, {"fax_number", g->fax_number}}));
    if (!a) return a.error();
    return r;
  });
  if (!done) return done.error();
  return api::Response::no_content();
}

api::Reply put_members(Context& cx, api::Request& req) {
  auto id = path_id(req, group_not_found);
  if (!id) return std::move(id).problem();
  const json rest = without(req.json(), "user_ids");
  api::Fields f(rest);
  const auto [ids, id_errors] = read_user_ids(req.json(), true);
  if (auto problem = finish(f, id_errors)) return *problem;
  auto done = cx.pool.transact([&](db::Tx& tx) -> Result<json> {
    auto g = db::groups::get(tx, *id);
    if (!g) return g.error();
    auto c = set_members(tx, *id, *ids);
    if (!c) return c.error();
    if (!c->added.empty() || !c->removed.empty()) {
      auto a = db::audit::record(tx, audit_event(req, "group.members", "group", std::to_string(*id),
                                                 {{"added", c->added}, {"removed", c->removed}}));
      if (!a) return a.error();
    }
    return group_json(tx, *g);
  });
  if (!done) return member_problem(done.error(), *ids);
  return api::Response::json(*done);
}

}  // namespace

std::vector<api::Route> admin_groups_routes(Context& cx) {
  return {
      {"GET", "/api/v1/admin/groups", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return list(cx, r); }},
      {"POST", "/api/v1/admin/groups", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return create(cx, r); }},
      {"GET", "/api/v1/admin/groups/{id}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return get(cx, r); }},
      {"PATCH", "/api/v1/admin/groups/{id}", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return update(cx, r); }},
      {"DELETE", "/api/v1/admin/groups/{id}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return remove(cx, r); }},
      {"PUT", "/api/v1/admin/groups/{id}/members", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return put_members(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
