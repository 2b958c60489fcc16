#pragma once
// Internal to libs/webapi: what the endpoint files share, built once by WebApi. Each
// endpoint file turns it into its routes; nothing here is per request.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "faxbridge/api/server.hpp"
#include "faxbridge/api/throttle.hpp"
#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/secret_box.hpp"
#include "faxbridge/core/signed_link.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/webapi/announcer.hpp"
#include "faxbridge/webapi/cookies.hpp"

namespace faxbridge::webapi {

struct Context {
  db::Pool& pool;
  const Clock& clock;
  db::SessionPolicy sessions;
  CookieOptions cookie;
  api::Throttle& account_throttle;
  api::Throttle& address_throttle;
  // An Argon2id hash of a random password nobody knows: an unknown username is checked
  // against it, so that answer takes as long as a wrong password (no user enumeration
  // by timing).
  std::string decoy_hash;
  // The fax endpoints' (WebApiSettings): may be null; uploads' temp folder; key lifetime.
  Announcer* announcer = nullptr;
  std::string upload_directory;
  std::chrono::seconds idempotency_lifetime{24 * 3600};
  // WebApiSettings::secret_key parsed: the key, or why there is none (secret.key_missing).
  Result<secret_box::Key> secret_key = secret_box::Key::parse("");
  // Its sub-key for the signed download links of webhook bodies (core/signed_link.hpp);
  // none without a key.
  std::optional<signed_link::LinkKey> link_key;
};

std::vector<api::Route> session_routes(Context& context);  // session_routes.cpp
std::vector<api::Route> token_routes(Context& context);    // token_routes.cpp
std::vector<api::Route> password_routes(Context& context);  // password_routes.cpp
std::vector<api::Route> meta_routes();                     // meta_routes.cpp
std::vector<api::Route> file_routes(Context& context);     // file_routes.cpp
std::vector<api::Route> fax_submit_routes(Context& context);  // fax_submit.cpp
std::vector<api::Route> fax_routes(Context& context);      // fax_routes.cpp
std::vector<api::Route> inbox_routes(Context& context);       // inbox_routes.cpp
std::vector<api::Route> document_routes(Context& context);    // document_routes.cpp
std::vector<api::Route> preference_routes(Context& context);  // preference_routes.cpp
std::vector<api::Route> stats_routes(Context& context);       // stats_routes.cpp
// The OpenAPI document and the reference page; the script is Redoc's, as loaded.
std::vector<api::Route> docs_routes(const std::string& redoc_script);  // docs_routes.cpp
std::string load_redoc_script(const std::string& path);                // "" when missing
std::vector<api::Route> admin_users_routes(Context& context);   // admin_users_routes.cpp
std::vector<api::Route> admin_groups_routes(Context& context);  // admin_groups_routes.cpp
std::vector<api::Route> admin_tokens_routes(Context& context);  // admin_tokens_routes.cpp
std::vector<api::Route> admin_audit_routes(Context& context);   // admin_audit_routes.cpp
std::vector<api::Route> settings_routes(Context& context);    // settings_routes.cpp
std::vector<api::Route> smtp_test_routes(Context& context);   // smtp_test_routes.cpp
std::vector<api::Route> mailbox_test_routes(Context& context);  // mailbox_test_routes.cpp
std::vector<api::Route> routing_routes(Context& context);     // routing_routes.cpp
std::vector<api::Route> cover_page_routes(Context& context);  // cover_page_routes.cpp
std::vector<api::Route> webhook_routes(Context& context);     // webhook_routes.cpp
std::vector<api::Route> template_routes(Context& context);    // template_routes.cpp

// The caller as GET /me and sign-in show it.
nlohmann::json user_json(const db::User& user);
// A user as the administration shows it: every field (admin_users_routes.cpp).
nlohmann::json admin_user_json(const db::User& user);
// An API token without its text (token_routes.cpp).
nlohmann::json token_json(const db::ApiToken& token);

}  // namespace faxbridge::webapi
