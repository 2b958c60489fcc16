#pragma once
// Office documents (doc, docx, xls, xlsx, rtf, odt, ods, pptx) through LibreOffice
// headless -> PDF. Each of at most `max_concurrent` slots has its own profile folder
// (instances sharing a profile lock each other up) that stays between calls, so only
// the first call of a slot pays for creating it.
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
  std::string work_dir;             // profiles and scratch files live under it
  int max_concurrent = 2;
  int timeout_ms = 120'000;
  std::size_t memory_bytes = std::size_t{4} << 30;  // LibreOffice maps a lot up front
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
  // document.timeout, document.corrupt (LibreOffice made no PDF) or
  // document.office_unavailable (it could not be started).
  Result<std::string> to_pdf(std::string_view bytes, std::string_view filename);

 private:
  int acquire();
  void release(int slot);
  OfficeSettings settings_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<bool> busy_;
};

}  // namespace faxbridge::document
