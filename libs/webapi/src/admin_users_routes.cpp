// DESIGN: the administration of users (level 10): every field of the seed's user
// management, and the default permission level users without their own inherit.
// - POST takes the fields the users table has; a password is optional (without one the
//   user has no web sign-in, e.g. an integration account that uses tokens). PATCH takes
//   any of them; `null` is allowed where it means something (level: inherit the
//   default; fax_number: none; password: no web sign-in) and refused elsewhere. Unknown
//   fields and wrong types are 422 naming each field.
// - Fax numbers are stored canonical (core/phone.hpp, with the empty dial plan the
//   gateway matches called numbers with), and one number reaches one place: a number a
//   user or a group has is number.taken (db::numbers::owner, under a lock).
// - Nobody locks the administrators out: a change that would leave no enabled user of
//   effective level 10 (a level, disabling, deleting, the default level) is refused with
//   user.last_admin in the transaction that made it, so it never commits.
// - A new password or disabling ends the user's sessions (a changed password is often a
//   stolen one); the administrator's own session survives their own password change.
//   A disabled user's tokens stay but are refused (auth.account_disabled, checked on
//   every request): enabling the account again brings its integrations back.
// - DELETE removes a user who never sent nor received a fax (204; sessions, tokens,
//   memberships go with them). A user with faxes is disabled instead and the answer is
//   200 with the user: deleting would strip the sender from outbox records (ON DELETE
//   SET NULL) and drop their inbox (CASCADE), and an administrator who "removes" a
//   leaver wants their history kept. Retention deletes the faxes in time.
// Every change writes its audit row (actor, remote address, changed field names, never
// a password) in the same transaction. Passwords are hashed before any transaction
// opens: Argon2id takes ~0.1 s and must not hold a pooled connection.
#include <regex>

#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/core/password.hpp"
#include "faxbridge/core/phone.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;

// What a body sets. The outer optional: the field was given; the inner (nullable fields
// only): its value or null.
struct UserPatch {
  std::optional<std::string> username, name, email, phone, fax_to_email_address, cover_page, language, company;
  std::optional<std::optional<int>> level;
  std::optional<std::optional<std::string>> fax_number;  // canonical
  std::optional<std::optional<std::string>> password;    // plaintext
  std::optional<bool> enable_send, enable_receive, fax_to_email, fax_to_email_attach, disabled;
  std::optional<std::string> password_hash;               // filled outside the transaction
};

template <typename T>
json nullable(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

bool is_email(const std::string& s) {
  static const std::regex re(R"(^[^@\s]+@[^@\s]+\.[^@\s]+$)");
  return std::regex_match(s, re);
}

// A string field that must not be null when present.
void text(api::Fields& f, const json& body, const char* name, std::optional<std::string>& out, api::Text rule) {
  if (body.is_object() && body.contains(name) && body[name].is_null()) {
    f.reject(name, Code::k_api_field_wrong_type, "Must be a string, not null; send \"\" to clear it.");
  }
  std::optional<std::string> v;
  f.optional(name, v, rule);
  if (v) out = std::move(v);
}

bool is_null(const json& body, const char* name) {
  return body.is_object() && body.contains(name) && body[name].is_null();
}

void flag(api::Fields& f, const json& body, const char* name, std::optional<bool>& out) {
  if (is_null(body, name)) f.reject(name, Code::k_api_field_wrong_type, "Must be true or false, not null.");
  bool v = false;
  f.optional(name, v);  // marks it read; an error when it is no boolean
  if (body.is_object() && body.contains(name) && body[name].is_boolean()) out = v;
}

UserPatch read_patch(api::Fields& f, const json& body, bool creating) {
  UserPatch p;
  if (creating) {
    std::string username;
    f.required("username", username, api::Text{1, 64});
    if (!username.empty()) p.username = username;
  } else {
    text(f, body, "username", p.username, api::Text{1, 64});
  }
  static const std::regex username_re(R"(^[A-Za-z0-9._@+-]{1,64}$)");
  if (p.username && !std::regex_match(*p.username, username_re)) {
    f.reject("username", Code::k_api_field_invalid, "Use letters, digits and . _ @ + - only.");
  }
  text(f, body, "name", p.name, api::Text{0, 200});
  text(f, body, "email", p.email, api::Text{0, 254});
  if (p.email && !p.email->empty() && !is_email(*p.email)) {
    f.reject("email", Code::k_api_field_invalid, "Must be an email address such as name@example.com, or \"\".");
  }

  if (is_null(body, "password")) p.password = std::optional<std::string>{};
  std::optional<std::string> password_text;
  f.optional("password", password_text, api::Text{password::kMinLength, 1024});  // the hash step's rule, as a field error
  if (password_text) p.password = password_text;

  if (is_null(body, "level")) p.level = std::optional<int>{};
  std::optional<int> level;
  f.optional("level", level, api::Range{0, 10});
  if (level) {
    if (*level != 0 && *level != 2 && *level != 10) {
      f.reject("level", Code::k_api_field_invalid,
               "Must be 0 (no fax), 2 (fax user), 10 (fax administrator) or null (the default level).");
    } else {
      p.level = level;
    }
  }

  if (is_null(body, "fax_number")) p.fax_number = std::optional<std::string>{};
  std::optional<std::string> number;
  f.optional("fax_number", number, api::Text{1, 40});
  if (number) {
    auto n = normalize_phone(*number);
    if (!n) {
      f.reject("fax_number", n.error().code, n.error().message);
    } else {
      p.fax_number = n->canonical;
    }
  }

  text(f, body, "phone", p.phone, api::Text{0, 40});
  flag(f, body, "enable_send", p.enable_send);
  flag(f, body, "enable_receive", p.enable_receive);
  flag(f, body, "fax_to_email", p.fax_to_email);
  text(f, body, "fax_to_email_address", p.fax_to_email_address, api::Text{0, 254});
  if (p.fax_to_email_address && !p.fax_to_email_address->empty() && !is_email(*p.fax_to_email_address)) {
    f.reject("fax_to_email_address", Code::k_api_field_invalid,
             "Must be an email address such as name@example.com, or \"\".");
  }
  flag(f, body, "fax_to_email_attach", p.fax_to_email_attach);
  text(f, body, "cover_page", p.cover_page, api::Text{0, 64});
  static const std::regex cover_re(R"(^[A-Za-z0-9._-]*$)");
  if (p.cover_page && !std::regex_match(*p.cover_page, cover_re)) {
    f.reject("cover_page", Code::k_api_field_invalid,
             "A cover page's name without its language prefix (\"urgent\"), in letters, digits and . _ -; \"\" for "
             "the default cover page.");
  }
  text(f, body, "language", p.language, api::Text{2, 5});
  static const std::regex language_re(R"(^[a-z]{2}(-[A-Z]{2})?$)");
  if (p.language && !std::regex_match(*p.language, language_re)) {
    f.reject("language", Code::k_api_field_invalid, "A language code such as en, it or pt-BR.");
  }
  text(f, body, "company", p.company, api::Text{0, 200});
  flag(f, body, "disabled", p.disabled);
  return p;
}

// Applies the patch; the names of the fields whose value changed (for the audit row).
std::vector<std::string> apply(const UserPatch& p, db::User& u) {
  std::vector<std::string> changed;
  auto set = [&](const char* name, auto& field, const auto& value) {
    if (!(field == value)) {
      field = value;
      changed.emplace_back(name);
    }
  };
  if (p.username) set("username", u.username, *p.username);
  if (p.name) set("name", u.display_name, *p.name);
  if (p.email) set("email", u.email, *p.email);
  if (p.password) {
    u.password_hash = p.password_hash;  // a new hash differs even for the same password
    changed.emplace_back("password");
  }
  if (p.level) set("level", u.own_permission_level, *p.level);
  if (p.fax_number) set("fax_number", u.fax_number, *p.fax_number);
  if (p.phone) set("phone", u.phone_number, *p.phone);
  if (p.enable_send) set("enable_send", u.enable_send, *p.enable_send);
  if (p.enable_receive) set("enable_receive", u.enable_receive, *p.enable_receive);
  if (p.fax_to_email) set("fax_to_email", u.enable_fax_to_email, *p.fax_to_email);
  if (p.fax_to_email_address) set("fax_to_email_address", u.fax_to_email_address, *p.fax_to_email_address);
  if (p.fax_to_email_attach) set("fax_to_email_attach", u.attach_fax, *p.fax_to_email_attach);
  if (p.cover_page) set("cover_page", u.cover_page_name, *p.cover_page);
  if (p.language) set("language", u.language, *p.language);
  if (p.company) set("company", u.company, *p.company);
  if (p.disabled) set("disabled", u.disabled, *p.disabled);
  return changed;
}

// The checks that need the whole user, after the patch.
void check_merged(api::Fields& f, const db::User& u) {
  if (u.enable_fax_to_email && u.fax_to_email_address.empty()) {
    f.reject("fax_to_email_address", Code::k_api_field_required,
             "Fax-to-email needs the address to send received faxes to; give one or turn fax_to_email off.");
  }
}

Result<void> hash_password(UserPatch& p) {
  if (!p.password || !*p.password) return ok();
  auto h = password::hash(**p.password);
  if (!h) return h.error();
  p.password_hash = *h;
  return ok();
}

api::Problem user_not_found(std::string_view id) {
  return api::Problem(Code::k_user_not_found, "No user has the id " + std::string(id) + ".");
}

// number.taken when the number is another's (a user other than `self`, or a group).
Result<void> check_number(db::Tx& tx, const std::optional<std::string>& number, std::int64_t self) {
  if (!number) return ok();
  auto owner = db::numbers::owner(tx, *number);
  if (!owner) return owner.error();
  if (!*owner) return ok();
  const auto& o = **owner;
  if (o.kind == db::NumberOwner::Kind::kUser && o.id == self) return ok();
  return Error(Code::k_number_taken, "The fax number " + *number + " already belongs to " +
                                         (o.kind == db::NumberOwner::Kind::kUser ? "the user \"" : "the group \"") +
                                         o.name + "\"; a number reaches one user or group.");
}

std::string session_secret(Context& cx, const api::Request& req) {
  if (req.principal()->method != api::AuthMethod::kSession) return {};
  return api::cookie_value(req.header("Cookie").value_or(""), cx.cookie.name).value_or("");
}

api::Reply create(Context& cx, api::Request& req) {
  api::Fields f(req.json());
  UserPatch p = read_patch(f, req.json(), true);
  db::User u;
  apply(p, u);
  // Like the CLI: fax-to-email goes to the user's own address unless told otherwise.
  if (!p.fax_to_email_address) u.fax_to_email_address = u.email;
  if (f.ok()) check_merged(f, u);
  if (auto problem = f.finish()) return *problem;
  if (auto h = hash_password(p); !h) return h.error();
  u.password_hash = p.password_hash;
  auto made = cx.pool.transact([&](db::Tx& tx) -> Result<db::User> {
    if (auto n = check_number(tx, u.fax_number, 0); !n) return n.error();
    auto c = db::users::create(tx, u);
    if (!c) return c;
    auto a = db::audit::record(tx, audit_event(req, "user.create", "user", std::to_string(c->id),
                                               {{"username", c->username},
                                                {"level", nullable(c->own_permission_level)},
                                                {"fax_number", nullable(c->fax_number)}}));
    if (!a) return a.error();
    return c;
  });
  if (!made) return made.error();
  return api::Response::json(admin_user_json(*made), 201)
      .with_header("Location", "/api/v1/admin/users/" + std::to_string(made->id));
}

api::Reply list(Context& cx, api::Request& req) {
  QueryCheck q(req);
  db::UserQuery query;
  query.text = q.text("q").value_or("");
  query.level = q.level("level");
  query.disabled = q.boolean("disabled");
  query.limit = q.limit();
  query.after_id = q.cursor();
  q.known({"q", "level", "disabled", "limit", "cursor"});
  if (auto problem = q.finish()) return *problem;
  const int page = query.limit;
  query.limit = page + 1;  // one more says whether there is a next page
  auto users = cx.pool.transact([&](db::Tx& tx) { return db::users::search(tx, query); });
  if (!users) return users.error();
  json items = json::array();
  json next = nullptr;
  for (std::size_t i = 0; i < users->size(); ++i) {
    if (static_cast<int>(i) == page) {
      next = encode_cursor((*users)[i - 1].id);
      break;
    }
    items.push_back(admin_user_json((*users)[i]));
  }
  return api::Response::json({{"users", items}, {"next_cursor", next}});
}

api::Reply get(Context& cx, api::Request& req) {
  auto id = path_id(req, user_not_found);
  if (!id) return std::move(id).problem();
  auto u = cx.pool.transact([&](db::Tx& tx) { return db::users::get(tx, *id); });
  if (!u) return u.error();
  return api::Response::json(admin_user_json(*u));
}

api::Reply update(Context& cx, api::Request& req) {
  auto id = path_id(req, user_not_found);
  if (!id) return std::move(id).problem();
  api::Fields f(req.json());
  UserPatch p = read_patch(f, req.json(), false);
  if (f.ok()) {
    // The merged checks see the row as it is now; the write below re-reads it.
    auto current = cx.pool.transact([&](db::Tx& tx) { return db::users::get(tx, *id); });
    if (!current) return current.error();
    apply(p, *current);
    check_merged(f, *current);
  }
  if (auto problem = f.finish()) return *problem;
  if (auto h = hash_password(p); !h) return h.error();
  const api::Principal& caller = *req.principal();
  const std::string keep = caller.user_id == *id ? session_secret(cx, req) : std::string();
  auto updated = cx.pool.transact([&](db::Tx& tx) -> Result<db::User> {
    if (auto l = db::users::lock_administrators(tx); !l) return l.error();
    auto u = db::users::get(tx, *id);
    if (!u) return u;
    const bool was_disabled = u->disabled;
    const auto changed = apply(p, *u);
    if (changed.empty()) return u;  // nothing to write, nothing to audit
    if (p.fax_number) {
      if (auto n = check_number(tx, u->fax_number, *id); !n) return n.error();
    }
    auto w = db::users::update(tx, *u);
    if (!w) return w;
    json details = {{"fields", changed}};
    const bool password_changed = std::find(changed.begin(), changed.end(), "password") != changed.end();
    if (w->disabled && !was_disabled) {
      auto ended = db::sessions::remove_for_user(tx, *id);
      if (!ended) return ended.error();
      details["sessions_ended"] = *ended;
    } else if (password_changed) {
      auto ended = db::sessions::remove_for_user(tx, *id, keep);
      if (!ended) return ended.error();
      details["sessions_ended"] = *ended;
    }
    if (auto g = db::users::require_an_administrator(tx); !g) return g.error();
    if (std::find(changed.begin(), changed.end(), "level") != changed.end()) {
      details["level"] = nullable(w->own_permission_level);
    }
    auto a = db::audit::record(tx, audit_event(req, "user.update", "user", std::to_string(*id), details));
    if (!a) return a.error();
    return w;
  });
  if (!updated) return updated.error();
  return api::Response::json(admin_user_json(*updated));
}

api::Reply remove(Context& cx, api::Request& req) {
  auto id = path_id(req, user_not_found);
  if (!id) return std::move(id).problem();
  const api::Principal& caller = *req.principal();
  struct Outcome {
    bool deleted = false;
    db::User user;
  };
  auto done = cx.pool.transact([&](db::Tx& tx) -> Result<Outcome> {
    if (auto l = db::users::lock_administrators(tx); !l) return l.error();
    auto u = db::users::get(tx, *id);
    if (!u) return u.error();
    auto has = db::users::has_faxes(tx, *id);
    if (!has) return has.error();
    Outcome out;
    db::AuditEvent event;
    if (*has) {
      json details = {{"reason", "the user has faxes; disabled instead of deleted"}};
      if (!u->disabled) {
        u->disabled = true;
        auto w = db::users::update(tx, *u);
        if (!w) return w.error();
        u = std::move(w);
      }
      auto ended = db::sessions::remove_for_user(tx, *id);
      if (!ended) return ended.error();
      details["sessions_ended"] = *ended;
      event = audit_event(req, "user.disable", "user", std::to_string(*id), details);
      out.user = *u;
    } else {
      auto r = db::users::remove(tx, *id);
      if (!r) return r.error();
      out.deleted = true;
      event = audit_event(req, "user.delete", "user", std::to_string(*id), {{"username", u->username}});
      // An administrator who deletes their own account: the row the audit would point
      // at is gone, the name stays.
      if (caller.user_id == *id) event.actor_user_id.reset();
    }
    if (auto g = db::users::require_an_administrator(tx); !g) return g.error();
    if (auto a = db::audit::record(tx, event); !a) return a.error();
    return out;
  });
  if (!done) return done.error();
  if (done->deleted) return api::Response::no_content();
  return api::Response::json(admin_user_json(done->user));
}

// The default level as the catalog and the settings table have it.
Result<int> read_default_level(db::Tx& tx) {
  auto snapshot = db::settings::load(tx);
  if (!snapshot) return snapshot.error();
  return static_cast<int>(snapshot->get_int(std::string(db::kDefaultPermissionLevelKey)));
}

api::Reply get_default_level(Context& cx, api::Request&) {
  auto level = cx.pool.transact([&](db::Tx& tx) { return read_default_level(tx); });
  if (!level) return level.error();
  return api::Response::json({{"level", *level}});
}

api::Reply put_default_level(Context& cx, api::Request& req) {
  api::Fields f(req.json());
  int level = 0;
  f.required("level", level, api::Range{0, 10});
  if (f.ok() && level != 0 && level != 2 && level != 10) {
    f.reject("level", Code::k_api_field_invalid, "Must be 0 (no fax), 2 (fax user) or 10 (fax administrator).");
  }
  if (auto problem = f.finish()) return *problem;
  const std::string key(db::kDefaultPermissionLevelKey);
  auto done = cx.pool.transact([&](db::Tx& tx) -> Result<int> {
    if (auto l = db::users::lock_administrators(tx); !l) return l.error();
    auto before = read_default_level(tx);
    if (!before) return before;
    if (*before == level) return level;
    auto s = db::settings::set(tx, key, std::to_string(level), req.principal()->user_id);
    if (!s) return s.error();
    if (auto g = db::users::require_an_administrator(tx); !g) return g.error();
    auto a = db::audit::record(tx, audit_event(req, "setting.update", "setting", key,
                                               {{"from", *before}, {"to", level}}));
    if (!a) return a.error();
    return level;
  });
  if (!done) return done.error();
  return api::Response::json({{"level", *done}});
}

}  // namespace

json admin_user_json(const db::User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"name", u.display_name},
          {"email", u.email},
          {"has_password", u.password_hash.has_value()},
          {"level", u.permission_level},
          {"level_inherited", !u.own_permission_level.has_value()},
          {"fax_number", nullable(u.fax_number)},
          {"phone", u.phone_number},
          {"enable_send", u.enable_send},
          {"enable_receive", u.enable_receive},
          {"fax_to_email", u.enable_fax_to_email},
          {"fax_to_email_address", u.fax_to_email_address},
          {"fax_to_email_attach", u.attach_fax},
          {"cover_page", u.cover_page_name},
          {"language", u.language},
          {"company", u.company},
          {"disabled", u.disabled},
          {"created_at", iso8601_utc(u.created_at)},
          {"updated_at", iso8601_utc(u.updated_at)}};
}

std::vector<api::Route> admin_users_routes(Context& cx) {
  return {
      {"GET", "/api/v1/admin/users", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return list(cx, r); }},
      {"POST", "/api/v1/admin/users", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return create(cx, r); }},
      {"GET", "/api/v1/admin/users/default-level", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return get_default_level(cx, r); }},
      {"PUT", "/api/v1/admin/users/default-level", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return put_default_level(cx, r); }},
      {"GET", "/api/v1/admin/users/{id}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return get(cx, r); }},
      {"PATCH", "/api/v1/admin/users/{id}", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return update(cx, r); }},
      {"DELETE", "/api/v1/admin/users/{id}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return remove(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
