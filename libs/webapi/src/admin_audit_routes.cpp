// DESIGN: the audit log for the administrator (level 10): who changed what, when and
// from where. Every change the API, the CLI and the services make writes a row in the
// transaction of the change (db::audit::record), with the actor (user id and name, or
// "cli"), a dotted action, the object and the remote address of the request. The list
// is newest first (by id, which follows commit order closely enough for people; `at`
// is the transaction's start) and pages with a cursor. Filters: actor (a name, exact,
// case-insensitive), action (a prefix: "user." is every user change), object_type and
// object_id (exact), since (inclusive) and until (exclusive). Rows are never changed
// through the API.
#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/db/records.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;

json event_json(const db::AuditRow& r) {
  auto details = json::parse(r.event.details_json, nullptr, false);
  if (details.is_discarded()) details = json::object();
  return {{"id", r.id},
          {"at", iso8601_utc(r.at)},
          {"actor", {{"user_id", r.event.actor_user_id ? json(*r.event.actor_user_id) : json(nullptr)},
                     {"name", r.event.actor}}},
          {"action", r.event.action},
          {"object_type", r.event.object_type},
          {"object_id", r.event.object_id},
          {"details", details},
          {"ip", r.event.ip.empty() ? json(nullptr) : json(r.event.ip)}};
}

api::Reply list(Context& cx, api::Request& req) {
  QueryCheck q(req);
  db::AuditQuery query;
  query.actor = q.text("actor", 100).value_or("");
  query.action_prefix = q.text("action", 100).value_or("");
  query.object_type = q.text("object_type", 100).value_or("");
  query.object_id = q.text("object_id", 200).value_or("");
  query.since = q.time("since");
  query.until = q.time("until");
  query.limit = q.limit();
  query.before_id = q.cursor();
  q.known({"actor", "action", "object_type", "object_id", "since", "until", "limit", "cursor"});
  if (auto problem = q.finish()) return *problem;
  const int page = query.limit;
  query.limit = page + 1;
  auto rows = cx.pool.transact([&](db::Tx& tx) { return db::audit::list(tx, query); });
  if (!rows) return rows.error();
  json items = json::array();
  json next = nullptr;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    if (static_cast<int>(i) == page) {
      next = encode_cursor((*rows)[i - 1].id);
      break;
    }
    items.push_back(event_json((*rows)[i]));
  }
  return api::Response::json({{"events", items}, {"next_cursor", next}});
}

}  // namespace

std::vector<api::Route> admin_audit_routes(Context& cx) {
  return {
      {"GET", "/api/v1/admin/audit", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return list(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
