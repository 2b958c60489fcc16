#include "faxbridge/db/conversion.hpp"

#include <nlohmann/json.hpp>


#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/webhooks.hpp"
#include "faxbridge/db/states.hpp"
#include "pqxx_support.hpp"

namespace faxbridge::db::conversion {
namespace {

// Queue::finish already moved the job and wrote its event (without knowing the page
// count or the reason); that event gets them here, in the same transaction.
void annotate_event(pqxx::transaction_base& w, std::int64_t job_id, JobState to, const std::optional<std::string>& code,
                    const std::string& detail) {
  w.exec_params("UPDATE job_events SET error_code = coalesce($3, error_code), detail = $4 WHERE id = "
                "(SELECT max(id) FROM job_events WHERE job_id = $1 AND to_state = $2)",
                job_id, std::string(state_name(to)), code, detail);
}

}  // namespace

Result<JobInput> load(Tx& tx, std::int64_t job_id) {
  auto& w = W(tx);
  auto r = w.exec_params(
      "SELECT j.id, j.reference, j.recipient_number, j.recipient_name, j.recipient_company, j.subject, j.note, "
      "j.cover_page_name, j.resolution, coalesce(u.display_name, ''), coalesce(u.company, ''), "
      "coalesce(u.fax_number, ''), coalesce(u.phone_number, ''), coalesce(u.cover_page_name, ''), "
      "coalesce(u.language, 'en'), coalesce(u.username, '') "
      "FROM fax_jobs j LEFT JOIN users u ON u.id = j.sender_user_id WHERE j.id = $1",
      job_id);
  if (r.empty()) return Error(Code::k_job_not_found, "No fax job has the id " + std::to_string(job_id) + ".");
  const auto& row = r[0];
  JobInput in;
  in.id = row[0].as<std::int64_t>();
  in.reference = opt<std::string>(row[1]);
  in.recipient_number = row[2].as<std::string>();
  in.recipient_name = row[3].as<std::string>();
  in.recipient_company = row[4].as<std::string>();
  in.subject = row[5].as<std::string>();
  in.note = row[6].as<std::string>();
  in.cover_page_name = opt<std::string>(row[7]);
  in.resolution = row[8].as<std::string>();
  in.sender_name = row[9].as<std::string>();
  if (in.sender_name.empty()) in.sender_name = row[15].as<std::string>();
  in.sender_company = row[10].as<std::string>();
  in.sender_fax = row[11].as<std::string>();
  in.sender_phone = row[12].as<std::string>();
  in.sender_cover_page_name = row[13].as<std::string>();
  in.sender_language = row[14].as<std::string>();
  auto docs = w.exec_params("SELECT document_id FROM fax_job_documents WHERE job_id = $1 ORDER BY position", job_id);
  for (const auto& d : docs) in.document_ids.push_back(d[0].as<std::int64_t>());
  return in;
}

Result<std::int64_t> complete(Tx& tx, std::int64_t job_id, const std::string& tiff, int page_count,
                              const std::string& actor) {
  Document doc;
  doc.kind = "fax_pages";
  doc.media_type = "image/tiff";
  doc.filename = "job-" + std::to_string(job_id) + ".tif";
  doc.page_count = page_count;
  doc.bytes = tiff;
  auto stored = documents::put(tx, std::move(doc));
  if (!stored) return stored.error();
  auto& w = W(tx);
  w.exec_params("UPDATE fax_jobs SET pages_document_id = $2, page_count = $3, error_code = NULL, "
                "error_category = NULL, error_detail = NULL, error_retryable = NULL WHERE id = $1",
                job_id, stored->id, page_count);
  (void)actor;  // the move and its event are Queue::finish's (db::transition)
  annotate_event(w, job_id, JobState::kReady, std::nullopt, std::to_string(page_count) + " pages");
  return stored->id;
}

Result<std::vector<std::int64_t>> fail(Tx& tx, std::int64_t job_id, const Error& error, const std::string& actor,
                                       bool return_receipts) {
  auto& w = W(tx);
  const std::string code(error.name());
  (void)actor;
  w.exec_params("UPDATE fax_jobs SET error_code = $2, error_category = 'document', error_detail = $3, "
                "error_retryable = false, completed_at = coalesce(completed_at, now()) WHERE id = $1",
                job_id, code, error.message);
  annotate_event(w, job_id, JobState::kFailed, code, error.message);

  auto told = webhook_events::for_job(tx, webhook_events::event_for_job_state("failed"), job_id);
  if (!told) return told.error();
  std::vector<std::int64_t> notes = std::move(*told);
  auto job = w.exec_params(
      "SELECT j.source, coalesce(j.reference, ''), u.id, u.email FROM fax_jobs j "
      "LEFT JOIN users u ON u.id = j.sender_user_id WHERE j.id = $1",
      job_id);
  if (job.empty() || job[0][2].is_null() || job[0][3].as<std::string>().empty()) return notes;
  const bool by_mail = job[0][0].as<std::string>() == "email";
  if (!by_mail && !return_receipts) return notes;
  if (by_mail) {
    // The mail's ledger row, locked: two converters failing two of its jobs at once
    // would otherwise both find no receipt yet.
    auto told_before = w.exec_params(
        "WITH mail AS (SELECT job_ids FROM ingested_messages WHERE $1 = ANY(job_ids) FOR UPDATE) "
        "SELECT EXISTS (SELECT 1 FROM mail JOIN notifications n ON n.job_id = ANY(mail.job_ids) "
        "WHERE n.kind = 'failure_receipt' AND n.job_id <> $1)",
        job_id);
    if (!told_before.empty() && told_before[0][0].as<bool>()) return notes;
  }
  NewNotification n;
  n.kind = "failure_receipt";
  n.channel = "email";
  n.recipient = job[0][3].as<std::string>();
  n.job_id = job_id;
  n.user_id = job[0][2].as<std::int64_t>();
  n.payload_json = nlohmann::json({{"reference", job[0][1].as<std::string>()},
                                   {"state", "failed"},
                                   {"pages_sent", 0},
                                   {"error", {{"code", code},
                                              {"message", error.message},
                                              {"category", "document"},
                                              {"retryable", false}}}})
                       .dump();
  auto id = notifications::enqueue(tx, n);
  if (!id) return id.error();
  notes.push_back(*id);
  return notes;
}

Result<std::vector<PendingPdf>> pending_pdfs(Tx& tx, int limit) {
  auto r = W(tx).exec_params(
      "SELECT id, tiff_document_id FROM received_faxes WHERE tiff_document_id IS NOT NULL "
      "AND pdf_document_id IS NULL AND pdf_error_code IS NULL AND state <> 'receiving' "
      "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
      limit);
  std::vector<PendingPdf> out;
  for (const auto& row : r) out.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>()});
  return out;
}

namespace {

// Locks the received fax and tells whether it is still as pending_pdfs returned it.
bool still_pending(Tx& tx, const PendingPdf& as_read) {
  return !W(tx).exec_params(
                   "SELECT 1 FROM received_faxes WHERE id = $1 AND tiff_document_id = $2 "
                   "AND pdf_document_id IS NULL AND pdf_error_code IS NULL FOR UPDATE",
                   as_read.received_fax_id, as_read.tiff_document_id)
              .empty();
}

}  // namespace

Result<bool> store_pdf(Tx& tx, const PendingPdf& as_read, const std::string& pdf, int page_count) {
  if (!still_pending(tx, as_read)) return false;
  Document doc;
  doc.kind = "pdf";
  doc.media_type = "application/pdf";
  doc.filename = "fax-" + std::to_string(as_read.received_fax_id) + ".pdf";
  doc.page_count = page_count;
  doc.bytes = pdf;
  auto stored = documents::put(tx, std::move(doc));
  if (!stored) return stored.error();
  W(tx).exec_params("UPDATE received_faxes SET pdf_document_id = $2 WHERE id = $1", as_read.received_fax_id,
                    stored->id);
  return true;
}

Result<bool> fail_pdf(Tx& tx, const PendingPdf& as_read, const Error& error) {
  if (!still_pending(tx, as_read)) return false;
  W(tx).exec_params("UPDATE received_faxes SET pdf_error_code = $2, pdf_error_detail = $3 WHERE id = $1",
                    as_read.received_fax_id, std::string(error.name()), error.message);
  return true;
}

}  // namespace faxbridge::db::conversion
