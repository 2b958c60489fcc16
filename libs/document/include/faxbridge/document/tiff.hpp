#pragma once
// TIFF Class F (TIFF 6.0 section 11 + the Class F profile): one IFD per page, CCITT
// Group 4, 1728 px, 204 dpi across, 196 or 98 dpi down, FillOrder LSB2MSB as fax
// modems and spandsp expect.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/result.hpp"
#include "faxbridge/document/page.hpp"

namespace faxbridge::document {

Result<std::string> write_fax_tiff(const FaxDocument& doc);

// The same file, page by page: each page is G4-encoded when added (its bitmap can go),
// the file written by finish().
class FaxTiffWriter final {
 public:
  explicit FaxTiffWriter(Resolution resolution) : resolution_(resolution) {}
  void add(const Bitmap& page);
  int pages() const { return static_cast<int>(pages_.size()); }
  Result<std::string> finish() const;

 private:
  struct EncodedPage {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> g4;  // FillOrder 2
  };
  Resolution resolution_;
  std::vector<EncodedPage> pages_;
};

// Reads a fax TIFF (ours, or a received one: G3/G4, either FillOrder) into bitmaps.
Result<FaxDocument> read_fax_tiff(std::string_view bytes);
// Page `index` (0-based) alone, decoding no other page (io.not_found past the last).
Result<FaxDocument> read_fax_tiff_page(std::string_view bytes, int index);

struct TiffPageInfo {
  int width = 0;
  int height = 0;
  int compression = 0;  // TIFF tag value: 3 G3, 4 G4
  int fill_order = 0;
  int photometric = 0;
  double x_dpi = 0;
  double y_dpi = 0;
  int resolution_unit = 0;
  std::size_t strip_bytes = 0;  // the compressed data of the page
};
Result<std::vector<TiffPageInfo>> inspect_tiff(std::string_view bytes);

}  // namespace faxbridge::document
