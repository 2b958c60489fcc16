// DESIGN: one claimed job, three steps, no transaction held while converting.
//  1. Read (one transaction): the job and its sender, its reference number (drawn
//     when the job was created), the settings (company info, TSID), the cover page by
//     the seed's lookup (db::cover_pages::resolve) and the documents' bytes.
//  2. Convert: Pipeline::run, every decoder in a sandboxed child; can take seconds.
//  3. Write (one transaction): Queue::finish (refused if our lease was taken over) and
//     the pages document, page count and event, or the failure's code and sentence.
// Document errors (invalid_argument, failed_precondition) fail the job for good: the
// sender must send something else. Others (database, LibreOffice not starting) leave
// the job to the queue, which gives it back after the retry delay.
// Received faxes get their PDF the same way: read the TIFFs (one transaction), decode
// each in a sandboxed child with none open, write each outcome in a short transaction
// that finds the row as read. A TIFF the decoder fails on is recorded with its code and
// never picked up again; a sandbox that could not run leaves the fax to the next sweep.
#include "faxbridge/document/job_converter.hpp"

#include <chrono>
#include <ctime>
#include <optional>
#include <thread>
#include <vector>

#include "faxbridge/core/log.hpp"
#include "faxbridge/core/station_id.hpp"
#include "faxbridge/core/metrics.hpp"
#include "faxbridge/db/conversion.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/settings.hpp"

namespace faxbridge::document {

namespace {

std::string utc_now(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// The converter's figures, for the side port's /metrics; nothing without a registry.
void count_outcome(metrics::Registry* registry, bool ready, int documents, int pages, const std::string& code,
                   double seconds) {
  if (registry == nullptr) return;
  auto& m = *registry;
  m.counter("faxbridge_conversion_jobs_total", "Fax jobs converted, by result.", {{"result", ready ? "ready" : "failed"}})
      .inc();
  m.histogram("faxbridge_conversion_seconds", "Time to convert a fax job (every document, cover and header).",
              metrics::latency_buckets())
      .observe(seconds);
  if (ready) {
    m.counter("faxbridge_conversion_documents_total", "Documents converted into fax pages.").inc(documents);
    m.counter("faxbridge_conversion_pages_total", "Fax pages made (cover pages included).").inc(pages);
  } else {
    m.counter("faxbridge_conversion_failures_total", "Fax jobs failed by their documents, by error code.",
              {{"code", code}})
        .inc();
  }
}

bool is_document_error(const Error& e) {
  return e.kind() == ErrorKind::kInvalidArgument || e.kind() == ErrorKind::kFailedPrecondition ||
         e.kind() == ErrorKind::kResourceExhausted;
}

}  // namespace

JobConverter::JobConverter(db::Pool& pool, db::Queue& queue, Pipeline& pipeline, std::string actor,
                           metrics::Registry* metrics)
    : pool_(pool), queue_(queue), pipeline_(pipeline), actor_(std::move(actor)), metrics_(metrics) {}

Result<JobConverter::Outcome> JobConverter::convert_job(std::int64_t job_id, const std::function<bool()>& lease_lost) {
  JobSpec spec;
  db::conversion::JobInput in;
  std::optional<Error> missing;  // a listed document is gone: the job fails, the read commits
  bool return_receipts = false;  // receipts.return_enabled, for a failure's receipt
  auto read = pool_.transact([&](db::Tx& tx) -> Result<void> {
    missing.reset();
    spec.documents.clear();
    auto loaded = db::conversion::load(tx, job_id);
    if (!loaded) return loaded.error();
    in = std::move(*loaded);
    // The job's number was drawn with its INSERT (db::references); a row without one
    // (written by hand) still gets its pages, with no number in the header.
    if (!in.reference) in.reference = "";
    auto settings = db::settings::load(tx);
    if (!settings) return settings.error();
    // The job's own choice wins ('' = no cover page); NULL means the sender's
    // preference, where '' means the default cover page.
    std::optional<db::CoverPage> cover;
    if (!in.cover_page_name || !in.cover_page_name->empty()) {
      const std::string name = in.cover_page_name ? *in.cover_page_name : in.sender_cover_page_name;
      auto resolved = db::cover_pages::resolve(tx, name, in.sender_language);
      if (!resolved) return resolved.error();
      cover = std::move(*resolved);
    }
    const auto& s = *settings;
    return_receipts = s.get_bool("receipts.return_enabled");
    if (cover) {
      spec.cover_svg = cover->svg;
      spec.cover_fields.values = {
          {"sender_name", in.sender_name},         {"sender_company", in.sender_company.empty() ? s.get_string("company.name") : in.sender_company},
          {"sender_fax", in.sender_fax.empty() ? s.get_string("company.fax") : in.sender_fax},
          {"sender_phone", in.sender_phone.empty() ? s.get_string("company.phone") : in.sender_phone},
          {"recipient_name", in.recipient_name},   {"recipient_company", in.recipient_company},
          {"recipient_number", in.recipient_number}, {"subject", in.subject},
          {"note", in.note},                       {"date", utc_now("%Y-%m-%d %H:%M UTC")},
          {"reference", *in.reference},            {"company_name", s.get_string("company.name")},
          {"company_address", s.get_string("company.address")}, {"company_phone", s.get_string("company.phone")},
          {"company_fax", s.get_string("company.fax")}};
    }
    // The same TSID the gateway sends in T.30 (station_id.hpp).
    const std::string tsid = station::tsid(s.get_string("company.tsid"), in.sender_fax, s.get_string("company.fax"));
    spec.header = HeaderInfo{*in.reference, utc_now("%Y-%m-%d %H:%M"), tsid,
                             in.recipient_name.empty() ? in.recipient_number : in.recipient_name};
    spec.resolution = in.resolution == "standard" ? Resolution::kStandard : Resolution::kFine;
    for (const auto id : in.document_ids) {
      auto doc = db::documents::get(tx, id);
      if (!doc && doc.error().code == Code::k_io_not_found) {
        missing = Error(Code::k_document_missing,
                        "A document of this fax is no longer stored; please send the fax again.")
                      .with("document", std::to_string(id));
        return ok();
      }
      if (!doc) return doc.error();
      spec.documents.push_back({std::move(doc->bytes), doc->filename});
    }
    return ok();
  });
  if (!read) return read.error();

  const auto started = std::chrono::steady_clock::now();
  auto converted = missing ? Result<ConvertedJob>(*missing) : pipeline_.run(spec);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (!converted && !is_document_error(converted.error())) return converted.error();
  if (lease_lost()) return Error(Code::k_queue_lease_lost, "Another converter took the job over.");

  std::vector<std::int64_t> notes;  // a failure's receipt and webhooks
  auto write = pool_.transact([&](db::Tx& tx) -> Result<void> {
    notes.clear();
    auto finished = queue_.finish(tx, job_id, converted ? "ready" : "failed");
    if (!finished) return finished.error();
    if (!*finished) return Error(Code::k_queue_lease_lost, "Another converter took the job over.");
    if (converted) {
      auto stored = db::conversion::complete(tx, job_id, converted->tiff, converted->page_count, actor_);
      if (!stored) return stored.error();
      return ok();
    }
    auto told = db::conversion::fail(tx, job_id, converted.error(), actor_, return_receipts);
    if (!told) return told.error();
    notes = std::move(*told);
    return ok();
  });
  if (!write) return write.error();
  count_outcome(metrics_, static_cast<bool>(converted), static_cast<int>(spec.documents.size()),
                converted ? converted->page_count : 0, converted ? "" : std::string(converted.error().name()),
                static_cast<double>(ms) / 1000.0);
  if (converted) {
    log::info("conversion.ready", {{"job", job_id}, {"pages", converted->page_count}, {"documents", static_cast<std::int64_t>(spec.documents.size())},
                                   {"ms", static_cast<std::int64_t>(ms)}, {"bytes", static_cast<std::int64_t>(converted->tiff.size())}});
    return Outcome{job_id, true, converted->page_count, ""};
  }
  log::write_error(log::Level::kWarn, "conversion.failed", converted.error(), {{"job", job_id}});
  return Outcome{job_id, false, 0, std::string(converted.error().name()), std::move(notes)};
}

Result<int> JobConverter::convert_received_pdfs(int limit) {
  struct Received {
    db::conversion::PendingPdf row;
    std::string tiff;
  };
  std::vector<Received> pending;
  auto read = pool_.transact([&](db::Tx& tx) -> Result<void> {
    pending.clear();
    auto settings = db::settings::load(tx);
    if (!settings) return settings.error();
    if (settings->get_string("incoming.attachment_format") != "pdf") return ok();
    auto rows = db::conversion::pending_pdfs(tx, limit);
    if (!rows) return rows.error();
    for (const auto& row : *rows) {
      auto tiff = db::documents::get(tx, row.tiff_document_id);
      if (!tiff) return tiff.error();
      pending.push_back({row, std::move(tiff->bytes)});
    }
    return ok();
  });
  if (!read) return read.error();

  int stored = 0;
  for (const auto& p : pending) {
    // Decoded with no transaction open: a large fax takes seconds, and its row lock
    // would hold back the router's inbound delivery meanwhile.
    auto pdf = pipeline_.fax_to_pdf(p.tiff);
    if (!pdf && pdf.error().kind() == ErrorKind::kUnavailable) {
      // The sandbox itself failed (no fork, no zygote): not the fax's fault; the next
      // sweep tries again. Anything else the child answered is this fax's outcome.
      log::write_error(log::Level::kWarn, "conversion.pdf_deferred", pdf.error(), {{"received_fax", p.row.received_fax_id}});
      continue;
    }
    auto written = pool_.transact([&](db::Tx& tx) -> Result<bool> {
      if (pdf) return db::conversion::store_pdf(tx, p.row, pdf->pdf, pdf->page_count);
      return db::conversion::fail_pdf(tx, p.row, pdf.error());
    });
    if (!written) return written.error();
    if (!*written) {
      log::info("conversion.pdf_superseded", {{"received_fax", p.row.received_fax_id}});
      continue;
    }
    if (pdf) {
      ++stored;
    } else {
      // The TIFF stays available to the inbox and to mails; only the PDF is given up.
      log::write_error(log::Level::kWarn, "conversion.pdf_failed", pdf.error(), {{"received_fax", p.row.received_fax_id}});
    }
  }
  return stored;
}

void JobConverter::sweep_received_pdfs(const std::function<bool()>& stopping) {
  while (!stopping()) {
    if (auto n = convert_received_pdfs(20); !n)
      log::write_error(log::Level::kWarn, "conversion.pdf_sweep_failed", n.error());
    for (int i = 0; i < 50 && !stopping(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace faxbridge::document
