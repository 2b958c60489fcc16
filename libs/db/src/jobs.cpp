#include "faxbridge/db/jobs.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db::jobs {
namespace {

constexpr const char* kColumns =
    "id, reference, state, source, sender_user_id, recipient_number, recipient_canonical, subject, "
    "priority, attempts, page_count, pages_sent, pages_document_id, route_id, error_code, error_detail, "
    "owner, claims";

Job job_from(const pqxx::row& r) {
  Job j;
  j.id = r[0].as<std::int64_t>();
  j.reference = opt<std::string>(r[1]);
  j.state = r[2].as<std::string>();
  j.source = r[3].as<std::string>();
  j.sender_user_id = opt<std::int64_t>(r[4]);
  j.recipient_number = r[5].as<std::string>();
  j.recipient_canonical = r[6].as<std::string>();
  j.subject = r[7].as<std::string>();
  j.priority = r[8].as<int>();
  j.attempts = r[9].as<int>();
  j.page_count = opt<int>(r[10]);
  j.pages_sent = r[11].as<int>();
  j.pages_document_id = opt<std::int64_t>(r[12]);
  j.route_id = opt<std::int64_t>(r[13]);
  j.error_code = opt<std::string>(r[14]);
  j.error_detail = opt<std::string>(r[15]);
  j.owner = opt<std::string>(r[16]);
  j.claims = r[17].as<int>();
  return j;
}

void add_event(pqxx::work& w, std::int64_t id, const std::optional<std::string>& from, const std::string& to,
               const std::string& actor, const std::optional<std::string>& code, const std::string& detail) {
  w.exec_params("INSERT INTO job_events (job_id, from_state, to_state, actor, error_code, detail) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                id, from, to, actor, code, detail);
}

}  // namespace

Result<Job> create(Tx& tx, const NewJob& n, const std::string& actor) {
  auto& w = W(tx);
  auto r = w.exec_params(
      std::string("INSERT INTO fax_jobs (source, sender_user_id, recipient_number, recipient_canonical, "
                  "recipient_name, recipient_company, subject, note, cover_page_name, resolution, priority, "
                  "not_before, scheduled_at, max_attempts, retry_interval_s, idempotency_key) "
                  "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11, coalesce($12::timestamptz, now()), $12, $13, $14, $15) "
                  "RETURNING ") + kColumns,
      n.source, n.sender_user_id, n.recipient_number, n.recipient_canonical, n.recipient_name,
      n.recipient_company, n.subject, n.note, n.cover_page_name, n.resolution, n.priority,
      to_sql_time(n.scheduled_at), n.max_attempts, n.retry_interval_s, n.idempotency_key);
  Job job = job_from(r[0]);
  for (std::size_t i = 0; i < n.document_ids.size(); ++i) {
    w.exec_params("INSERT INTO fax_job_documents (job_id, position, document_id) VALUES ($1, $2, $3)",
                  job.id, static_cast<int>(i), n.document_ids[i]);
  }
  add_event(w, job.id, std::nullopt, job.state, actor, std::nullopt, "");
  return job;
}

Result<Job> get(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params(std::string("SELECT ") + kColumns + " FROM fax_jobs WHERE id = $1", id);
  if (r.empty()) return Error(Code::k_job_not_found, "No fax job has the id " + std::to_string(id) + ".");
  return job_from(r[0]);
}

Result<std::vector<std::int64_t>> document_ids(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params("SELECT document_id FROM fax_job_documents WHERE job_id = $1 ORDER BY position", id);
  std::vector<std::int64_t> out;
  for (const auto& row : r) out.push_back(row[0].as<std::int64_t>());
  return out;
}

Result<Job> transition(Tx& tx, std::int64_t id, const std::string& from, const std::string& to,
                       const std::string& actor, const std::optional<Error>& error) {
  auto& w = W(tx);
  std::optional<std::string> code, detail;
  if (error) {
    code = std::string(error->name());
    detail = error->message;
  }
  const bool final_state = to == "sent" || to == "partially_sent" || to == "failed" || to == "cancelled";
  auto r = w.exec_params(
      std::string("UPDATE fax_jobs SET state = $3, updated_at = now(), "
                  "error_code = coalesce($4, error_code), error_detail = coalesce($5, error_detail), "
                  "completed_at = CASE WHEN $6 THEN now() ELSE completed_at END "
                  "WHERE id = $1 AND state = $2 RETURNING ") + kColumns,
      id, from, to, code, detail, final_state);
  if (r.empty()) {
    auto cur = w.exec_params("SELECT state FROM fax_jobs WHERE id = $1", id);
    if (cur.empty()) return Error(Code::k_job_not_found, "No fax job has the id " + std::to_string(id) + ".");
    return Error(Code::k_db_conflict, "Fax job " + std::to_string(id) + " is " + cur[0][0].as<std::string>() +
                                          ", not " + from + "; somebody else moved it first.");
  }
  add_event(w, id, from, to, actor, code, detail.value_or(""));
  return job_from(r[0]);
}

Result<void> set_reference(Tx& tx, std::int64_t id, const std::string& reference) {
  W(tx).exec_params("UPDATE fax_jobs SET reference = $2 WHERE id = $1 AND reference IS NULL", id, reference);
  return ok();
}

Result<std::vector<JobEvent>> events(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params(
      "SELECT from_state, to_state, actor, error_code, detail FROM job_events WHERE job_id = $1 ORDER BY id", id);
  std::vector<JobEvent> out;
  for (const auto& row : r) {
    out.push_back({opt<std::string>(row[0]), row[1].as<std::string>(), row[2].as<std::string>(),
                   opt<std::string>(row[3]), row[4].as<std::string>()});
  }
  return out;
}

}  // namespace faxbridge::db::jobs
