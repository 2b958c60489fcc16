#pragma once
// DESIGN: libs/api's Authenticator over the database (db/auth.hpp). A request's bearer
// token wins over its cookie (libs/api's rule). A token or session that is unknown,
// expired or revoked is api.unauthenticated (401); one that belongs to a disabled
// account is auth.account_disabled (403: the credential is real, the account is shut),
// refused on the request after an administrator disables it, since nothing is cached.
// A cookie session on an unsafe method must carry the session's CSRF token
// (api::check_csrf; the token is recomputed from the cookie, db::csrf_token_for).
// The caller's level is the user's effective level (own, else the inherited default).
#include "faxbridge/api/auth.hpp"
#include "faxbridge/core/clock.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::webapi {

class DbAuthenticator final : public api::Authenticator {
 public:
  DbAuthenticator(db::Pool& pool, const Clock& clock, db::SessionPolicy policy)
      : pool_(pool), clock_(clock), policy_(policy) {}

  Result<std::optional<api::Principal>> authenticate(const api::Credentials& credentials) override;

 private:
  db::Pool& pool_;
  const Clock& clock_;
  db::SessionPolicy policy_;
};

// auth.account_disabled for a disabled user, else nothing: the one check every way in
// (sign-in, token, session) makes.
Result<void> refuse_disabled(const db::User& user);

}  // namespace faxbridge::webapi
