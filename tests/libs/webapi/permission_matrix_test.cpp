// The permission matrix: every operation of docs/api/openapi.yaml called by each kind of
// caller — nobody, a level-0 account, a fax user (level 2) with a session and with an API
// token, a fax administrator (level 10) — and, where the path names a resource, on a
// resource of another user. Each answer's status is checked against the table below,
// which is the rule of the issue written out: users see and touch only their own,
// administrators all, level 0 no fax endpoints, nobody only what is public. A test also
// checks the table covers every operation the document has, so a new endpoint without a
// row fails here. Replies are validated against the document by the ApiClient.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "faxbridge/core/password.hpp"
#include "faxbridge/core/signed_link.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/conversion.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/routes.hpp"
#include "faxbridge/db/routing.hpp"
#include "faxbridge/document/tiff.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/testing/api_client.hpp"
#include "faxbridge/webapi/web_api.hpp"
#include "webapi_fixture.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "matrix password 1";

enum Caller { kNobody, kLevelZero, kUserSession, kUserToken, kAdmin, kCallers };
constexpr const char* kCallerNames[kCallers] = {"nobody", "level 0", "level 2 session", "level 2 token",
                                                "level 10"};

// What a row's request needs, made fresh for each call (a DELETE must find something to
// delete for each caller): ids of resources the calling fax user owns and of ones
// another user owns.
struct Fixture;
using PathFn = std::function<std::string(Fixture&, Caller)>;

struct Row {
  std::string method;
  std::string operation;  // the path template in docs/api/openapi.yaml
  PathFn path;
  json body;              // null: no body
  int expect[kCallers];
};

struct Fixture {
  db::Pool& pool;
  std::int64_t alice = 0, bob = 0, zero = 0, admin = 0;

  std::int64_t user_of(Caller c) const {
    switch (c) {
      case kLevelZero: return zero;
      case kAdmin: return admin;
      default: return alice;
    }
  }
  // A token of `owner`, its id.
  std::int64_t token_of(std::int64_t owner) {
    auto t = pool.transact([&](db::Tx& tx) {
      return db::api_tokens::create(tx, owner, "matrix", std::nullopt, std::chrono::system_clock::now());
    });
    EXPECT_TRUE(t) << t.error().to_string();
    return t ? t->token.id : 0;
  }
};

PathFn at(std::string p) {
  return [p](Fixture&, Caller) { return p; };
}

// For the inbox and document rows: a received fax (one page) delivered to `user`, and a
// converted outbound fax of `sender`; their ids.
const std::string& one_page_tiff() {
  static const std::string tiff = [] {
    document::FaxDocument doc;
    doc.pages.push_back(document::Bitmap::blank(document::kFaxWidth, document::page_rows(doc.resolution)));
    auto t = document::write_fax_tiff(doc);
    return t ? *t : std::string();
  }();
  return tiff;
}
std::int64_t received_for(Fixture& f, std::int64_t user) {
  auto id = f.pool.transact([&](db::Tx& tx) -> Result<std::int64_t> {
    db::Document d;
    d.kind = "received_tiff";
    d.media_type = "image/tiff";
    d.page_count = 1;
    d.bytes = one_page_tiff();
    auto stored = db::documents::put(tx, d);
    if (!stored) return stored.error();
    db::ReceivedFax fax;
    fax.caller_number = "+4930123456";
    fax.called_number = "+390297865403";
    fax.pages = 1;
    fax.tiff_document_id = stored->id;
    auto made = db::received::create(tx, fax);
    if (!made) return made;
    if (auto d2 = db::inbox::deliver(tx, *made, user); !d2) return d2.error();
    return made;
  });
  EXPECT_TRUE(id) << id.error().to_string();
  return id ? *id : 0;
}
std::int64_t sent_by(Fixture& f, std::int64_t sender) {
  auto id = f.pool.transact([&](db::Tx& tx) -> Result<std::int64_t> {
    db::NewJob n;
    n.sender_user_id = sender;
    n.recipient_number = n.recipient_canonical = "+4930999";
    auto job = db::jobs::create(tx, n, "matrix");
    if (!job) return job.error();
    auto pages = db::conversion::complete(tx, job->id, one_page_tiff(), 1, "matrix");
    if (!pages) return pages.error();
    return job->id;
  });
  EXPECT_TRUE(id) << id.error().to_string();
  return id ? *id : 0;
}

// Faxes and files: a fax job of `owner` (cancelled when `final`), its path + `suffix`.
PathFn fax_of(bool others, bool final, std::string suffix = "") {
  return [=](Fixture& f, Caller c) {
    const std::int64_t owner = others ? f.bob : f.user_of(c);
    auto id = f.pool.transact([&](db::Tx& tx) -> Result<std::int64_t> {
      db::Document d;  // a resend needs the documents the fax had
      d.kind = "upload";
      d.media_type = "text/plain";
      d.owner_user_id = owner;
      d.bytes = "matrix\n";
      auto doc = db::documents::put(tx, d);
      if (!doc) return doc.error();
      db::NewJob n;
      n.document_ids = {doc->id};
      n.sender_user_id = owner;
      n.recipient_number = n.recipient_canonical = "+4930123456";
      auto j = db::jobs::create(tx, n, "matrix");
      if (!j) return j.error();
      if (final) {
        auto x = db::routing::cancel(tx, j->id, "matrix");
        if (!x) return x.error();
      }
      return j->id;
    });
    EXPECT_TRUE(id) << id.error().to_string();
    return "/api/v1/faxes/" + std::to_string(id ? *id : 0) + suffix;
  };
}

// Answers per caller: {nobody, level 0, level 2 session, level 2 token, level 10}.
std::vector<Row> rows() {
  const PathFn own_token = [](Fixture& f, Caller c) {
    return "/api/v1/tokens/" + std::to_string(f.token_of(f.user_of(c)));
  };
  const PathFn others_token = [](Fixture& f, Caller) {
    return "/api/v1/tokens/" + std::to_string(f.token_of(f.bob));
  };
  // A fresh group per call, for the group rows (a DELETE must find one each time).
  const PathFn matrix_group = [](Fixture& f, Caller) {
    static int n = 0;
    const auto i = std::to_string(++n);
    auto g = f.pool.transact([&](db::Tx& tx) { return db::groups::create(tx, "matrix-group-" + i, "59" + i); });
    EXPECT_TRUE(g);
    return "/api/v1/admin/groups/" + std::to_string(g ? g->id : 0);
  };
  const auto own_fax = [](std::string tail) -> PathFn {
    return [tail](Fixture& f, Caller c) { return "/api/v1/inbox/" + std::to_string(received_for(f, f.user_of(c))) + tail; };
  };
  const auto others_fax = [](std::string tail) -> PathFn {
    return [tail](Fixture& f, Caller) { return "/api/v1/inbox/" + std::to_string(received_for(f, f.bob)) + tail; };
  };
  const auto own_job = [](std::string tail) -> PathFn {
    return [tail](Fixture& f, Caller c) { return "/api/v1/faxes/" + std::to_string(sent_by(f, f.user_of(c))) + tail; };
  };
  const auto others_job = [](std::string tail) -> PathFn {
    return [tail](Fixture& f, Caller) { return "/api/v1/faxes/" + std::to_string(sent_by(f, f.bob)) + tail; };
  };
  // A signed download link (as a webhook body carries) to bob's sent fax or received
  // fax: whoever calls, the signature is the permission.
  const auto signed_link_to = [](std::string_view resource) -> PathFn {
    return [resource](Fixture& f, Caller) {
      const auto key = signed_link::LinkKey::derive(*secret_box::Key::parse(testing_support::kTestSecretKey));
      const std::int64_t id = resource == signed_link::kInbox ? received_for(f, f.bob) : sent_by(f, f.bob);
      const std::int64_t expires =
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
          3600;
      return signed_link::url("", {std::string(resource), id, "tiff", expires}, key);
    };
  };
  // Admin configuration: a fresh route, cover page or webhook endpoint for each call.
  const PathFn a_route = [](Fixture& f, Caller) {
    static int n = 0;
    auto r = f.pool.transact([&](db::Tx& tx) {
      db::Route route;
      route.prefix = "+1" + std::to_string(++n);
      route.gateways.push_back({"gw.example.test"});
      return db::routes::create(tx, route);
    });
    EXPECT_TRUE(r) << r.error().to_string();
    return "/api/v1/admin/routes/" + std::to_string(r ? r->id : 0);
  };
  const PathFn a_cover_page = [](Fixture& f, Caller) {
    static int n = 0;
    const std::string name = "matrix" + std::to_string(++n);
    auto r = f.pool.transact([&](db::Tx& tx) {
      return db::cover_pages::put(tx, {name, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>", false});
    });
    EXPECT_TRUE(r) << r.error().to_string();
    return "/api/v1/admin/cover-pages/" + name;
  };
  const PathFn a_webhook = [](Fixture& f, Caller) {
    auto r = f.pool.transact([&](db::Tx& tx) {
      db::WebhookEndpoint w;
      w.url = "https://hooks.example.test/";
      w.secret = "whsec_matrix";
      return db::webhooks::create(tx, w);
    });
    EXPECT_TRUE(r) << r.error().to_string();
    return "/api/v1/admin/webhooks/" + std::to_string(r ? r->id : 0);
  };
  // A user's own webhook endpoint (/api/v1/webhooks), fresh for each call, or bob's.
  const auto webhook_of = [](bool others, std::string tail) -> PathFn {
    return [others, tail](Fixture& f, Caller c) {
      auto r = f.pool.transact([&](db::Tx& tx) {
        db::WebhookEndpoint w;
        w.url = "https://hooks.example.test/mine";
        w.secret = "whsec_matrix";
        w.user_id = others ? f.bob : f.user_of(c);
        return db::webhooks::create(tx, w);
      });
      EXPECT_TRUE(r) << r.error().to_string();
      return "/api/v1/webhooks/" + std::to_string(r ? r->id : 0) + tail;
    };
  };
  return {
      // meta and docs: public
      {"GET", "/api/v1/version", at("/api/v1/version"), nullptr, {200, 200, 200, 200, 200}},
      {"GET", "/api/v1/openapi.yaml", at("/api/v1/openapi.yaml"), nullptr, {200, 200, 200, 200, 200}},
      {"GET", "/api/docs", at("/api/docs"), nullptr, {200, 200, 200, 200, 200}},
      {"GET", "/api/docs/redoc.standalone.js", at("/api/docs/redoc.standalone.js"), nullptr,
       {200, 200, 200, 200, 200}},
      // signing in is public (whoever calls, the body's account signs in)
      {"POST", "/api/v1/session", at("/api/v1/session"), json{{"username", "alice"}, {"password", kPassword}},
       {201, 201, 201, 201, 201}},
      // session: anyone signed in, level 0 too (they may read who they are)
      {"GET", "/api/v1/me", at("/api/v1/me"), nullptr, {401, 200, 200, 200, 200}},
      {"DELETE", "/api/v1/session", at("/api/v1/session"), nullptr, {401, 204, 204, 204, 204}},
      // a password change: any signed-in session, level 0 too; a token is refused (the
      // new password is the old one, so the next rows still sign in with it)
      {"PUT", "/api/v1/me/password", at("/api/v1/me/password"),
       json{{"current_password", kPassword}, {"new_password", kPassword}}, {401, 204, 204, 403, 204}},
      // tokens: fax users and up, own tokens only (another user's is 404, even for an
      // administrator: this endpoint is the caller's own list; /admin/tokens is theirs)
      {"GET", "/api/v1/tokens", at("/api/v1/tokens"), nullptr, {401, 403, 200, 200, 200}},
      {"POST", "/api/v1/tokens", at("/api/v1/tokens"), json{{"name", "m"}}, {401, 403, 201, 201, 201}},
      {"DELETE", "/api/v1/tokens/{id}", own_token, nullptr, {401, 403, 204, 204, 204}},
      {"DELETE", "/api/v1/tokens/{id} (another user's)", others_token, nullptr, {401, 403, 404, 404, 404}},
      // == rows: faxes and files ==
      // The matrix sends JSON: past the permission checks, POST /files refuses the body's
      // type (415), and POST /faxes the file id nobody owns (404 file.not_found).
      {"POST", "/api/v1/files", at("/api/v1/files"), json::object(), {401, 403, 415, 415, 415}},
      {"POST", "/api/v1/faxes", at("/api/v1/faxes"), json{{"to", {"+4930123456"}}, {"files", {987654321}}},
       {401, 403, 404, 404, 404}},
      {"GET", "/api/v1/faxes", at("/api/v1/faxes"), nullptr, {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/faxes/{id}", fax_of(false, false), nullptr, {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/faxes/{id} (another user's)", fax_of(true, false), nullptr, {401, 403, 404, 404, 200}},
      {"POST", "/api/v1/faxes/{id}/cancel", fax_of(false, false, "/cancel"), nullptr, {401, 403, 200, 200, 200}},
      {"POST", "/api/v1/faxes/{id}/cancel (another user's)", fax_of(true, false, "/cancel"), nullptr,
       {401, 403, 404, 404, 200}},
      {"POST", "/api/v1/faxes/{id}/resend", fax_of(false, true, "/resend"), nullptr, {401, 403, 201, 201, 201}},
      {"POST", "/api/v1/faxes/{id}/resend (another user's)", fax_of(true, true, "/resend"), nullptr,
       {401, 403, 404, 404, 201}},
      // == rows: inbox, me/preferences, stats, fax documents and previews ==
      // A fax user reads their own inbox and faxes, an administrator any; marking read
      // changes the caller's own inbox entry (another user's needs ?user=), so an
      // administrator marking bob's fax without it is 404 too.
      {"GET", "/api/v1/inbox", at("/api/v1/inbox"), nullptr, {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/inbox/{id}", own_fax(""), nullptr, {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/inbox/{id} (another user's)", others_fax(""), nullptr, {401, 403, 404, 404, 200}},
      {"POST", "/api/v1/inbox/{id}/read", own_fax("/read"), nullptr, {401, 403, 200, 200, 200}},
      {"POST", "/api/v1/inbox/{id}/read (another user's)", others_fax("/read"), nullptr, {401, 403, 404, 404, 404}},
      {"POST", "/api/v1/inbox/{id}/unread", own_fax("/unread"), nullptr, {401, 403, 200, 200, 200}},
      {"POST", "/api/v1/inbox/{id}/unread (another user's)", others_fax("/unread"), nullptr,
       {401, 403, 404, 404, 404}},
      {"GET", "/api/v1/inbox/{id}/file", own_fax("/file"), nullptr, {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/inbox/{id}/file (another user's)", others_fax("/file"), nullptr, {401, 403, 404, 404, 200}},
      {"GET", "/api/v1/inbox/{id}/pages/{n}/preview", own_fax("/pages/1/preview"), nullptr, {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/inbox/{id}/pages/{n}/preview (another user's)", others_fax("/pages/1/preview"), nullptr,
       {401, 403, 404, 404, 200}},
      {"GET", "/api/v1/faxes/{id}/file", own_job("/file"), nullptr, {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/faxes/{id}/file (another user's)", others_job("/file"), nullptr, {401, 403, 404, 404, 200}},
      {"GET", "/api/v1/faxes/{id}/pages/{n}/preview", own_job("/pages/1/preview"), nullptr, {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/faxes/{id}/pages/{n}/preview (another user's)", others_job("/pages/1/preview"), nullptr,
       {401, 403, 404, 404, 200}},
      // signed download links: public (and the same for a signed-in caller of any level)
      {"GET", "/api/v1/links/{resource}/{id}/file", signed_link_to(signed_link::kFaxes), nullptr,
       {200, 200, 200, 200, 200}},
      {"GET", "/api/v1/links/{resource}/{id}/file (a received fax)", signed_link_to(signed_link::kInbox), nullptr,
       {200, 200, 200, 200, 200}},
      {"GET", "/api/v1/me/preferences", at("/api/v1/me/preferences"), nullptr, {401, 403, 200, 200, 200}},
      {"PATCH", "/api/v1/me/preferences", at("/api/v1/me/preferences"), json{{"attach_fax", false}},
       {401, 403, 200, 200, 200}},
      // The dashboard is the whole system's: administrators only.
      {"GET", "/api/v1/stats", at("/api/v1/stats"), nullptr, {401, 403, 403, 403, 200}},
      // == rows: admin users, groups, tokens, audit ==
      // administration of people: level 10 only. DELETEs get a fresh user, group or
      // token per call; the admin's POSTs are the only ones that succeed.
      {"GET", "/api/v1/admin/users", at("/api/v1/admin/users"), nullptr, {401, 403, 403, 403, 200}},
      {"POST", "/api/v1/admin/users", at("/api/v1/admin/users"), json{{"username", "matrix-new"}},
       {401, 403, 403, 403, 201}},
      {"GET", "/api/v1/admin/users/default-level", at("/api/v1/admin/users/default-level"), nullptr,
       {401, 403, 403, 403, 200}},
      {"PUT", "/api/v1/admin/users/default-level", at("/api/v1/admin/users/default-level"), json{{"level", 2}},
       {401, 403, 403, 403, 200}},
      {"GET", "/api/v1/admin/users/{id}", [](Fixture& f, Caller) { return "/api/v1/admin/users/" + std::to_string(f.bob); },
       nullptr, {401, 403, 403, 403, 200}},
      {"PATCH", "/api/v1/admin/users/{id}",
       [](Fixture& f, Caller) { return "/api/v1/admin/users/" + std::to_string(f.bob); }, json{{"company", "m"}},
       {401, 403, 403, 403, 200}},
      {"DELETE", "/api/v1/admin/users/{id}",
       [](Fixture& f, Caller) {
         static int n = 0;
         auto u = f.pool.transact([&](db::Tx& tx) {
           db::User user;
           user.username = "matrix-gone-" + std::to_string(++n);
           return db::users::create(tx, user);
         });
         EXPECT_TRUE(u);
         return "/api/v1/admin/users/" + std::to_string(u ? u->id : 0);
       },
       nullptr, {401, 403, 403, 403, 204}},
      {"POST", "/api/v1/admin/users/{id}/tokens",
       [](Fixture& f, Caller) { return "/api/v1/admin/users/" + std::to_string(f.bob) + "/tokens"; },
       json{{"name", "m"}}, {401, 403, 403, 403, 201}},
      {"GET", "/api/v1/admin/groups", at("/api/v1/admin/groups"), nullptr, {401, 403, 403, 403, 200}},
      {"POST", "/api/v1/admin/groups", at("/api/v1/admin/groups"), json{{"name", "matrix"}, {"fax_number", "4999"}},
       {401, 403, 403, 403, 201}},
      {"GET", "/api/v1/admin/groups/{id}", matrix_group, nullptr, {401, 403, 403, 403, 200}},
      {"PATCH", "/api/v1/admin/groups/{id}", matrix_group, json{{"name", "matrix-renamed"}},
       {401, 403, 403, 403, 200}},
      {"DELETE", "/api/v1/admin/groups/{id}", matrix_group, nullptr, {401, 403, 403, 403, 204}},
      {"PUT", "/api/v1/admin/groups/{id}/members", [matrix_group](Fixture& f, Caller c) { return matrix_group(f, c) + "/members"; },
       json{{"user_ids", json::array()}}, {401, 403, 403, 403, 200}},
      {"GET", "/api/v1/admin/tokens", at("/api/v1/admin/tokens"), nullptr, {401, 403, 403, 403, 200}},
      {"DELETE", "/api/v1/admin/tokens/{id}",
       [](Fixture& f, Caller) { return "/api/v1/admin/tokens/" + std::to_string(f.token_of(f.bob)); }, nullptr,
       {401, 403, 403, 403, 204}},
      {"GET", "/api/v1/admin/audit", at("/api/v1/admin/audit"), nullptr, {401, 403, 403, 403, 200}},
      // == rows: admin routes, settings, cover pages, webhooks ==
      {"GET", "/api/v1/admin/settings", at("/api/v1/admin/settings"), nullptr, {401, 403, 403, 403, 200}},
      {"PATCH", "/api/v1/admin/settings", at("/api/v1/admin/settings"), json{{"fax.max_attempts", 4}},
       {401, 403, 403, 403, 200}},
      // No SMTP server is set: the administrator gets notification.not_configured, tried no further.
      {"POST", "/api/v1/admin/settings/smtp/test", at("/api/v1/admin/settings/smtp/test"), json::object(),
       {401, 403, 403, 403, 503}},
      // No mailbox server is set: mail.mailbox_unreachable, tried no further.
      {"POST", "/api/v1/admin/settings/mailbox/test", at("/api/v1/admin/settings/mailbox/test"), json::object(),
       {401, 403, 403, 403, 503}},
      {"GET", "/api/v1/admin/settings/{key}", at("/api/v1/admin/settings/fax.max_attempts"), nullptr,
       {401, 403, 403, 403, 200}},
      {"PUT", "/api/v1/admin/settings/{key}", at("/api/v1/admin/settings/fax.max_attempts"), json{{"value", 4}},
       {401, 403, 403, 403, 200}},
      {"DELETE", "/api/v1/admin/settings/{key}", at("/api/v1/admin/settings/fax.max_attempts"), nullptr,
       {401, 403, 403, 403, 200}},
      {"GET", "/api/v1/admin/routes", at("/api/v1/admin/routes"), nullptr, {401, 403, 403, 403, 200}},
      {"POST", "/api/v1/admin/routes", at("/api/v1/admin/routes"),
       json{{"prefix", "+49"}, {"gateways", {{{"address", "gw.example.test"}}}}}, {401, 403, 403, 403, 201}},
      {"GET", "/api/v1/admin/routes/{id}", a_route, nullptr, {401, 403, 403, 403, 200}},
      {"PATCH", "/api/v1/admin/routes/{id}", a_route, json{{"description", "m"}}, {401, 403, 403, 403, 200}},
      {"DELETE", "/api/v1/admin/routes/{id}", a_route, nullptr, {401, 403, 403, 403, 204}},
      // the send form's drop-down: fax users and up
      {"GET", "/api/v1/cover-pages", at("/api/v1/cover-pages"), nullptr, {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/cover-pages/{name}/preview", at("/api/v1/cover-pages/default/preview"), nullptr,
       {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/admin/cover-pages", at("/api/v1/admin/cover-pages"), nullptr, {401, 403, 403, 403, 200}},
      {"GET", "/api/v1/admin/cover-pages/{name}", at("/api/v1/admin/cover-pages/default"), nullptr,
       {401, 403, 403, 403, 200}},
      // no SVG in the row's body: the administrator gets past the permission to the 415
      {"PUT", "/api/v1/admin/cover-pages/{name}", at("/api/v1/admin/cover-pages/matrix"), nullptr,
       {401, 403, 403, 403, 415}},
      {"PATCH", "/api/v1/admin/cover-pages/{name}", at("/api/v1/admin/cover-pages/default"), json{{"default", true}},
       {401, 403, 403, 403, 200}},
      {"DELETE", "/api/v1/admin/cover-pages/{name}", a_cover_page, nullptr, {401, 403, 403, 403, 204}},
      {"GET", "/api/v1/admin/cover-pages/{name}/preview", at("/api/v1/admin/cover-pages/default/preview"), nullptr,
       {401, 403, 403, 403, 200}},
      {"POST", "/api/v1/admin/cover-pages/builtins/restore", at("/api/v1/admin/cover-pages/builtins/restore"),
       nullptr, {401, 403, 403, 403, 200}},
      {"GET", "/api/v1/admin/webhooks", at("/api/v1/admin/webhooks"), nullptr, {401, 403, 403, 403, 200}},
      {"POST", "/api/v1/admin/webhooks", at("/api/v1/admin/webhooks"), json{{"url", "https://hooks.example.test/"}},
       {401, 403, 403, 403, 201}},
      {"GET", "/api/v1/admin/webhooks/{id}", a_webhook, nullptr, {401, 403, 403, 403, 200}},
      {"PATCH", "/api/v1/admin/webhooks/{id}", a_webhook, json{{"enabled", false}}, {401, 403, 403, 403, 200}},
      {"DELETE", "/api/v1/admin/webhooks/{id}", a_webhook, nullptr, {401, 403, 403, 403, 204}},
      {"POST", "/api/v1/admin/webhooks/{id}/rotate-secret",
       [a_webhook](Fixture& f, Caller c) { return a_webhook(f, c) + "/rotate-secret"; }, nullptr,
       {401, 403, 403, 403, 200}},
      {"GET", "/api/v1/admin/webhooks/{id}/deliveries",
       [a_webhook](Fixture& f, Caller c) { return a_webhook(f, c) + "/deliveries"; }, nullptr,
       {401, 403, 403, 403, 200}},
      // no delivery yet: the administrator gets past the permission to the 404
      {"POST", "/api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/redeliver",
       [a_webhook](Fixture& f, Caller c) { return a_webhook(f, c) + "/deliveries/1/redeliver"; }, nullptr,
       {401, 403, 403, 403, 404}},
      // a user's own webhook endpoints: fax users and up, another user's is not found
      {"GET", "/api/v1/webhooks", at("/api/v1/webhooks"), nullptr, {401, 403, 200, 200, 200}},
      {"POST", "/api/v1/webhooks", at("/api/v1/webhooks"), json{{"url", "https://hooks.example.test/"}},
       {401, 403, 201, 201, 201}},
      {"GET", "/api/v1/webhooks/{id}", webhook_of(false, ""), nullptr, {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/webhooks/{id}", webhook_of(true, ""), nullptr, {401, 403, 404, 404, 404}},
      {"PATCH", "/api/v1/webhooks/{id}", webhook_of(false, ""), json{{"enabled", false}}, {401, 403, 200, 200, 200}},
      {"PATCH", "/api/v1/webhooks/{id}", webhook_of(true, ""), json{{"enabled", false}}, {401, 403, 404, 404, 404}},
      {"DELETE", "/api/v1/webhooks/{id}", webhook_of(false, ""), nullptr, {401, 403, 204, 204, 204}},
      {"DELETE", "/api/v1/webhooks/{id}", webhook_of(true, ""), nullptr, {401, 403, 404, 404, 404}},
      {"POST", "/api/v1/webhooks/{id}/rotate-secret", webhook_of(false, "/rotate-secret"), nullptr,
       {401, 403, 200, 200, 200}},
      {"POST", "/api/v1/webhooks/{id}/rotate-secret", webhook_of(true, "/rotate-secret"), nullptr,
       {401, 403, 404, 404, 404}},
      {"GET", "/api/v1/webhooks/{id}/deliveries", webhook_of(false, "/deliveries"), nullptr,
       {401, 403, 200, 200, 200}},
      {"GET", "/api/v1/webhooks/{id}/deliveries", webhook_of(true, "/deliveries"), nullptr,
       {401, 403, 404, 404, 404}},
      {"POST", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
       webhook_of(false, "/deliveries/1/redeliver"), nullptr, {401, 403, 404, 404, 404}},
      {"GET", "/api/v1/admin/templates", at("/api/v1/admin/templates"), nullptr, {401, 403, 403, 403, 200}},
      {"GET", "/api/v1/admin/templates/{name}/{language}", at("/api/v1/admin/templates/fax_to_email/en"), nullptr,
       {401, 403, 403, 403, 200}},
      {"PUT", "/api/v1/admin/templates/{name}/{language}", at("/api/v1/admin/templates/fax_to_email/en"),
       json{{"subject", "Fax {{REFERENCE}}"}}, {401, 403, 403, 403, 200}},
      {"DELETE", "/api/v1/admin/templates/{name}/{language}", at("/api/v1/admin/templates/fax_to_email/en"), nullptr,
       {401, 403, 403, 403, 200}},
      {"POST", "/api/v1/admin/templates/{name}/{language}/preview",
       at("/api/v1/admin/templates/fax_to_email/en/preview"), json::object(), {401, 403, 403, 403, 200}},
      // == rows: end ==
  };
}

// The (method, path template) pairs the document describes, read from its text: paths
// are the two-space-indented keys under `paths:`, operations the four-space ones.
std::set<std::string> documented_operations() {
  std::ifstream in(FAXBRIDGE_OPENAPI_DOCUMENT);
  std::set<std::string> ops;
  std::string line, path;
  bool in_paths = false;
  const std::regex path_re(R"(^  (/[^:]*):\s*$)");
  const std::regex op_re(R"(^    (get|put|post|patch|delete):\s*$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.rfind("paths:", 0) == 0) in_paths = true;
    else if (!line.empty() && line[0] != ' ' && line[0] != '#') in_paths = false;
    if (!in_paths) continue;
    if (std::regex_match(line, m, path_re)) path = m[1];
    else if (std::regex_match(line, m, op_re)) {
      std::string method = m[1];
      for (auto& ch : method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      ops.insert(method + " " + path);
    }
  }
  return ops;
}

class PermissionMatrixTest : public testing_support::WebApiFixture {
 protected:
  PermissionMatrixTest() : WebApiFixture("webapi_matrix") {}

  void SetUp() override {
    fixture_.alice = make_user("alice", std::nullopt, {.password = kPassword, .display_name = "alice"});
    fixture_.bob = make_user("bob", std::nullopt, {.password = kPassword, .display_name = "bob"});
    fixture_.zero = make_user("zero", 0, {.password = kPassword, .display_name = "zero"});
    fixture_.admin = make_user("admin", 10, {.password = kPassword, .display_name = "admin"});
    WebApiSettings s;
    // The matrix signs in once per call: no throttle may interfere.
    s.account_throttle = api::ThrottleRule{100000, std::chrono::seconds(1)};
    s.address_throttle = api::ThrottleRule{100000, std::chrono::seconds(1)};
    ASSERT_NO_FATAL_FAILURE(start_api(s, SystemClock::instance()));
    alice_token_ = token_for(fixture_.alice, "alice");
    ASSERT_FALSE(alice_token_.empty());
  }

  testing::ApiClient client_for(Caller c) {
    testing::ApiClient client(port_);
    switch (c) {
      case kNobody: break;
      case kLevelZero: EXPECT_TRUE(client.sign_in("zero", kPassword)); break;
      case kUserSession: EXPECT_TRUE(client.sign_in("alice", kPassword)); break;
      case kUserToken: client.bearer(alice_token_); break;
      case kAdmin: EXPECT_TRUE(client.sign_in("admin", kPassword)); break;
      case kCallers: break;
    }
    return client;
  }

  Fixture fixture_{pool_};
  std::string alice_token_;
};

TEST_F(PermissionMatrixTest, EveryOperationAnswersEachCallerAsTheTableSays) {
  for (const Row& row : rows()) {
    for (int c = 0; c < kCallers; ++c) {
      const auto caller = static_cast<Caller>(c);
      auto client = client_for(caller);
      const std::string path = row.path(fixture_, caller);
      const std::string body = row.body.is_null() ? "" : row.body.dump();
      auto reply = client.send(row.method, path, body, body.empty() ? "" : "application/json");
      EXPECT_EQ(reply.status, row.expect[c])
          << row.method << " " << row.operation << " as " << kCallerNames[c] << ": " << reply.body;
    }
  }
}

TEST_F(PermissionMatrixTest, TheTableHasARowForEveryDocumentedOperation) {
  std::set<std::string> covered;
  for (const Row& row : rows()) covered.insert(row.method + " " + row.operation);
  const auto documented = documented_operations();
  ASSERT_GT(documented.size(), 5u) << "the document's operations were not read";
  for (const auto& op : documented) EXPECT_TRUE(covered.count(op)) << "no matrix row for " << op;
}

}  // namespace
}  // namespace faxbridge::webapi
