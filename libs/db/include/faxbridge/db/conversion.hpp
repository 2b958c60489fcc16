#pragma once
// The document-converter's reads and writes on a fax job (ARCHITECTURE.md section 3,
// submitted -> converting -> ready | failed). The caller claims the job with
// db::Queue and calls Queue::finish in the same transaction as complete()/fail(), so
// the pages, the page count, the state and the event commit together or not at all.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db::conversion {

// What a conversion needs beyond jobs::get: the cover page fields and the sender.
struct JobInput {
  std::int64_t id = 0;
  std::optional<std::string> reference;
  std::string recipient_number;
  std::string recipient_name;
  std::string recipient_company;
  std::string subject;
  std::string note;
  std::optional<std::string> cover_page_name;  // NULL: the sender's choice / default; '' none
  std::string resolution;                      // fine | standard
  std::vector<std::int64_t> document_ids;      // in sending order
  // The sender (empty when the job has none, e.g. from the API without a user).
  std::string sender_name;
  std::string sender_company;
  std::string sender_fax;
  std::string sender_phone;
  std::string sender_cover_page_name;
  std::string sender_language = "en";
};

// job.not_found when the job does not exist.
Result<JobInput> load(Tx& tx, std::int64_t job_id);

// Stores the pages as a fax_pages document, sets pages_document_id and page_count and
// puts the page count on the converting -> ready event that Queue::finish(tx, id,
// "ready") wrote just before.
Result<std::int64_t> complete(Tx& tx, std::int64_t job_id, const std::string& tiff, int page_count,
                              const std::string& actor);

// Records why the conversion failed (code, sentence, category 'document', not
// retryable), on the job and on the converting -> failed event that Queue::finish(tx,
// id, "failed") wrote just before; and tells of it as the router tells of a final
// failure: the job's webhook endpoints get fax.failed, and the sender a
// failure_receipt when `return_receipts` (receipts.return_enabled) or when the job came
// by mail, whose sender has no other way to learn it. One receipt per mail, not per
// job: a mail's jobs share its documents and fail alike, and the ledger row of the mail
// (ingested_messages) is locked while its other jobs are checked. Returns the ids of the
// notifications written, for the caller to announce.
Result<std::vector<std::int64_t>> fail(Tx& tx, std::int64_t job_id, const Error& error, const std::string& actor,
                                       bool return_receipts);

// Received faxes whose PDF is missing (the attachment format is PDF) and has not
// failed before: their ids and TIFF document ids, locked (SKIP LOCKED) for this
// transaction. The converter reads them and their TIFFs, commits, decodes, and then
// writes the outcome with store_pdf or fail_pdf in a second transaction.
struct PendingPdf {
  std::int64_t received_fax_id = 0;
  std::int64_t tiff_document_id = 0;
};
Result<std::vector<PendingPdf>> pending_pdfs(Tx& tx, int limit);
// Both lock the row and write only when it is still as read (same TIFF, no PDF, no
// failure recorded): false when another converter or a deletion got there first.
Result<bool> store_pdf(Tx& tx, const PendingPdf& as_read, const std::string& pdf, int page_count);
// Records why the PDF cannot be made (code and sentence): the sweep skips it from then on.
Result<bool> fail_pdf(Tx& tx, const PendingPdf& as_read, const Error& error);

}  // namespace faxbridge::db::conversion
