#include "faxbridge/db/registry.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db {
namespace {

// Postgres array literal of texts for the parameters that take arrays.
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
  pqxx::subtransaction sp(savepoint_parent(tx), "cover_put");
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

Result<bool> insert_if_missing(Tx& tx, const CoverPage& p) {
  auto r = W(tx).exec_params(
      "INSERT INTO cover_pages (name, svg, is_default) VALUES ($1, $2, false) ON CONFLICT (name) DO NOTHING", p.name,
      p.svg);
  return r.affected_rows() == 1;
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

Result<std::vector<CoverPageInfo>> list(Tx& tx) {
  std::vector<CoverPageInfo> out;
  for (const auto& r : W(tx).exec("SELECT name, is_default, octet_length(svg), updated_at FROM cover_pages ORDER BY name")) {
    out.push_back({r[0].as<std::string>(), r[1].as<bool>(), r[2].as<std::int64_t>(), from_sql_time(r[3].as<std::string>())});
  }
  return out;
}

Result<std::optional<CoverPage>> get(Tx& tx, const std::string& name) {
  auto r = W(tx).exec_params("SELECT name, svg, is_default FROM cover_pages WHERE name = $1", name);
  if (r.empty()) return std::optional<CoverPage>{};
  return std::optional<CoverPage>(CoverPage{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<bool>()});
}

Result<std::optional<CoverPageInfo>> info(Tx& tx, const std::string& name) {
  auto r = W(tx).exec_params(
      "SELECT name, is_default, octet_length(svg), updated_at FROM cover_pages WHERE name = $1", name);
  if (r.empty()) return std::optional<CoverPageInfo>{};
  return std::optional<CoverPageInfo>(CoverPageInfo{r[0][0].as<std::string>(), r[0][1].as<bool>(),
                                                    r[0][2].as<std::int64_t>(), from_sql_time(r[0][3].as<std::string>())});
}

Result<bool> set_default(Tx& tx, const std::string& name, bool is_default) {
  auto& w = W(tx);
  // Locks the row first: the demotion below must not run for a page that does not exist.
  if (w.exec_params("SELECT 1 FROM cover_pages WHERE name = $1 FOR UPDATE", name).empty()) return false;
  if (is_default) w.exec_params("UPDATE cover_pages SET is_default = false WHERE is_default AND name <> $1", name);
  w.exec_params("UPDATE cover_pages SET is_default = $2, updated_at = now() WHERE name = $1 AND is_default <> $2",
                name, is_default);
  return true;
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
       W(tx).exec("SELECT address, state, rtt_ms, detail, last_status, last_ok_at, last_fail_at, updated_at "
                  "FROM gateway_health ORDER BY address")) {
    GatewayHealth h;
    h.address = r[0].as<std::string>();
    h.state = r[1].as<std::string>();
    h.rtt_ms = opt<int>(r[2]);
    h.detail = r[3].as<std::string>();
    h.last_status = opt<int>(r[4]);
    if (!r[5].is_null()) h.last_ok_at = from_sql_time(r[5].as<std::string>());
    if (!r[6].is_null()) h.last_fail_at = from_sql_time(r[6].as<std::string>());
    h.updated_at = from_sql_time(r[7].as<std::string>());
    out.push_back(std::move(h));
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

const std::vector<std::string>& webhook_event_types() {
  static const std::vector<std::string> events = {
      "fax.queued",          // an outgoing fax entered the queue (converted and routed)
      "fax.sending",         // a call was answered and pages are being sent
      "fax.retry_scheduled", // an attempt failed; another is scheduled
      "fax.sent",            // every page was confirmed
      "fax.partially_sent",  // the attempts ended with some pages confirmed
      "fax.failed",          // the fax finally failed
      "fax.cancelled",       // the fax was cancelled
      "fax.received",        // a received fax was delivered to an inbox
      "fax.receive_failed",  // an incoming call ended without a page
      "gateway.down",        // a route's gateway address stopped answering OPTIONS
      "gateway.up",          // and answers again
  };
  return events;
}

namespace webhooks {
namespace {

constexpr const char* kWebhookColumns =
    "id, url, secret, events, user_id, description, enabled, previous_secret, previous_secret_until, created_at, "
    "updated_at, signing, public_key, signing_key";

WebhookEndpoint webhook_from(const pqxx::row& r) {
  WebhookEndpoint e;
  e.id = r[0].as<std::int64_t>();
  e.url = r[1].as<std::string>();
  e.secret = r[2].as<std::string>();
  e.events = text_array(r[3]);
  e.user_id = opt<std::int64_t>(r[4]);
  e.description = r[5].as<std::string>();
  e.enabled = r[6].as<bool>();
  e.previous_secret = opt<std::string>(r[7]);
  if (!r[8].is_null()) e.previous_secret_until = from_sql_time(r[8].as<std::string>());
  e.created_at = from_sql_time(r[9].as<std::string>());
  e.updated_at = from_sql_time(r[10].as<std::string>());
  e.signing = r[11].as<std::string>();
  e.public_key = opt<std::string>(r[12]);
  e.signing_key = opt<std::string>(r[13]);
  return e;
}

Error bad_url(const std::string& url) {
  return Error(Code::k_db_constraint, "A webhook URL must start with http:// or https://; got \"" + url + "\".");
}

}  // namespace

Result<WebhookEndpoint> create(Tx& tx, const WebhookEndpoint& e) {
  auto& w = W(tx);
  pqxx::subtransaction sp(savepoint_parent(tx), "webhook_create");
  try {
    auto r = sp.exec_params(std::string("INSERT INTO webhook_endpoints (url, secret, events, user_id, description, enabled, "
                                        "signing, public_key, signing_key) "
                                        "VALUES ($1, $2, $3::text[], $4, $5, $6, $7, $8, $9) RETURNING ") +
                                kWebhookColumns,
                            e.url, e.secret, text_array_literal(e.events), e.user_id, e.description, e.enabled,
                            e.signing, e.public_key, e.signing_key);
    sp.commit();
    return webhook_from(r[0]);
  } catch (const pqxx::check_violation&) {
    return bad_url(e.url);
  }
}

Result<std::vector<WebhookEndpoint>> list(Tx& tx) {
  std::vector<WebhookEndpoint> out;
  for (const auto& r : W(tx).exec(std::string("SELECT ") + kWebhookColumns + " FROM webhook_endpoints ORDER BY id")) {
    out.push_back(webhook_from(r));
  }
  return out;
}

Result<std::optional<WebhookEndpoint>> get(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params(std::string("SELECT ") + kWebhookColumns + " FROM webhook_endpoints WHERE id = $1", id);
  if (r.empty()) return std::optional<WebhookEndpoint>{};
  return std::optional<WebhookEndpoint>(webhook_from(r[0]));
}

Result<std::optional<WebhookEndpoint>> update(Tx& tx, std::int64_t id, const WebhookChange& c) {
  pqxx::subtransaction sp(savepoint_parent(tx), "webhook_update");
  try {
    std::optional<std::string> events;
    if (c.events) events = text_array_literal(*c.events);
    auto r = sp.exec_params(std::string("UPDATE webhook_endpoints SET url = coalesce($2, url), "
                                        "description = coalesce($3, description), "
                                        "events = coalesce($4::text[], events), enabled = coalesce($5, enabled), "
                                        "updated_at = now() WHERE id = $1 RETURNING ") +
                                kWebhookColumns,
                            id, c.url, c.description, events, c.enabled);
    sp.commit();
    if (r.empty()) return std::optional<WebhookEndpoint>{};
    return std::optional<WebhookEndpoint>(webhook_from(r[0]));
  } catch (const pqxx::check_violation&) {
    return bad_url(c.url.value_or(""));
  }
}

Result<bool> remove(Tx& tx, std::int64_t id) {
  return W(tx).exec_params("DELETE FROM webhook_endpoints WHERE id = $1", id).affected_rows() > 0;
}

Result<std::optional<WebhookEndpoint>> rotate_secret(Tx& tx, std::int64_t id, const std::string& secret,
                                                     std::chrono::seconds overlap) {
  auto r = W(tx).exec_params(std::string("UPDATE webhook_endpoints SET previous_secret = secret, secret = $2, "
                                         "previous_secret_until = now() + make_interval(secs => $3), "
                                         "updated_at = now() WHERE id = $1 RETURNING ") +
                                 kWebhookColumns,
                             id, secret, static_cast<double>(overlap.count()));
  if (r.empty()) return std::optional<WebhookEndpoint>{};
  return std::optional<WebhookEndpoint>(webhook_from(r[0]));
}

Result<bool> seal_signing_key(Tx& tx, std::int64_t id, const std::string& plain, const std::string& sealed) {
  return W(tx)
             .exec_params("UPDATE webhook_endpoints SET signing_key = $3 WHERE id = $1 AND signing_key = $2", id,
                          plain, sealed)
             .affected_rows() > 0;
}

Result<bool> seal_secrets(Tx& tx, std::int64_t id, const std::string& plain, const std::string& sealed,
                          const std::optional<std::string>& previous_plain,
                          const std::optional<std::string>& previous_sealed) {
  return W(tx)
             .exec_params("UPDATE webhook_endpoints SET "
                          "secret = CASE WHEN secret = $2 THEN $3 ELSE secret END, "
                          "previous_secret = CASE WHEN previous_secret = $4 THEN $5 ELSE previous_secret END "
                          "WHERE id = $1 AND (secret = $2 OR previous_secret = $4)",
                          id, plain, sealed, previous_plain, previous_sealed)
             .affected_rows() > 0;
}

Result<std::vector<WebhookEndpoint>> for_event(Tx& tx, const std::string& event, std::optional<std::int64_t> user_id) {
  std::vector<WebhookEndpoint> out;
  auto rows = W(tx).exec_params(
      std::string("SELECT ") + kWebhookColumns + " FROM webhook_endpoints WHERE enabled "
      "AND (cardinality(events) = 0 OR $1 = ANY(events)) AND (user_id IS NULL OR user_id = $2) ORDER BY id",
      event, user_id);
  for (const auto& r : rows) out.push_back(webhook_from(r));
  return out;
}

}  // namespace webhooks

namespace ingested_messages {

Result<bool> record(Tx& tx, const std::string& mailbox, const std::string& message_id,
                    const std::vector<std::int64_t>& job_ids, const std::string& outcome) {
  // Prepared: one per mail mail-ingest reads.
  static const std::string sql =
      "INSERT INTO ingested_messages (mailbox, message_id, job_ids, outcome) VALUES ($1, $2, $3::bigint[], $4) "
      "ON CONFLICT DO NOTHING";
  auto r = exec_prepared_text(tx, sql, mailbox, message_id, bigint_array(job_ids), outcome);
  return r.affected_rows() > 0;
}

Result<std::optional<std::string>> outcome(Tx& tx, const std::string& mailbox, const std::string& message_id) {
  auto r = W(tx).exec_params("SELECT outcome FROM ingested_messages WHERE mailbox = $1 AND message_id = $2", mailbox,
                             message_id);
  if (r.empty()) return std::optional<std::string>();
  return std::optional<std::string>(r[0][0].c_str());
}

}  // namespace ingested_messages
}  // namespace faxbridge::db
