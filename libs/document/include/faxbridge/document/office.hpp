#pragma once
// Office documents (doc, docx, xls, xlsx, rtf, odt, ods, pptx) through LibreOffice
// headless -> PDF. Each of at most `max_concurrent` slots has its own profile folder
// (instances sharing a profile lock each other up) that stays between calls, so only
// the first call of a slot pays for creating it.
#include <condition_variable>
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
