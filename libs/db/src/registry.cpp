#include "faxbridge/db/registry.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db {
namespace {

// Postgres array literal of bigints / texts for the parameters that take arrays.
std::string int_array(const std::vector<std::int64_t>& v) {
  std::string s = "{";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "}";
}

std::string text_array_literal(const std::vector<std::string>& v) {
  std::string s = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string q = "\"";
    for (char c : v[i]) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    s += (i ? "," : "") + q + "\"";
  }
  return s + "}";
}

}  // namespace

namespace cover_pages {

Result<void> put(Tx& tx, const CoverPage& p) {
  auto& w = W(tx);
  if (p.is_default) w.exec_params("UPDATE cover_pages SET is_default = false WHERE is_default AND name <> $1", p.name);
  pqxx::subtransaction sp(w, "cover_put");
  try {
    sp.exec_params("INSERT INTO cover_pages (name, svg, is_default) VALUES ($1, $2, $3) ON CONFLICT (name) DO "
                   "UPDATE SET svg = EXCLUDED.svg, is_default = EXCLUDED.is_default, updated_at = now()",
                   p.name, p.svg, p.is_default);
    sp.commit();
  } catch (const pqxx::check_violation&) {
    return Error(Code::k_db_constraint, "A cover page name is 1-64 letters, digits, dots, dashes or underscores; got \"" +
                                            p.name + "\".");
  }
  return ok();
}

Result<bool> remove(Tx& tx, const std::string& name) {
  return W(tx).exec_params("DELETE FROM cover_pages WHERE name = $1", name).affected_rows() > 0;
}

Result<std::optional<CoverPage>> resolve(Tx& tx, const std::string& name, const std::string& language) {
  auto& w = W(tx);
  pqxx::result r;
  if (!name.empty())
    r = w.exec_params("SELECT name, svg, is_default FROM cover_pages WHERE name IN ($1 || '_' || $2, $2) "
                      "ORDER BY (name = $2) LIMIT 1",
                      language, name);
  // A blank name, or one no cover page has (renamed, deleted, mistyped): the default
  // cover page, its localized copy "<lang>_<default name>" first.
  if (r.empty())
    r = w.exec_params(
        "SELECT c.name, c.svg, c.is_default FROM cover_pages d JOIN cover_pages c "
        "ON c.name IN ($1 || '_' || d.name, d.name) WHERE d.is_default "
        "ORDER BY (c.name = d.name) LIMIT 1",
        language);
  if (r.empty()) return std::optional<CoverPage>{};
  return std::optional<CoverPage>(CoverPage{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<bool>()});
}

Result<std::vector<std::string>> names(Tx& tx) {
  std::vector<std::string> out;
  for (const auto& row : W(tx).exec("SELECT name FROM cover_pages ORDER BY name")) out.push_back(row[0].as<std::string>());
  return out;
}

}  // namespace cover_pages

namespace gateway_health {

Result<void> report(Tx& tx, const GatewayHealth& h) {
  W(tx).exec_params(
      "INSERT INTO gateway_health (address, state, rtt_ms, detail, last_status, last_ok_at, last_fail_at) "
      "VALUES ($1, $2, $3, $4, $5, CASE WHEN $2 = 'up' THEN now() END, CASE WHEN $2 = 'down' THEN now() END) "
      "ON CONFLICT (address) DO UPDATE SET state = EXCLUDED.state, rtt_ms = EXCLUDED.rtt_ms, detail = EXCLUDED.detail, "
      "last_status = EXCLUDED.last_status, "
      "last_ok_at = coalesce(EXCLUDED.last_ok_at, gateway_health.last_ok_at), "
      "last_fail_at = coalesce(EXCLUDED.last_fail_at, gateway_health.last_fail_at), updated_at = now()",
      h.address, h.state, h.rtt_ms, h.detail, h.last_status);
  return ok();
}

Result<std::vector<GatewayHealth>> list(Tx& tx) {
  std::vector<GatewayHealth> out;
  for (const auto& r :
       W(tx).exec("SELECT address, state, rtt_ms, detail, last_status FROM gateway_health ORDER BY address")) {
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), opt<int>(r[2]), r[3].as<std::string>(), opt<int>(r[4])});
  }
  return out;
}

}  // namespace gateway_health

namespace remote_capabilities {

Result<void> mark_t38_failed(Tx& tx, const std::string& number) {
  W(tx).exec_params("INSERT INTO remote_capabilities (number, prefer_g711, t38_failed_at) VALUES ($1, true, now()) "
                    "ON CONFLICT (number) DO UPDATE SET prefer_g711 = true, t38_failed_at = now(), updated_at = now()",
                    number);
  return ok();
}

Result<bool> prefers_g711(Tx& tx, const std::string& number, int memory_days) {
  auto r = W(tx).exec_params(
      "SELECT prefer_g711 AND coalesce(t38_failed_at > now() - make_interval(days => $2), false) "
      "FROM remote_capabilities WHERE number = $1",
      number, memory_days);
  return !r.empty() && r[0][0].as<bool>();
}

}  // namespace remote_capabilities

namespace api_tokens {

Result<ApiToken> create(Tx& tx, std::int64_t user_id, const std::string& name, const std::string& token,
                        std::optional<TimePoint> expires_at) {
  auto r = W(tx).exec_params(
      "INSERT INTO api_tokens (user_id, name, token_hash, expires_at) VALUES ($1, $2, sha256(convert_to($3, 'UTF8')), $4) "
      "RETURNING id",
      user_id, name, token, to_sql_time(expires_at));
  return ApiToken{r[0][0].as<std::int64_t>(), user_id, name, expires_at};
}

Result<std::optional<ApiToken>> authenticate(Tx& tx, const std::string& token) {
  auto r = W(tx).exec_params(
      "UPDATE api_tokens SET last_used_at = now() WHERE token_hash = sha256(convert_to($1, 'UTF8')) "
      "AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) RETURNING id, user_id, name, expires_at",
      token);
  if (r.empty()) return std::optional<ApiToken>{};
  std::optional<TimePoint> exp;
  if (!r[0][3].is_null()) exp = from_sql_time(r[0][3].as<std::string>());
  return std::optional<ApiToken>(ApiToken{r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>(),
                                          r[0][2].as<std::string>(), exp});
}

Result<bool> revoke(Tx& tx, std::int64_t id) {
  return W(tx).exec_params("UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", id)
             .affected_rows() > 0;
}

}  // namespace api_tokens

namespace webhooks {

Result<WebhookEndpoint> create(Tx& tx, const WebhookEndpoint& e) {
  auto& w = W(tx);
  pqxx::subtransaction sp(w, "webhook_create");
  try {
    auto r = sp.exec_params(
        "INSERT INTO webhook_endpoints (url, secret, events, user_id) VALUES ($1, $2, $3::text[], $4) RETURNING id",
        e.url, e.secret, text_array_literal(e.events), e.user_id);
    sp.commit();
    WebhookEndpoint out = e;
    out.id = r[0][0].as<std::int64_t>();
    return out;
  } catch (const pqxx::check_violation&) {
    return Error(Code::k_db_constraint, "A webhook URL must start with http:// or https://; got \"" + e.url + "\".");
  }
}

Result<std::vector<WebhookEndpoint>> for_event(Tx& tx, const std::string& event, std::optional<std::int64_t> user_id) {
  std::vector<WebhookEndpoint> out;
  auto rows = W(tx).exec_params(
      "SELECT id, url, secret, events, user_id FROM webhook_endpoints WHERE enabled "
      "AND (cardinality(events) = 0 OR $1 = ANY(events)) AND (user_id IS NULL OR user_id = $2) ORDER BY id",
      event, user_id);
  for (const auto& r : rows) {
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), text_array(r[3]),
                   opt<std::int64_t>(r[4])});
  }
  return out;
}

}  // namespace webhooks

namespace ingested_messages {

Result<bool> record(Tx& tx, const std::string& mailbox, const std::string& message_id,
                    const std::vector<std::int64_t>& job_ids, const std::string& outcome) {
  auto r = W(tx).exec_params(
      "INSERT INTO ingested_messages (mailbox, message_id, job_ids, outcome) VALUES ($1, $2, $3::bigint[], $4) "
      "ON CONFLICT DO NOTHING",
      mailbox, message_id, int_array(job_ids), outcome);
  return r.affected_rows() > 0;
}

}  // namespace ingested_messages
}  // namespace faxbridge::db
