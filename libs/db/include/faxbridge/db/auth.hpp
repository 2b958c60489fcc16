#pragma once
// DESIGN: the credentials of the API, stored so that a copy of the database signs
// nobody in. Both kinds are 32 random bytes (libsodium's randombytes) shown to their
// owner once and kept only as their SHA-256:
//   - API tokens, for integrations: "fbx_" + base64url, the prefix so that a token
//     pasted into a ticket or a repository is recognisable (and greppable by secret
//     scanners). Revocable, optionally expiring, with a last-used time that is written
//     at most once a minute per token, so a client polling in a loop causes no write
//     storm.
//   - Sessions, for the web UI: the secret is the cookie's value. A session slides: each
//     use pushes its end to `idle` from now, written at most once a minute, and never
//     past `max_lifetime` from its start. Sign-out deletes the row.
// The CSRF token of a session is a keyed hash (BLAKE2b) of the cookie secret: the
// server recomputes it from the cookie instead of storing a second secret, and a page
// on another site, which cannot read the cookie, cannot compute it.
// The effective permission level of a user (own, else the inherited default) is on
// db::User (users.hpp); these functions return the user so the caller checks it and
// `disabled` in one place.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::db {

inline constexpr std::string_view kTokenPrefix = "fbx_";
// last_used_at and a session's sliding end are written when older than this: a minute
// is precise enough for "when was this token last used" and bounds the writes to one
// per credential per minute however fast it is used.
inline constexpr std::chrono::seconds kUsageWriteInterval{60};

struct ApiToken {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string name;
  TimePoint created_at;
  std::optional<TimePoint> last_used_at;
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> revoked_at;
};

struct NewApiToken {
  ApiToken token;
  std::string plaintext;  // shown once; only its hash is stored
};

struct TokenCaller {
  ApiToken token;
  User user;  // disabled users are returned too: the caller refuses them
};

namespace api_tokens {
// A new token for the user (user.not_found when there is none). `name` says what it
// is for ("invoicing system"); 1-100 characters (user.invalid otherwise).
Result<NewApiToken> create(Tx& tx, std::int64_t user_id, const std::string& name,
                           std::optional<TimePoint> expires_at, TimePoint now);
// The live token (known, not revoked, not expired at `now`) and its user; nullopt for
// anything else, malformed text included. Records last_used_at (see above).
Result<std::optional<TokenCaller>> authenticate(Tx& tx, std::string_view plaintext, TimePoint now);
// The user's tokens, newest first, revoked ones included (they show when).
Result<std::vector<ApiToken>> list(Tx& tx, std::int64_t user_id);
// Revokes the user's token; false when the user has no token with that id that is not
// revoked already. Takes effect on the next request (nothing caches tokens).
Result<bool> revoke(Tx& tx, std::int64_t user_id, std::int64_t token_id, TimePoint now);

// The administration's view: every user's tokens, with their owner.
struct OwnedToken {
  ApiToken token;
  std::string username;
};
struct TokenQuery {
  std::optional<std::int64_t> user_id;
  bool include_revoked = true;
  int limit = 50;
  std::int64_t before_id = 0;  // the cursor: tokens with a smaller id (newest first); 0 from the top
};
Result<std::vector<OwnedToken>> list_all(Tx& tx, const TokenQuery& query);
// Revokes anyone's token; the revoked token, or nullopt when no token with that id is
// live (unknown or revoked already).
Result<std::optional<ApiToken>> revoke_any(Tx& tx, std::int64_t token_id, TimePoint now);
}  // namespace api_tokens

struct SessionPolicy {
  std::chrono::seconds idle{8 * 3600};              // unused this long: signed out
  std::chrono::seconds max_lifetime{7 * 24 * 3600};  // signed out this long after sign-in, used or not
};

struct NewSession {
  std::string secret;      // the cookie value; only its hash is stored
  std::string csrf_token;  // csrf_token_for(secret)
  TimePoint expires_at;
};

struct SessionCaller {
  User user;  // disabled users are returned too: the caller refuses them
  TimePoint created_at;
  TimePoint expires_at;  // after any renewal this call made
};

namespace sessions {
Result<NewSession> create(Tx& tx, std::int64_t user_id, const SessionPolicy& policy, TimePoint now,
                          const std::string& user_agent, const std::string& ip);
// The live session for a cookie secret and its user, renewed when due; nullopt when
// unknown or expired.
Result<std::optional<SessionCaller>> authenticate(Tx& tx, std::string_view secret, const SessionPolicy& policy,
                                                  TimePoint now);
// Sign-out; false when there was no such session.
Result<bool> remove(Tx& tx, std::string_view secret);
// Ends every session of the user except the one whose cookie secret is `keep` (the
// caller's own, when they changed their own password); returns how many ended.
Result<std::int64_t> remove_for_user(Tx& tx, std::int64_t user_id, std::string_view keep = {});
// Deletes sessions that ended before `now`; returns how many.
Result<std::int64_t> purge_expired(Tx& tx, TimePoint now);
}  // namespace sessions

// The CSRF token that belongs to a session secret (base64url, 43 characters).
std::string csrf_token_for(std::string_view secret);

}  // namespace faxbridge::db
