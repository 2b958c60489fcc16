#pragma once
// The document-converter's work on one claimed fax job, apart from the service's main
// so the integration test can drive it: load the job, its documents, cover page and
// company settings; run the Pipeline (sandboxed); then, in one transaction with the
// queue's finish, store the pages and move the job to ready, or fail it with the
// document's code and sentence. Each finished job is counted in the registry given to
// the constructor (none when nullptr): faxbridge_conversion_jobs_total{result},
// _documents_total, _pages_total, _failures_total{code}, _seconds (histogram).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "faxbridge/core/metrics.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/queue.hpp"
#include "faxbridge/document/pipeline.hpp"

namespace faxbridge::document {

class JobConverter final {
 public:
  JobConverter(db::Pool& pool, db::Queue& queue, Pipeline& pipeline, std::string actor, metrics::Registry* metrics);

  // What became of a finished job: ready with its pages, or failed for good with the
  // document's code. The service announces ready jobs to the router.
  struct Outcome {
    std::int64_t job_id = 0;
    bool ready = false;
    int pages = 0;
    std::string error_code;  // the failure's code when !ready
    std::vector<std::int64_t> notifications;  // when !ready: its receipt and webhooks, to announce
  };

  // An Outcome: the job is ready or failed for good (a bad document). An error: the
  // job was not finished (database down, lease lost, LibreOffice unavailable) and goes
  // back to the queue. `lease_lost` is polled before the final transaction.
  Result<Outcome> convert_job(std::int64_t job_id, const std::function<bool()>& lease_lost);

  // Received faxes without their PDF: converts up to `limit` (fax -> PDF, G4 as is),
  // each in a sandboxed child (Pipeline::fax_to_pdf). Reads the rows and TIFFs in one
  // transaction, decodes with none open, then writes each outcome in a short one that
  // finds the row still as read: the PDF, or the code of a TIFF that crashed, hung or
  // exhausted the decoder (that fax is not tried again). Returns how many were stored.
  Result<int> convert_received_pdfs(int limit);
  // convert_received_pdfs every 5 s until `stopping`; for a thread of its own.
  void sweep_received_pdfs(const std::function<bool()>& stopping);

 private:
  db::Pool& pool_;
  db::Queue& queue_;
  Pipeline& pipeline_;
  std::string actor_;
  metrics::Registry* metrics_;
};

}  // namespace faxbridge::document
