#pragma once
// Office documents (doc, docx, xls, xlsx, rtf, odt, ods, pptx) through LibreOffice
// headless -> PDF. Each of at most `max_concurrent` slots keeps its own LibreOffice
// running (warm: started by the slot's first document, ~1 s of CPU, then each
// document costs only its load and export) with its own profile folder (instances
// sharing a profile lock each other up). A conversion over the time limit kills the
// slot's LibreOffice; one that died is started again by the slot's next document.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/result.hpp"

namespace faxbridge::document {

struct OfficeSettings {
  std::string soffice = "soffice";  // program, found on PATH
  // The Python that has LibreOffice's UNO bridge (Debian's python3-uno), which the
  // kept-running instance is driven through (libs/document/office/uno_worker.py).
  std::string python = "/usr/bin/python3";
  std::string work_dir;             // profiles and scratch files live under it
  int max_concurrent = 2;
  int timeout_ms = 120'000;         // one document, including a start when it needs one
  std::size_t memory_bytes = std::size_t{4} << 30;  // LibreOffice maps a lot up front
  // false: a new `soffice --convert-to` per document (no Python needed; ~1 s more each).
  bool keep_running = true;
};

// Zip-based office files (docx, xlsx, pptx, odt, ...) are checked from the zip's
// central directory (libzip) before anything inflates them: more than
// kMaxInflatedBytes in all, or a compression ratio only a bomb has, is
// document.too_large; a zip that does not open is document.corrupt. Other files pass.
inline constexpr std::uint64_t kMaxInflatedBytes = 512ull << 20;  // a 500-page docx is ~50 MB
Result<void> check_office_container(std::string_view bytes);

class OfficeConverter final {
 public:
  explicit OfficeConverter(OfficeSettings settings);
  ~OfficeConverter();  // stops the kept-running instances
  OfficeConverter(const OfficeConverter&) = delete;
  OfficeConverter& operator=(const OfficeConverter&) = delete;

  // document.timeout, document.corrupt (LibreOffice made no PDF) or
  // document.office_unavailable (it could not be started).
  Result<std::string> to_pdf(std::string_view bytes, std::string_view filename);

  // The process group of slot `slot`'s kept-running LibreOffice, -1 when none runs
  // (for tests that kill it).
  int instance_pid(int slot) const;

 private:
  // A slot's kept-running instance: the UNO worker (leader of a process group that
  // LibreOffice joins), its stdin for requests and stdout for answers.
  struct Instance {
    int pid = -1;
    int requests = -1;
    int answers = -1;
    std::string pending;  // answer bytes read past the last line
  };
  int acquire();
  void release(int slot);
  Result<void> start(Instance& instance, int slot, std::chrono::steady_clock::time_point deadline);
  void stop(Instance& instance);
  Result<void> convert_warm(int slot, const std::string& in, const std::string& out);
  Result<void> convert_cold(int slot, const std::string& in, const std::string& outdir);
  OfficeSettings settings_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<bool> busy_;
  std::vector<Instance> instances_;  // by slot; used only by the slot's holder
};

}  // namespace faxbridge::document
