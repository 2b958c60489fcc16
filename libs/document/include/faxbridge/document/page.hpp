#pragma once
// Fax pages as the rest of Faxbridge sees them: 1-bit bitmaps 1728 pixels wide
// (T.4 A4/Letter width), at fine (204x196 dpi) or standard (204x98 dpi) resolution,
// with 1 meaning black. No third-party type crosses this header.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace faxbridge::document {

inline constexpr int kFaxWidth = 1728;     // T.4 section 2.2: 1728 pels on 215 mm
inline constexpr double kFaxDpiX = 204.0;  // 8 pels/mm
// A4 length: what every receiver's paper holds; pages are fitted into it.
inline constexpr double kPageLengthInches = 297.0 / 25.4;

enum class Resolution { kFine, kStandard };
double dpi_y(Resolution r);            // 196 or 98
std::string_view resolution_name(Resolution r);  // "fine" | "standard"
int page_rows(Resolution r);           // A4 length in rows at r (2292 or 1146)

// Packed rows, most significant bit leftmost, 1 = black (TIFF MinIsWhite).
struct Bitmap {
  int width = 0;
  int height = 0;
  int stride = 0;  // bytes per row
  std::vector<std::uint8_t> bits;

  static Bitmap blank(int width, int height);
  bool black(int x, int y) const {
    return (bits[static_cast<std::size_t>(y) * stride + x / 8] >> (7 - x % 8)) & 1;
  }
  void set_black(int x, int y) {
    bits[static_cast<std::size_t>(y) * stride + x / 8] |= static_cast<std::uint8_t>(0x80 >> (x % 8));
  }
  // Black pixels in the rectangle (clipped to the bitmap).
  std::int64_t count_black(int x0, int y0, int x1, int y1) const;
};

struct FaxDocument {
  Resolution resolution = Resolution::kFine;
  std::vector<Bitmap> pages;
};

// What the decoders found, by content (libmagic), never by the name alone.
enum class FileType { kUnknown, kPdf, kImage, kTiff, kText, kOffice, kEmpty };
std::string_view file_type_name(FileType t);

// Backstops against hostile or broken input. Each number has its reason:
struct Limits {
  // A fax of more pages is a mistake (a 5,000-page PDF would hold a line for hours).
  int max_pages = 300;
  // A decoded image larger than this many pixels (a 60000x60000 PNG would be 3.6 GB
  // of grey) is refused before decoding; 200 Mpx is a 600 dpi A0 scan.
  std::int64_t max_image_pixels = 200'000'000;
  // Uploads are stored in Postgres; anything larger is not a fax.
  std::size_t max_input_bytes = 64u << 20;
  // Per document, in the sandboxed child (CPU seconds, address space, wall time).
  int cpu_seconds = 60;
  std::size_t memory_bytes = std::size_t{2} << 30;
  int timeout_ms = 120'000;
};

}  // namespace faxbridge::document
