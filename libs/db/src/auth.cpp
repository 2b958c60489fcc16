// DESIGN: see auth.hpp. Secrets are hashed here, in C++, and reach SQL only as the hex
// of their SHA-256 (decode($n, 'hex')): the plaintext never travels to the server, so
// it cannot land in a statement log. Lookups are by the unique hash; a secret that
// does not have the shape we issue is refused before any query, so garbage in an
// Authorization header costs no round trip.
#include "faxbridge/db/auth.hpp"

#include <sodium.h>

#include "pqxx_support.hpp"
#include "users_sql.hpp"

namespace faxbridge::db {
namespace {

constexpr std::size_t kSecretBytes = 32;
// base64url without padding of 32 bytes.
constexpr std::size_t kSecretChars = 43;
constexpr std::size_t kMaxTokenNameChars = 100;

// libsodium must be initialised before randombytes; sodium_init is idempotent and
// thread-safe, and fails only when the system has no entropy source at all.
Result<void> ensure_sodium() {
  if (sodium_init() < 0) return Error(Code::k_internal, "libsodium could not be initialised.");
  return ok();
}

std::string base64url(const unsigned char* bytes, std::size_t size) {
  std::string out(sodium_base64_encoded_len(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  return out;
}

Result<std::string> random_secret() {
  if (auto s = ensure_sodium(); !s) return s.error();
  unsigned char bytes[kSecretBytes];
  randombytes_buf(bytes, sizeof bytes);
  auto text = base64url(bytes, sizeof bytes);
  sodium_memzero(bytes, sizeof bytes);
  return text;
}

bool is_base64url(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool is_secret(std::string_view s) { return s.size() == kSecretChars && is_base64url(s); }

bool is_token(std::string_view s) {
  return s.size() == kTokenPrefix.size() + kSecretChars && s.substr(0, kTokenPrefix.size()) == kTokenPrefix &&
         is_base64url(s.substr(kTokenPrefix.size()));
}

// SHA-256 of the text, as hex for decode($n, 'hex').
std::string sha256_hex(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex);
}

std::optional<TimePoint> opt_time(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return from_sql_time(f.as<std::string>());
}

constexpr const char* kTokenColumns = "id, user_id, name, created_at, last_used_at, expires_at, revoked_at";

ApiToken token_from(const pqxx::row& r) {
  ApiToken t;
  t.id = r[0].as<std::int64_t>();
  t.user_id = r[1].as<std::int64_t>();
  t.name = r[2].as<std::string>();
  t.created_at = from_sql_time(r[3].as<std::string>());
  t.last_used_at = opt_time(r[4]);
  t.expires_at = opt_time(r[5]);
  t.revoked_at = opt_time(r[6]);
  return t;
}

std::size_t utf8_chars(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string csrf_token_for(std::string_view secret) {
  // A MAC of a fixed label under the session secret: recomputable from the cookie,
  // unguessable without it. The label keeps this hash apart from any other use of
  // the secret (the stored SHA-256 is unkeyed, so they can never coincide).
  static constexpr std::string_view kLabel = "faxbridge csrf token v1";
  unsigned char mac[32];
  crypto_generichash(mac, sizeof mac, reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(),
                     reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  return base64url(mac, sizeof mac);
}

namespace api_tokens {

Result<NewApiToken> create(Tx& tx, std::int64_t user_id, const std::string& name,
                           std::optional<TimePoint> expires_at, TimePoint now) {
  const auto chars = utf8_chars(name);
  if (chars < 1 || chars > kMaxTokenNameChars) {
    return Error(Code::k_user_invalid, "A token's name says what it is for, in 1 to " +
                                           std::to_string(kMaxTokenNameChars) + " characters.");
  }
  auto user = users::get(tx, user_id);
  if (!user) return user.error();
  auto secret = random_secret();
  if (!secret) return secret.error();
  NewApiToken out;
  out.plaintext = std::string(kTokenPrefix) + *secret;
  auto r = W(tx).exec_params(std::string("INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) "
                                         "VALUES ($1, $2, decode($3, 'hex'), $4, $5) RETURNING ") +
                                 kTokenColumns,
                             user_id, name, sha256_hex(out.plaintext), to_sql_time(now), to_sql_time(expires_at));
  out.token = token_from(r[0]);
  return out;
}

Result<std::optional<TokenCaller>> authenticate(Tx& tx, std::string_view plaintext, TimePoint now) {
  if (!is_token(plaintext)) return std::optional<TokenCaller>{};
  // Every API request runs this: one prepared statement reads the token and its user.
  // Nothing is cached between requests, so a revoked token fails on the next one.
  static const std::string sql =
      "SELECT t.id, t.user_id, t.name, t.created_at, t.last_used_at, t.expires_at, t.revoked_at, u.* "
      "FROM api_tokens t, LATERAL (SELECT " +
      users_sql::columns() +
      " FROM users WHERE users.id = t.user_id) u "
      "WHERE t.token_hash = decode($1, 'hex') AND t.revoked_at IS NULL "
      "AND (t.expires_at IS NULL OR t.expires_at > $2::timestamptz)";
  auto rows = exec_prepared_text(tx, sql, sha256_hex(plaintext), to_sql_time(now));
  if (rows.empty()) return std::optional<TokenCaller>{};
  constexpr pqxx::row::size_type kTokenFields = 7;
  TokenCaller c;
  c.token = token_from(rows[0]);
  c.user = users_sql::user_from(rows[0].slice(kTokenFields, rows[0].size()));
  if (!c.token.last_used_at || now - *c.token.last_used_at >= kUsageWriteInterval) {
    static const std::string touch = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";
    exec_prepared_text(tx, touch, c.token.id, to_sql_time(now));
    c.token.last_used_at = now;
  }
  return std::optional<TokenCaller>(std::move(c));
}

Result<std::vector<ApiToken>> list(Tx& tx, std::int64_t user_id) {
  auto rows = W(tx).exec_params(
      std::string("SELECT ") + kTokenColumns + " FROM api_tokens WHERE user_id = $1 ORDER BY id DESC", user_id);
  std::vector<ApiToken> out;
  for (const auto& r : rows) out.push_back(token_from(r));
  return out;
}

Result<bool> revoke(Tx& tx, std::int64_t user_id, std::int64_t token_id, TimePoint now) {
  auto r = W(tx).exec_params(
      "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL", token_id,
      user_id, to_sql_time(now));
  return r.affected_rows() == 1;
}

Result<std::vector<OwnedToken>> list_all(Tx& tx, const TokenQuery& q) {
  auto rows = W(tx).exec_params(
      "SELECT t.id, t.user_id, t.name, t.created_at, t.last_used_at, t.expires_at, t.revoked_at, u.username "
      "FROM api_tokens t JOIN users u ON u.id = t.user_id "
      "WHERE ($1::bigint = 0 OR t.id < $1) AND ($2::bigint IS NULL OR t.user_id = $2) "
      "AND ($3 OR t.revoked_at IS NULL) ORDER BY t.id DESC LIMIT $4",
      q.before_id, q.user_id, q.include_revoked, q.limit);
  std::vector<OwnedToken> out;
  for (const auto& r : rows) out.push_back({token_from(r), r[7].as<std::string>()});
  return out;
}

Result<std::optional<ApiToken>> revoke_any(Tx& tx, std::int64_t token_id, TimePoint now) {
  auto r = W(tx).exec_params(std::string("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL "
                                         "RETURNING ") +
                                 kTokenColumns,
                             token_id, to_sql_time(now));
  if (r.empty()) return std::optional<ApiToken>{};
  return std::optional<ApiToken>(token_from(r[0]));
}

}  // namespace api_tokens

namespace sessions {

Result<NewSession> create(Tx& tx, std::int64_t user_id, const SessionPolicy& policy, TimePoint now,
                          const std::string& user_agent, const std::string& ip) {
  auto secret = random_secret();
  if (!secret) return secret.error();
  NewSession out;
  out.secret = std::move(*secret);
  out.csrf_token = csrf_token_for(out.secret);
  out.expires_at = now + std::min(policy.idle, policy.max_lifetime);
  // The user agent is shown to the user in a session list; a hostile client could
  // send megabytes of it, so only its start is kept.
  const std::string agent = user_agent.substr(0, 200);
  W(tx).exec_params(
      "INSERT INTO sessions (id, user_id, created_at, expires_at, user_agent, ip) "
      "VALUES (decode($1, 'hex'), $2, $3, $4, $5, $6::inet)",
      sha256_hex(out.secret), user_id, to_sql_time(now), to_sql_time(out.expires_at), agent,
      ip.empty() ? std::optional<std::string>{} : std::optional<std::string>(ip));
  return out;
}

Result<std::optional<SessionCaller>> authenticate(Tx& tx, std::string_view secret, const SessionPolicy& policy,
                                                  TimePoint now) {
  if (!is_secret(secret)) return std::optional<SessionCaller>{};
  const auto id = sha256_hex(secret);
  // Every request of the web UI runs this: prepared, like the token check.
  static const std::string sql =
      "SELECT user_id, created_at, expires_at FROM sessions WHERE id = decode($1, 'hex') AND expires_at > $2";
  auto rows = exec_prepared_text(tx, sql, id, to_sql_time(now));
  if (rows.empty()) return std::optional<SessionCaller>{};
  SessionCaller c;
  const auto user_id = rows[0][0].as<std::int64_t>();
  c.created_at = from_sql_time(rows[0][1].as<std::string>());
  c.expires_at = from_sql_time(rows[0][2].as<std::string>());
  const TimePoint wanted = std::min(now + policy.idle, c.created_at + policy.max_lifetime);
  if (wanted - c.expires_at >= kUsageWriteInterval) {
    W(tx).exec_params("UPDATE sessions SET expires_at = $2 WHERE id = decode($1, 'hex')", id, to_sql_time(wanted));
    c.expires_at = wanted;
  }
  auto user = users::get(tx, user_id);
  if (!user) return user.error();
  c.user = std::move(*user);
  return std::optional<SessionCaller>(std::move(c));
}

Result<bool> remove(Tx& tx, std::string_view secret) {
  if (!is_secret(secret)) return false;
  auto r = W(tx).exec_params("DELETE FROM sessions WHERE id = decode($1, 'hex')", sha256_hex(secret));
  return r.affected_rows() == 1;
}

Result<std::int64_t> remove_for_user(Tx& tx, std::int64_t user_id, std::string_view keep) {
  // A `keep` that is no secret of ours matches no row, so every session ends.
  const std::string kept = is_secret(keep) ? sha256_hex(keep) : std::string();
  auto r = W(tx).exec_params(
      "DELETE FROM sessions WHERE user_id = $1 AND ($2 = '' OR id <> decode($2, 'hex'))", user_id, kept);
  return static_cast<std::int64_t>(r.affected_rows());
}

Result<std::int64_t> purge_expired(Tx& tx, TimePoint now) {
  auto r = W(tx).exec_params("DELETE FROM sessions WHERE expires_at <= $1", to_sql_time(now));
  return static_cast<std::int64_t>(r.affected_rows());
}

}  // namespace sessions

}  // namespace faxbridge::db
