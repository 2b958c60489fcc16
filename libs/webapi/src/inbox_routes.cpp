// DESIGN: the faxes a caller received. GET /inbox lists the caller's inbox entries
// joined with their received faxes, unread first, then newest first, keyset-paginated:
// the cursor is the sort key of the page's last fax (read, received_at, id), base64url,
// so the next page starts exactly after it however many faxes arrived meanwhile; a
// cursor this server did not make is api.cursor_invalid. Filters: unread, reference
// (a prefix of the reference number), from (part of the caller's number),
// received_after (inclusive) / received_before (exclusive).
// Whose inbox: a fax user's own, always; a fax to somebody else answers inbox.not_found
// exactly as a missing one. An administrator reads their own by default, another
// user's with `user=<id>`, or every received fax with `all=true` (then `read` says
// whether any recipient has read it, and `via_group` is null: the fax may have reached
// several). GET /inbox/{id} for an administrator without `user` shows their own entry
// when they have one, else the fax as the all view does.
// Read state: POST /inbox/{id}/read and /unread (no body), chosen over PATCH so that a
// client marks with a bare POST and each action is one audit entry; both are
// idempotent (read keeps the first read time) and answer the InboxFax. They change
// the caller's entry, or with `user=<id>` (administrators) that user's.
#include <charconv>

#include <sodium.h>

#include "context.hpp"
#include "faxbridge/db/inbox.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/users.hpp"
#include "fax_json.hpp"
#include "query_params.hpp"

namespace faxbridge::webapi {
namespace {

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 200;  // a page of the web UI's list; more is a bulk export

std::string encode_cursor(const db::InboxCursor& c) {
  const std::string text = "i1." + std::string(c.read ? "1" : "0") + "." + std::to_string(c.received_at_us) + "." +
                           std::to_string(c.id);
  std::string out(sodium_base64_encoded_len(text.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  return out;
}

bool parse_int(std::string_view s, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::optional<db::InboxCursor> decode_cursor(const std::string& cursor) {
  if (cursor.size() > 100) return std::nullopt;
  std::string bin(cursor.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), cursor.data(), cursor.size(), nullptr,
                        &len, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return std::nullopt;
  bin.resize(len);
  // "i1.<read>.<microseconds>.<id>"
  if (bin.rfind("i1.", 0) != 0 || bin.size() < 8 || (bin[3] != '0' && bin[3] != '1') || bin[4] != '.') return std::nullopt;
  const auto dot = bin.find('.', 5);
  if (dot == std::string::npos) return std::nullopt;
  db::InboxCursor c;
  c.read = bin[3] == '1';
  if (!parse_int(std::string_view(bin).substr(5, dot - 5), c.received_at_us) ||
      !parse_int(std::string_view(bin).substr(dot + 1), c.id) || c.id <= 0)
    return std::nullopt;
  return c;
}

// The inbox a request reads: the caller's, or for an administrator another user's
// (`user`) or everybody's (`all`, when allowed here). nullopt user: all.
struct Scope {
  std::optional<std::int64_t> user_id;
};

api::ProblemOr<Scope> scope_of(Context& cx, const api::Request& req, bool all_allowed) {
  const api::Principal& caller = *req.principal();
  QueryParams q(req);
  std::optional<std::int64_t> user;
  std::optional<bool> all;
  q.integer("user", user, api::Range{1, std::numeric_limits<std::int64_t>::max()});
  if (all_allowed) q.boolean("all", all);
  if (user && all.value_or(false)) q.reject("all", Code::k_api_field_invalid, "Give either user or all=true, not both.");
  if (auto p = q.finish()) return std::move(*p);
  const bool other = (user && *user != caller.user_id) || all.value_or(false);
  if (other && caller.level < api::kLevelAdministrator) {
    return api::Problem(Code::k_api_forbidden,
                        "Only a fax administrator may read another user's inbox; leave out user and all to read yours.");
  }
  if (all.value_or(false)) return Scope{std::nullopt};
  if (user && *user != caller.user_id) {
    auto exists = cx.pool.transact([&](db::Tx& tx) { return db::users::get(tx, *user); });
    if (!exists) return api::Problem(exists.error());
  }
  return Scope{user.value_or(caller.user_id)};
}

api::Problem not_found(std::string_view id) {
  return api::Problem(Code::k_inbox_not_found,
                      "There is no received fax with the id " + std::string(id) + " in this inbox.");
}

std::optional<std::int64_t> fax_id(const api::Request& req) {
  std::int64_t id = 0;
  if (!parse_int(req.param("id"), id) || id <= 0) return std::nullopt;
  return id;
}

api::Reply list(Context& cx, api::Request& req) {
  auto scope = scope_of(cx, req, true);
  if (!scope) return std::move(scope).problem();
  db::InboxQuery query;
  query.user_id = scope->user_id;
  QueryParams q(req);
  std::optional<std::int64_t> limit;
  std::optional<std::string> cursor;
  q.boolean("unread", query.unread);
  q.text("reference", query.reference, api::Text{1, 13}, "0123456789.");
  q.text("from", query.from, api::Text{1, 32}, "+0123456789");
  q.time("received_after", query.received_after);
  q.time("received_before", query.received_before);
  q.integer("limit", limit, api::Range{1, kMaxLimit});
  q.text("cursor", cursor, api::Text{1, 100});
  q.known({"unread", "reference", "from", "received_after", "received_before", "limit", "cursor", "user", "all"});
  if (auto p = q.finish()) return *p;
  query.limit = static_cast<int>(limit.value_or(kDefaultLimit));
  if (cursor) {
    query.after = decode_cursor(*cursor);
    if (!query.after) {
      return api::Problem(Code::k_api_cursor_invalid,
                          "The cursor is not one this server gave out; start again from the first page without it.");
    }
  }
  auto page = cx.pool.transact([&](db::Tx& tx) { return db::inbox::list(tx, query); });
  if (!page) return page.error();
  nlohmann::json faxes = nlohmann::json::array();
  for (const auto& f : page->faxes) faxes.push_back(inbox_fax_json(f));
  return api::Response::json(
      {{"faxes", faxes}, {"next_cursor", page->next ? nlohmann::json(encode_cursor(*page->next)) : nlohmann::json(nullptr)}});
}

api::Reply get_one(Context& cx, api::Request& req) {
  const auto id = fax_id(req);
  if (!id) return not_found(req.param("id"));
  auto scope = scope_of(cx, req, false);
  if (!scope) return std::move(scope).problem();
  const api::Principal& caller = *req.principal();
  const bool admin_default = caller.level >= api::kLevelAdministrator && !req.query("user");
  auto found = cx.pool.transact([&](db::Tx& tx) -> Result<std::optional<db::InboxFax>> {
    auto f = db::inbox::find(tx, *id, scope->user_id);
    if (!f || *f || !admin_default) return f;
    return db::inbox::find(tx, *id, std::nullopt);
  });
  if (!found) return found.error();
  if (!*found) return not_found(req.param("id"));
  return api::Response::json(inbox_fax_json(**found));
}

api::Reply mark(Context& cx, api::Request& req, bool read) {
  const auto id = fax_id(req);
  if (!id) return not_found(req.param("id"));
  auto scope = scope_of(cx, req, false);
  if (!scope) return std::move(scope).problem();
  const std::int64_t user_id = *scope->user_id;
  const api::Principal& caller = *req.principal();
  auto marked = cx.pool.transact([&](db::Tx& tx) -> Result<std::optional<db::InboxFax>> {
    auto changed = db::inbox::set_read(tx, *id, user_id, read, cx.clock.now());
    if (!changed) return changed.error();
    if (!*changed) return std::optional<db::InboxFax>{};
    auto a = db::audit::record(tx, {caller.user_id, caller.username, read ? "inbox.read" : "inbox.unread",
                                    "received_fax", std::to_string(*id),
                                    nlohmann::json({{"user_id", user_id}}).dump(), req.remote_address()});
    if (!a) return a.error();
    return db::inbox::find(tx, *id, user_id);
  });
  if (!marked) return marked.error();
  if (!*marked) return not_found(req.param("id"));
  return api::Response::json(inbox_fax_json(**marked));
}

}  // namespace

std::vector<api::Route> inbox_routes(Context& cx) {
  return {
      {"GET", "/api/v1/inbox", api::kFaxUser, api::BodyKind::kNone, [&cx](api::Request& r) { return list(cx, r); }},
      {"GET", "/api/v1/inbox/{id}", api::kFaxUser, api::BodyKind::kNone,
       [&cx](api::Request& r) { return get_one(cx, r); }},
      {"POST", "/api/v1/inbox/{id}/read", api::kFaxUser, api::BodyKind::kNone,
       [&cx](api::Request& r) { return mark(cx, r, true); }},
      {"POST", "/api/v1/inbox/{id}/unread", api::kFaxUser, api::BodyKind::kNone,
       [&cx](api::Request& r) { return mark(cx, r, false); }},
  };
}

}  // namespace faxbridge::webapi
