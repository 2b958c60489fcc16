#include "faxbridge/db/records.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "pqxx_support.hpp"

namespace faxbridge::db {

namespace {

std::optional<double> epoch_seconds(const std::optional<std::chrono::system_clock::time_point>& t) {
  if (!t) return std::nullopt;
  return std::chrono::duration<double>(t->time_since_epoch()).count();
}

}  // namespace

namespace attempts {
namespace {

// The CHECK constraint allows only Outcome names, so an unknown one cannot be read.
std::optional<Outcome> outcome_of(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return parse_outcome(f.c_str());
}

}  // namespace

Result<std::int64_t> open(Tx& tx, const AttemptStart& s) {
  auto& w = W(tx);
  auto n = w.exec_params("UPDATE fax_jobs SET attempts = attempts + 1, updated_at = now() WHERE id = $1 RETURNING attempts",
                         s.job_id);
  if (n.empty()) return Error(Code::k_job_not_found, "No fax job has the id " + std::to_string(s.job_id) + ".");
  auto r = w.exec_params(
      "INSERT INTO attempts (job_id, attempt_no, gateway_instance, route_id, gateway_address, dialled_number) "
      "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
      s.job_id, n[0][0].as<int>(), s.gateway_instance, s.route_id, s.gateway_address, s.dialled_number);
  return r[0][0].as<std::int64_t>();
}

Result<bool> close(Tx& tx, std::int64_t id, const AttemptEnd& e) {
  auto r = W(tx).exec_params(
      "UPDATE attempts SET ended_at = coalesce(to_timestamp($16::float8), clock_timestamp()), outcome = $2, media = $3, sip_status = $4, t30_code = $5, "
      "t30_text = $6, phase_reached = $7, pages_sent = $8, bit_rate = $9, ecm = $10, remote_station_id = $11, "
      "error_code = $12, retryable = $13, diagnostics = $14::jsonb, "
      "gateway_address = coalesce($15, gateway_address) WHERE id = $1 AND ended_at IS NULL",
      id, std::string(outcome_name(e.outcome)), e.media, e.sip_status, e.t30_code, e.t30_text, e.phase_reached, e.pages_sent, e.bit_rate,
      e.ecm, e.remote_station_id, e.error_code, e.retryable, e.diagnostics_json, e.gateway_address,
      epoch_seconds(e.ended_at));
  return r.affected_rows() > 0;
}

Result<std::vector<AttemptRecord>> for_job(Tx& tx, std::int64_t job_id) {
  auto rows = W(tx).exec_params(
      "SELECT id, attempt_no, gateway_instance, dialled_number, "
      "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), outcome, sip_status, t30_code, "
      "t30_text, pages_sent, bit_rate, error_code, "
      "to_char(ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), media, remote_station_id "
      "FROM attempts WHERE job_id = $1 ORDER BY attempt_no",
      job_id);
  std::vector<AttemptRecord> out;
  for (const auto& r : rows) {
    out.push_back({r[0].as<std::int64_t>(), r[1].as<int>(), r[2].as<std::string>(), r[3].as<std::string>(),
                   r[4].as<std::string>(), outcome_of(r[5]), opt<int>(r[6]), opt<int>(r[7]),
                   opt<std::string>(r[8]), r[9].as<int>(), opt<int>(r[10]), opt<std::string>(r[11]),
                   opt<std::string>(r[12]), opt<std::string>(r[13]), opt<std::string>(r[14])});
  }
  return out;
}

}  // namespace attempts

namespace received {

Result<std::int64_t> create(Tx& tx, const ReceivedFax& f) {
  std::optional<std::string> reference;
  if (!f.reference.empty()) reference = f.reference;
  auto r = W(tx).exec_params(
      "INSERT INTO received_faxes (reference, call_id, gateway_instance, caller_number, called_number, "
      "remote_station_id, pages, media, bit_rate, ecm, resolution, t30_code, t30_text, error_code, "
      "tiff_document_id, started_at, ended_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15, "
      "coalesce(to_timestamp($16::float8), now()), coalesce(to_timestamp($17::float8), now())) RETURNING id",
      reference, f.call_id, f.gateway_instance, f.caller_number, f.called_number, f.remote_station_id, f.pages,
      f.media, f.bit_rate, f.ecm, f.resolution, f.t30_code, f.t30_text, f.error_code, f.tiff_document_id,
      epoch_seconds(f.started_at), epoch_seconds(f.ended_at));
  return r[0][0].as<std::int64_t>();
}

Result<std::optional<std::int64_t>> id_for_call(Tx& tx, const std::string& call_id) {
  if (call_id.empty()) return std::optional<std::int64_t>{};
  auto r = W(tx).exec_params("SELECT id FROM received_faxes WHERE call_id = $1", call_id);
  if (r.empty()) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{r[0][0].as<std::int64_t>()};
}

Result<StoredFax> get(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params(
      "SELECT id, state, coalesce(reference, ''), call_id, gateway_instance, caller_number, called_number, "
      "remote_station_id, pages, media, error_code, tiff_document_id, pdf_document_id FROM received_faxes WHERE id = $1",
      id);
  if (r.empty()) return Error(Code::k_io_not_found, "No received fax has the id " + std::to_string(id) + ".");
  StoredFax f;
  f.id = r[0][0].as<std::int64_t>();
  f.state = r[0][1].as<std::string>();
  f.reference = r[0][2].as<std::string>();
  f.call_id = r[0][3].as<std::string>();
  f.gateway_instance = r[0][4].as<std::string>();
  f.caller_number = r[0][5].as<std::string>();
  f.called_number = r[0][6].as<std::string>();
  f.remote_station_id = r[0][7].as<std::string>();
  f.pages = r[0][8].as<int>();
  f.media = opt<std::string>(r[0][9]);
  f.error_code = opt<std::string>(r[0][10]);
  f.tiff_document_id = opt<std::int64_t>(r[0][11]);
  f.pdf_document_id = opt<std::int64_t>(r[0][12]);
  return f;
}

Result<void> annotate(Tx& tx, std::int64_t id, const std::optional<std::string>& reference,
                      const std::optional<std::string>& error_code) {
  W(tx).exec_params("UPDATE received_faxes SET reference = coalesce(reference, $2), "
                    "error_code = coalesce($3, error_code) WHERE id = $1",
                    id, reference, error_code);
  return ok();
}

}  // namespace received

namespace inbox {

Result<bool> deliver(Tx& tx, std::int64_t received_fax_id, std::int64_t user_id,
                     std::optional<std::int64_t> via_group_id) {
  auto r = W(tx).exec_params(
      "INSERT INTO inbox_entries (received_fax_id, user_id, via_group_id) VALUES ($1, $2, $3) "
      "ON CONFLICT (received_fax_id, user_id) DO NOTHING",
      received_fax_id, user_id, via_group_id);
  return r.affected_rows() > 0;
}

Result<std::vector<std::int64_t>> for_user(Tx& tx, std::int64_t user_id, int limit) {
  auto r = W(tx).exec_params(
      "SELECT received_fax_id FROM inbox_entries WHERE user_id = $1 AND deleted_at IS NULL "
      "ORDER BY created_at DESC, id DESC LIMIT $2",
      user_id, limit);
  std::vector<std::int64_t> out;
  for (const auto& row : r) out.push_back(row[0].as<std::int64_t>());
  return out;
}

}  // namespace inbox

namespace notifications {

Result<std::int64_t> enqueue(Tx& tx, const NewNotification& n) {
  auto r = W(tx).exec_params(
      "INSERT INTO notifications (kind, channel, recipient, job_id, received_fax_id, user_id, webhook_id, payload) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) RETURNING id",
      n.kind, n.channel, n.recipient, n.job_id, n.received_fax_id, n.user_id, n.webhook_id, n.payload_json);
  return r[0][0].as<std::int64_t>();
}

}  // namespace notifications

namespace audit {

namespace {
// Only an address inet takes reaches the cast, so an odd remote address (a Unix socket
// path) is stored as NULL instead of failing the change it describes.
bool is_ip_address(const std::string& text) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}
}  // namespace

Result<std::int64_t> record(Tx& tx, const AuditEvent& e) {
  const std::optional<std::string> ip = is_ip_address(e.ip) ? std::optional<std::string>(e.ip) : std::nullopt;
  // Prepared: every change made through the API writes one.
  static const std::string sql =
      "INSERT INTO audit_events (actor_user_id, actor, action, object_type, object_id, details, ip) "
      "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::inet) RETURNING id";
  auto r = exec_prepared_text(tx, sql, e.actor_user_id, e.actor, e.action, e.object_type, e.object_id, e.details_json, ip);
  return r[0][0].as<std::int64_t>();
}

Result<std::vector<AuditRow>> list(Tx& tx, const AuditQuery& q) {
  const auto text = [](const std::string& s) { return s.empty() ? std::nullopt : std::optional<std::string>(s); };
  std::optional<std::string> prefix;
  if (!q.action_prefix.empty()) {
    std::string p;
    for (char c : q.action_prefix) {
      if (c == '%' || c == '_' || c == '\\') p += '\\';
      p += c;
    }
    prefix = p + "%";
  }
  auto rows = W(tx).exec_params(
      "SELECT id, at, actor_user_id, actor, action, object_type, object_id, details::text, host(ip) "
      "FROM audit_events WHERE ($1::bigint = 0 OR id < $1) "
      "AND ($2::text IS NULL OR lower(actor) = lower($2)) AND ($3::text IS NULL OR action LIKE $3) "
      "AND ($4::text IS NULL OR object_type = $4) AND ($5::text IS NULL OR object_id = $5) "
      "AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7) "
      "ORDER BY id DESC LIMIT $8",
      q.before_id, text(q.actor), prefix, text(q.object_type), text(q.object_id), to_sql_time(q.since),
      to_sql_time(q.until), q.limit);
  std::vector<AuditRow> out;
  for (const auto& r : rows) {
    AuditRow a;
    a.id = r[0].as<std::int64_t>();
    a.at = from_sql_time(r[1].as<std::string>());
    a.event.actor_user_id = opt<std::int64_t>(r[2]);
    a.event.actor = r[3].as<std::string>();
    a.event.action = r[4].as<std::string>();
    a.event.object_type = r[5].as<std::string>();
    a.event.object_id = r[6].as<std::string>();
    a.event.details_json = r[7].as<std::string>();
    a.event.ip = r[8].is_null() ? std::string() : r[8].as<std::string>();
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace audit
}  // namespace faxbridge::db
