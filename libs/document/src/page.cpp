#include "faxbridge/document/page.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace faxbridge::document {

double dpi_y(Resolution r) { return r == Resolution::kFine ? 196.0 : 98.0; }

std::string_view resolution_name(Resolution r) { return r == Resolution::kFine ? "fine" : "standard"; }

int page_rows(Resolution r) { return static_cast<int>(std::lround(kPageLengthInches * dpi_y(r))); }

Bitmap Bitmap::blank(int w, int h) {
  Bitmap b;
  b.width = w;
  b.height = h;
  b.stride = (w + 7) / 8;
  b.bits.assign(static_cast<std::size_t>(b.stride) * h, 0);
  return b;
}

std::int64_t Bitmap::count_black(int x0, int y0, int x1, int y1) const {
  x0 = std::max(0, x0);
  y0 = std::max(0, y0);
  x1 = std::min(width, x1);
  y1 = std::min(height, y1);
  std::int64_t n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) n += black(x, y) ? 1 : 0;
  return n;
}

std::string_view file_type_name(FileType t) {
  switch (t) {
    case FileType::kPdf: return "pdf";
    case FileType::kImage: return "image";
    case FileType::kTiff: return "tiff";
    case FileType::kText: return "text";
    case FileType::kOffice: return "office";
    case FileType::kEmpty: return "empty";
    case FileType::kUnknown: break;
  }
  return "unknown";
}

}  // namespace faxbridge::document
