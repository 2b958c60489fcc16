#pragma once
// Internal to libs/webapi: what the endpoint files share, built once by WebApi. Each
// endpoint file turns it into its routes; nothing here is per request.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "faxbridge/api/server.hpp"
#include "faxbridge/api/throttle.hpp"
#include "faxbridge/core/clock.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/pool.hpp"
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
};

std::vector<api::Route> session_routes(Context& context);  // session_routes.cpp
std::vector<api::Route> token_routes(Context& context);    // token_routes.cpp
std::vector<api::Route> meta_routes();                     // meta_routes.cpp

// The caller as GET /me and sign-in show it.
nlohmann::json user_json(const db::User& user);

}  // namespace faxbridge::webapi
