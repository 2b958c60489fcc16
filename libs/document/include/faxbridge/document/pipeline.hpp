#pragma once
// A fax job's documents -> one TIFF Class F: the cover page first, then every
// document in order, each decoded in its own sandboxed child; the header band on
// every page when asked for. What document-converter and `faxbridge convert` run.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/metrics.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/document/compose.hpp"
#include "faxbridge/document/office.hpp"
#include "faxbridge/document/page.hpp"
#include "faxbridge/document/sandbox.hpp"

namespace faxbridge::document {

struct InputDocument {
  std::string bytes;
  std::string filename;
};

struct JobSpec {
  Resolution resolution = Resolution::kFine;
  std::vector<InputDocument> documents;
  std::optional<std::string> cover_svg;  // none: no cover page
  CoverFields cover_fields;              // page_count is filled in here
  std::optional<HeaderInfo> header;      // none: no header band
};

struct ConvertedJob {
  std::string tiff;
  int page_count = 0;
};

// A received fax as PDF, and its page count.
struct FaxPdf {
  std::string pdf;
  int page_count = 0;
};

struct PipelineSettings {
  Limits limits;
  bool sandbox = true;  // false only for tests of the decoders themselves
  std::optional<OfficeSettings> office;  // none: office documents are refused
  // faxbridge_conversion_zygote_restarts_total goes here; none when unset.
  metrics::Registry* metrics = nullptr;
};

class Pipeline final {
 public:
  explicit Pipeline(PipelineSettings settings);
  // Errors name the document (context doc=<index>, file=<name>) and say what the
  // sender can do.
  Result<ConvertedJob> run(const JobSpec& job);
  // One document -> its fax TIFF (sandboxed), for the benchmark and tests.
  Result<std::string> convert_one(const InputDocument& doc, Resolution resolution);
  // A received fax TIFF -> PDF (export.hpp's fax_to_pdf) in a sandboxed child under the
  // same limits: its bytes came from the far end of a call, so libtiff and qpdf parse
  // them where a crash or a hang costs that one fax (document.corrupt, .timeout,
  // .too_large) and never the service.
  Result<FaxPdf> fax_to_pdf(std::string_view tiff);

  // Starts the zygote (sandbox.hpp) the sandboxed steps then fork from. Call it while
  // the process is single-threaded and small (in main, after warm_up()). A zygote
  // that dies is started again by the next step (at most once a second); without one,
  // each step forks from this process (run_sandboxed).
  bool start_zygote();
  // CPU seconds spent in the zygote's children so far (0 without a zygote).
  double zygote_cpu_seconds() const;
  // The zygote's process id, -1 without one (for tests that kill it).
  int zygote_pid() const;
  // How many times a dead zygote was replaced (for metrics).
  int zygote_restarts() const;

 private:
  Result<std::string> sandboxed(const std::string& request);
  PipelineSettings settings_;
  std::unique_ptr<OfficeConverter> office_;
  mutable std::mutex zygote_mutex_;  // run() is called from several worker threads
  std::shared_ptr<Zygote> zygote_;
  bool zygote_wanted_ = false;  // start_zygote() succeeded once: replace one that dies
  int zygote_restarts_ = 0;
  std::chrono::steady_clock::time_point last_restart_{};
};

}  // namespace faxbridge::document
