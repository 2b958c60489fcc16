#pragma once
// Small TIFF Class F helpers over libtiff: reading page geometry, comparing the pixels of
// two documents page by page, and generating multipage G4 test documents with varied
// content (tests, the loopback tool and the channel benchmark use the same generator).
#include <cstdint>
#include <string>
#include <vector>

#include "faxbridge/core/result.hpp"

namespace faxbridge::fax {

enum class PageCompression { kNone, kT4OneD, kT4TwoD, kT6, kOther };

struct PageInfo {
  int width = 0;
  int length = 0;
  double x_dpi = 0;
  double y_dpi = 0;
  PageCompression compression = PageCompression::kOther;
  int page_number = -1;  // TIFF PageNumber: 0-based page, and the document's total (0 unknown)
  int page_total = -1;
};

// Geometry and compression of every page (IFD) in a TIFF file.
Result<std::vector<PageInfo>> read_tiff_pages(const std::string& path);

struct PageDiff {
  int page = 0;             // 1-based
  bool same_size = false;
  int differing_rows = 0;   // rows whose pixels differ (only when same_size)
  std::int64_t differing_pixels = 0;
};

struct DocumentDiff {
  int pages_a = 0;
  int pages_b = 0;
  std::vector<PageDiff> pages;  // one per page present in both
  bool identical() const;
  int total_differing_rows() const;
};

// Decodes both files (any fax compression) and compares the 1-bit pixels, with "black"
// normalised across PhotometricInterpretation. `b_header_rows` skips that many rows at the
// top of each page of b (the page header line a sender stamps adds rows).
Result<DocumentDiff> compare_tiff_documents(const std::string& a, const std::string& b,
                                            int b_header_rows = 0);

// Writes every page of `in` to `out` uncompressed (same geometry and resolution, white = 0).
// spandsp decodes the sender's TIFF inside the tick where a page starts; for a fine A4 G4
// page that decode is ~5 of the ~6.5 ms the tick takes, so a sender can decode ahead of the
// call (FaxSession does when SessionOptions::decode_ahead is set).
Result<void> write_uncompressed_copy(const std::string& in, const std::string& out);

enum class TestResolution { kStandard, kFine };

struct TestDocumentSpec {
  int pages = 1;
  TestResolution resolution = TestResolution::kFine;
  std::uint32_t seed = 1;
  // Rows per page; 0 means A4 (1143 standard, 2286 fine).
  int rows = 0;
};

// Writes a 1728-pixel-wide, 204 dpi, multipage G4 (T.6) TIFF Class F document whose pages
// differ from each other (text-like runs, boxes, rules, a per-page mark).
Result<void> write_test_document(const std::string& path, const TestDocumentSpec& spec);

}  // namespace faxbridge::fax
