#include "faxbridge/db/jobs.hpp"

#include "faxbridge/db/states.hpp"
#include "faxbridge/core/reference.hpp"
#include "pqxx_support.hpp"
#include "references_sql.hpp"
#include "states_sql.hpp"

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

}  // namespace

Result<Job> create(Tx& tx, const NewJob& n, const std::string& actor) {
  // Prepared: every submission (API, mail, CLI) runs these for each recipient.
  static const std::string sql_insert =
      std::string("INSERT INTO fax_jobs (source, sender_user_id, recipient_number, recipient_canonical, "
                  "recipient_name, recipient_company, subject, note, cover_page_name, resolution, priority, "
                  "not_before, scheduled_at, max_attempts, retry_interval_s, idempotency_key) "
                  "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11, coalesce($12::timestamptz, now()), $12, $13, $14, $15) "
                  "RETURNING ") +
      kColumns;
  static const std::string sql_document =
      "INSERT INTO fax_job_documents (job_id, position, document_id) VALUES ($1, $2, $3)";
  static const std::string sql_event =
      states_sql::job_events_insert("(SELECT $1::bigint AS id) created", "id", "NULL", "$2", "$3");
  pqxx::result r;
  try {
    // The reference number comes with the row (the column's default, migration 0006).
    r = exec_prepared_text(
        tx, sql_insert, n.source, n.sender_user_id, n.recipient_number, n.recipient_canonical, n.recipient_name,
        n.recipient_company, n.subject, n.note, n.cover_page_name, n.resolution, n.priority,
        to_sql_time(n.scheduled_at), n.max_attempts, n.retry_interval_s, n.idempotency_key);
  } catch (const pqxx::sql_error& e) {
    if (!references_sql::is_exhausted(e)) throw;
    return ReferenceNumber::make(utc_year(SystemClock::instance().now()), kMaxReferenceSequence + 1).error();
  }
  Job job = job_from(r[0]);
  for (std::size_t i = 0; i < n.document_ids.size(); ++i) {
    exec_prepared_text(tx, sql_document, job.id, static_cast<int>(i), n.document_ids[i]);
  }
  // The first event has no from-state: the job came into being.
  exec_prepared_text(tx, sql_event, job.id, job.state, actor);
  states_sql::log_job_state_after_commit(tx, job.id, job.reference, "", job.state, actor);
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
  const auto f = parse_job_state(from), t = parse_job_state(to);
  if (!f || !t) return Error(Code::k_internal, "A fax job has no state \"" + (f ? to : from) + "\".");
  auto moved = db::transition(tx, id, *f, *t, actor, error);
  if (!moved) return moved.error();
  auto job = get(tx, id);
  if (!job || *moved) return job;
  return Error(Code::k_db_conflict, "Fax job " + std::to_string(id) + " is " + job->state + ", not " + from +
                                        "; somebody else moved it first.");
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
