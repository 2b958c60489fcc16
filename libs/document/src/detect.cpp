// Type detection from content with libmagic. The name only tells an office zip
// container apart when libmagic reports a plain zip it could not look into.
#include <magic.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <string>

#include "faxbridge/document/convert.hpp"

namespace faxbridge::document {
namespace {

struct MagicCloser {
  void operator()(magic_set* m) const { magic_close(m); }
};

// One cookie per thread: a magic_t is not safe to share between threads.
magic_t cookie() {
  thread_local std::unique_ptr<magic_set, MagicCloser> m;
  if (!m) {
    magic_t c = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
    if (!c) return nullptr;
    if (magic_load(c, nullptr) != 0) {
      magic_close(c);
      return nullptr;
    }
    m.reset(c);
  }
  return m.get();
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string lower_extension(std::string_view name) {
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return {};
  std::string ext(name.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

}  // namespace

Result<Detected> detect(std::string_view bytes, std::string_view filename_hint) {
  Detected d;
  if (bytes.empty()) {
    d.type = FileType::kEmpty;
    d.media_type = "application/x-empty";
    return d;
  }
  magic_t m = cookie();
  if (!m) return Error(Code::k_internal, "The file type database (libmagic) could not be loaded.");
  const char* mime = magic_buffer(m, bytes.data(), bytes.size());
  d.media_type = mime ? mime : "application/octet-stream";
  const std::string_view t = d.media_type;
  static constexpr std::array kImages = {"image/png", "image/jpeg", "image/bmp", "image/x-ms-bmp",
                                         "image/gif", "image/webp", "image/x-portable-bitmap",
                                         "image/x-portable-greymap", "image/x-portable-pixmap"};
  static constexpr std::array kOffice = {"application/msword",
                                         "application/vnd.ms-excel",
                                         "application/vnd.ms-powerpoint",
                                         "application/rtf",
                                         "text/rtf",
                                         "application/CDFV2",
                                         "application/vnd.ms-office"};
  if (t == "application/pdf") {
    d.type = FileType::kPdf;
  } else if (t == "image/tiff") {
    d.type = FileType::kTiff;
  } else if (std::find(kImages.begin(), kImages.end(), t) != kImages.end()) {
    d.type = FileType::kImage;
  } else if (std::find(kOffice.begin(), kOffice.end(), t) != kOffice.end() ||
             starts_with(t, "application/vnd.openxmlformats-officedocument.") ||
             starts_with(t, "application/vnd.oasis.opendocument.")) {
    d.type = FileType::kOffice;
  } else if (t == "text/plain" || (starts_with(t, "text/") && t != "text/html" && t != "text/xml")) {
    d.type = FileType::kText;
  } else if (t == "application/octet-stream" && lower_extension(filename_hint) == "txt") {
    // libmagic calls text in a rare 8-bit encoding "data"; the name says it is text,
    // and text_to_utf8 refuses it if it has control bytes that no text has.
    d.type = FileType::kText;
  } else {
    d.type = FileType::kUnknown;
  }
  return d;
}

}  // namespace faxbridge::document
