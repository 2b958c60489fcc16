#include "faxbridge/fax/tiff_pages.hpp"

#include <tiffio.h>

#include <cstring>
#include <memory>
#include <random>

#include "tiff_tags.hpp"

namespace faxbridge::fax {

namespace {

struct TiffCloser {
  void operator()(TIFF* t) const {
    if (t) TIFFClose(t);
  }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

// libtiff reports through global handlers; silence them, our errors carry the context.
void quiet_libtiff() {
  static const bool once = [] {
    TIFFSetWarningHandler(nullptr);
    TIFFSetErrorHandler(nullptr);
    return true;
  }();
  (void)once;
}

Result<TiffPtr> open_tiff(const std::string& path, const char* mode) {
  quiet_libtiff();
  TiffPtr t(TIFFOpen(path.c_str(), mode));
  if (!t) {
    return Error(Code::k_fax_file_error, "The TIFF file cannot be opened.").with("path", path);
  }
  return t;
}

PageCompression compression_of(TIFF* t) {
  std::uint16_t c = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &c);
  std::uint32_t t4 = 0;
  switch (c) {
    case COMPRESSION_NONE: return PageCompression::kNone;
    case COMPRESSION_CCITTFAX4: return PageCompression::kT6;
    case COMPRESSION_CCITTFAX3:
      TIFFGetField(t, TIFFTAG_T4OPTIONS, &t4);
      return (t4 & GROUP3OPT_2DENCODING) ? PageCompression::kT4TwoD : PageCompression::kT4OneD;
    default: return PageCompression::kOther;
  }
}

double dpi(TIFF* t, ttag_t tag) {
  float v = 0;
  if (!TIFFGetField(t, tag, &v)) return 0;
  std::uint16_t unit = RESUNIT_INCH;
  TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
  if (unit == RESUNIT_CENTIMETER) return v * 2.54;
  return v;
}

// Reads one page as rows of packed bits where 1 = black.
Result<std::vector<std::vector<std::uint8_t>>> read_page_bits(TIFF* t, PageInfo& info) {
  std::uint32_t w = 0, h = 0;
  TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
  std::uint16_t photometric = PHOTOMETRIC_MINISWHITE;
  TIFFGetFieldDefaulted(t, TIFFTAG_PHOTOMETRIC, &photometric);
  info.width = static_cast<int>(w);
  info.length = static_cast<int>(h);
  tmsize_t line = TIFFScanlineSize(t);
  if (line <= 0 || w == 0 || h == 0) {
    return Error(Code::k_fax_file_error, "A TIFF page has no pixels.");
  }
  std::vector<std::vector<std::uint8_t>> rows(h, std::vector<std::uint8_t>(static_cast<std::size_t>(line)));
  for (std::uint32_t y = 0; y < h; ++y) {
    if (TIFFReadScanline(t, rows[y].data(), y, 0) < 0) {
      return Error(Code::k_fax_file_error, "A TIFF page cannot be decoded.").with("row", std::to_string(y));
    }
    if (photometric == PHOTOMETRIC_MINISBLACK) {
      for (auto& b : rows[y]) b = static_cast<std::uint8_t>(~b);
    }
    // Clear the pad bits after the last pixel so they never count as a difference.
    if (w % 8) rows[y][w / 8] &= static_cast<std::uint8_t>(0xFF << (8 - w % 8));
  }
  return rows;
}

}  // namespace

Result<std::vector<PageInfo>> read_tiff_pages(const std::string& path) {
  auto t = open_tiff(path, "r");
  if (!t) return std::move(t).error();
  std::vector<PageInfo> pages;
  do {
    PageInfo p;
    std::uint32_t w = 0, h = 0;
    TIFFGetField(t->get(), TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t->get(), TIFFTAG_IMAGELENGTH, &h);
    p.width = static_cast<int>(w);
    p.length = static_cast<int>(h);
    p.x_dpi = dpi(t->get(), TIFFTAG_XRESOLUTION);
    p.y_dpi = dpi(t->get(), TIFFTAG_YRESOLUTION);
    p.compression = compression_of(t->get());
    std::uint16_t number = 0, total = 0;
    if (TIFFGetField(t->get(), TIFFTAG_PAGENUMBER, &number, &total)) {
      p.page_number = number;
      p.page_total = total;
    }
    pages.push_back(p);
  } while (TIFFReadDirectory(t->get()));
  return pages;
}

bool DocumentDiff::identical() const {
  if (pages_a != pages_b) return false;
  for (const auto& p : pages) {
    if (!p.same_size || p.differing_rows != 0) return false;
  }
  return true;
}

int DocumentDiff::total_differing_rows() const {
  int n = 0;
  for (const auto& p : pages) n += p.differing_rows;
  return n;
}

Result<DocumentDiff> compare_tiff_documents(const std::string& a, const std::string& b,
                                            int b_header_rows) {
  auto ta = open_tiff(a, "r");
  if (!ta) return std::move(ta).error();
  auto tb = open_tiff(b, "r");
  if (!tb) return std::move(tb).error();
  DocumentDiff diff;
  diff.pages_a = TIFFNumberOfDirectories(ta->get());
  diff.pages_b = TIFFNumberOfDirectories(tb->get());
  int n = std::min(diff.pages_a, diff.pages_b);
  for (int i = 0; i < n; ++i) {
    if (!TIFFSetDirectory(ta->get(), static_cast<tdir_t>(i)) ||
        !TIFFSetDirectory(tb->get(), static_cast<tdir_t>(i))) {
      return Error(Code::k_fax_file_error, "A TIFF page cannot be found.").with("page", std::to_string(i + 1));
    }
    PageInfo ia, ib;
    auto ra = read_page_bits(ta->get(), ia);
    if (!ra) return std::move(ra).error();
    auto rb = read_page_bits(tb->get(), ib);
    if (!rb) return std::move(rb).error();
    PageDiff d;
    d.page = i + 1;
    d.same_size = ia.width == ib.width && ia.length + b_header_rows == ib.length;
    if (d.same_size) {
      for (std::size_t y = 0; y < ra->size(); ++y) {
        const auto& x = (*ra)[y];
        const auto& z = (*rb)[y + static_cast<std::size_t>(b_header_rows)];
        if (x == z) continue;
        ++d.differing_rows;
        for (std::size_t k = 0; k < x.size() && k < z.size(); ++k) {
          d.differing_pixels += __builtin_popcount(static_cast<unsigned>(x[k] ^ z[k]));
        }
      }
    }
    diff.pages.push_back(d);
  }
  return diff;
}

Result<void> write_uncompressed_copy(const std::string& in, const std::string& out) {
  auto src = open_tiff(in, "r");
  if (!src) return std::move(src).error();
  auto dst = open_tiff(out, "w");
  if (!dst) return std::move(dst).error();
  const int pages = TIFFNumberOfDirectories(src->get());
  for (int i = 0; i < pages; ++i) {
    if (!TIFFSetDirectory(src->get(), static_cast<tdir_t>(i))) {
      return Error(Code::k_fax_file_error, "A TIFF page cannot be found.").with("path", in);
    }
    PageInfo info;
    auto rows = read_page_bits(src->get(), info);
    if (!rows) return std::move(rows).error();
    float xres = 204, yres = 196;
    std::uint16_t unit = RESUNIT_INCH;
    TIFFGetField(src->get(), TIFFTAG_XRESOLUTION, &xres);
    TIFFGetField(src->get(), TIFFTAG_YRESOLUTION, &yres);
    TIFFGetFieldDefaulted(src->get(), TIFFTAG_RESOLUTIONUNIT, &unit);
    TIFF* t = dst->get();
    set_fax_page_tags(t, static_cast<std::uint32_t>(info.width), static_cast<std::uint32_t>(info.length),
                      FILLORDER_MSB2LSB, unit, xres, yres);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    TIFFSetField(t, TIFFTAG_PAGENUMBER, static_cast<std::uint16_t>(i), static_cast<std::uint16_t>(pages));
    for (std::size_t y = 0; y < rows->size(); ++y) {
      if (TIFFWriteScanline(t, (*rows)[y].data(), static_cast<std::uint32_t>(y), 0) < 0) {
        return Error(Code::k_fax_file_error, "Writing the decoded document failed.").with("path", out);
      }
    }
    if (!TIFFWriteDirectory(t)) {
      return Error(Code::k_fax_file_error, "Writing a decoded page failed.").with("path", out);
    }
  }
  return ok();
}

Result<void> write_test_document(const std::string& path, const TestDocumentSpec& spec) {
  constexpr int kWidth = 1728;
  constexpr int kRowBytes = kWidth / 8;
  if (spec.pages < 1 || spec.pages > 1000) {
    return Error(Code::k_fax_file_error, "A test document has 1 to 1000 pages.");
  }
  const bool fine = spec.resolution == TestResolution::kFine;
  const int rows = spec.rows > 0 ? spec.rows : (fine ? 2286 : 1143);
  auto t = open_tiff(path, "w");
  if (!t) return std::move(t).error();
  std::mt19937 rng(spec.seed);
  std::vector<std::uint8_t> page(static_cast<std::size_t>(rows) * kRowBytes);
  auto set_px = [&](int x, int y) {
    if (x < 0 || x >= kWidth || y < 0 || y >= rows) return;
    page[static_cast<std::size_t>(y) * kRowBytes + x / 8] |= static_cast<std::uint8_t>(0x80 >> (x % 8));
  };
  auto box = [&](int x0, int y0, int w, int h) {
    for (int y = y0; y < y0 + h; ++y)
      for (int x = x0; x < x0 + w; ++x) set_px(x, y);
  };
  const int scale = fine ? 2 : 1;  // keep shapes the same physical size at both resolutions
  for (int p = 0; p < spec.pages; ++p) {
    std::fill(page.begin(), page.end(), 0);
    // A frame, then the page number as a row of thick bars (p+1 bars), then text-like
    // lines of random "words", a box, and a diagonal rule whose slope changes per page.
    box(40, 20 * scale, kWidth - 80, 2 * scale);
    for (int i = 0; i <= p % 25; ++i) box(60 + i * 30, 30 * scale, 16, 20 * scale);
    int y = 70 * scale;
    const int line_h = 12 * scale, gap = 6 * scale;
    const int text_lines = 30 + static_cast<int>(rng() % 20);
    for (int l = 0; l < text_lines && y + line_h < rows - 40 * scale; ++l) {
      int x = 60;
      while (x < kWidth - 120) {
        int word = 20 + static_cast<int>(rng() % 90);
        for (int c = 0; c < word; c += 9) {
          int ch_h = line_h - static_cast<int>(rng() % (3 * scale));
          box(x + c, y + (line_h - ch_h), 6, ch_h / 3 + 1);
          box(x + c + static_cast<int>(rng() % 4), y + (line_h - ch_h) + ch_h / 2, 3, ch_h / 2);
        }
        x += word + 18;
      }
      y += line_h + gap;
    }
    int bx = 200 + static_cast<int>(rng() % 800), by = y + 10 * scale;
    for (int k = 0; k < 3 * scale; ++k) {
      box(bx, by + k, 500, 1);
      box(bx, by + 60 * scale - k, 500, 1);
    }
    box(bx, by, 3, 60 * scale);
    box(bx + 497, by, 3, 60 * scale);
    for (int k = 0; k < rows; ++k) set_px(100 + (k * (p + 1)) % (kWidth - 200), k);

    TIFF* tf = t->get();
    TIFFSetField(tf, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(tf, TIFFTAG_IMAGEWIDTH, kWidth);
    TIFFSetField(tf, TIFFTAG_IMAGELENGTH, rows);
    TIFFSetField(tf, TIFFTAG_BITSPERSAMPLE, 1);
    TIFFSetField(tf, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tf, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
    TIFFSetField(tf, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
    TIFFSetField(tf, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
    TIFFSetField(tf, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tf, TIFFTAG_ROWSPERSTRIP, rows);
    TIFFSetField(tf, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    TIFFSetField(tf, TIFFTAG_XRESOLUTION, 204.0f);
    TIFFSetField(tf, TIFFTAG_YRESOLUTION, fine ? 196.0f : 98.0f);
    TIFFSetField(tf, TIFFTAG_PAGENUMBER, static_cast<std::uint16_t>(p), static_cast<std::uint16_t>(spec.pages));
    for (int r = 0; r < rows; ++r) {
      if (TIFFWriteScanline(tf, page.data() + static_cast<std::size_t>(r) * kRowBytes, static_cast<std::uint32_t>(r), 0) < 0) {
        return Error(Code::k_fax_file_error, "Writing the test document failed.").with("path", path);
      }
    }
    if (!TIFFWriteDirectory(tf)) {
      return Error(Code::k_fax_file_error, "Writing a test document page failed.").with("path", path);
    }
  }
  return ok();
}

}  // namespace faxbridge::fax
