// Plain text -> fax pages. The encoding is detected with uchardet and converted to
// UTF-8 with iconv (through glib's g_convert); the text is laid out with Pango in a
// 10-point monospace font on A4 with 15 mm margins, long lines wrapped, a form feed
// starting a new page, and drawn with Cairo straight at fax resolution.
#include <cairo.h>
#include <pango/pangocairo.h>
#include <uchardet/uchardet.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "faxbridge/document/convert.hpp"
#include "raster.hpp"

namespace faxbridge::document {
namespace {

constexpr double kMarginPt = 42.5;  // 15 mm
constexpr double kTopPt = 36.0;     // half an inch: clear of the header band
constexpr const char* kFont = "DejaVu Sans Mono 10";

struct GObjectUnref {
  void operator()(void* p) const { g_object_unref(p); }
};

// Text has few control bytes; binary data has many. NUL, or more than 1 in 100 of
// other C0 controls (apart from tab, newlines, form feed, escape), means not text.
bool looks_binary(std::string_view s) {
  std::size_t controls = 0;
  for (unsigned char c : s) {
    if (c == 0) return true;
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b) ++controls;
  }
  return controls * 100 > s.size();
}

}  // namespace

Result<std::string> text_to_utf8(std::string_view bytes) {
  std::string charset;
  {
    uchardet_t ud = uchardet_new();
    uchardet_handle_data(ud, bytes.data(), bytes.size());
    uchardet_data_end(ud);
    charset = uchardet_get_charset(ud);
    uchardet_delete(ud);
  }
  const bool wide = charset.rfind("UTF-16", 0) == 0 || charset.rfind("UTF-32", 0) == 0;
  if (!wide && looks_binary(bytes))
    return Error(Code::k_document_unsupported_type, "The file is not text and not a type Faxbridge can fax.");
  std::string out;
  if (charset.empty() || charset == "ASCII" || charset == "UTF-8") {
    if (g_utf8_validate(bytes.data(), static_cast<gssize>(bytes.size()), nullptr)) {
      out.assign(bytes);
    } else {
      charset = "WINDOWS-1252";  // the usual 8-bit text when nothing else fits
    }
  }
  if (out.empty()) {
    gsize written = 0;
    GError* err = nullptr;
    gchar* conv = g_convert(bytes.data(), static_cast<gssize>(bytes.size()), "UTF-8", charset.c_str(), nullptr,
                            &written, &err);
    if (!conv) {
      if (err) g_error_free(err);
      // Latin-1 maps every byte: the last resort never fails.
      conv = g_convert(bytes.data(), static_cast<gssize>(bytes.size()), "UTF-8", "ISO-8859-1", nullptr, &written,
                       nullptr);
      if (!conv) return Error(Code::k_document_corrupt, "The text file could not be read in any known encoding.");
    }
    out.assign(conv, written);
    g_free(conv);
  }
  if (out.rfind("\xEF\xBB\xBF", 0) == 0) out.erase(0, 3);  // byte order mark
  // Newlines: CRLF and CR become LF; other controls except tab and form feed go.
  std::string clean;
  clean.reserve(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(out[i]);
    if (c == '\r') {
      clean += '\n';
      if (i + 1 < out.size() && out[i + 1] == '\n') ++i;
    } else if (c < 0x20 && c != '\n' && c != '\t' && c != '\f') {
      continue;
    } else {
      clean += static_cast<char>(c);
    }
  }
  return clean;
}

Result<FaxDocument> convert_text(std::string_view bytes, const ConvertOptions& options) {
  auto text = text_to_utf8(bytes);
  if (!text) return text.error();
  detail::quiet_leptonica();
  const double ydpi = dpi_y(options.resolution);
  const int rows = page_rows(options.resolution);
  const double page_w_pt = kFaxWidth / kFaxDpiX * 72.0;
  const double page_h_pt = kPageLengthInches * 72.0;
  const double usable_h = page_h_pt - 2 * kTopPt;

  std::unique_ptr<PangoFontMap, GObjectUnref> fontmap(pango_cairo_font_map_new());
  std::unique_ptr<PangoContext, GObjectUnref> ctx(pango_font_map_create_context(fontmap.get()));
  pango_cairo_context_set_resolution(ctx.get(), 72.0);  // layout units are points
  cairo_font_options_t* fo = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options(ctx.get(), fo);
  cairo_font_options_destroy(fo);
  PangoFontDescription* font = pango_font_description_from_string(kFont);

  FaxDocument out;
  out.resolution = options.resolution;
  // Pages are drawn on an A8 surface (ink coverage), then thresholded.
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;
  auto flush_page = [&]() -> Result<void> {
    if (!surface) return ok();
    cairo_destroy(cr);
    cr = nullptr;
    cairo_surface_flush(surface);
    detail::PixPtr pix(pixCreate(kFaxWidth, rows, 1));
    const unsigned char* src = cairo_image_surface_get_data(surface);
    const int stride = cairo_image_surface_get_stride(surface);
    l_uint32* dst = pixGetData(pix.get());
    const int wpl = pixGetWpl(pix.get());
    for (int y = 0; y < rows; ++y) {
      const unsigned char* row = src + static_cast<std::ptrdiff_t>(y) * stride;
      l_uint32* line = dst + static_cast<std::ptrdiff_t>(y) * wpl;
      for (int x = 0; x < kFaxWidth; ++x)
        if (row[x] > 75) SET_DATA_BIT(line, x);  // coverage over ~30%: ink
    }
    cairo_surface_destroy(surface);
    surface = nullptr;
    out.pages.push_back(detail::pix_to_bitmap(pix.get()));
    if (static_cast<int>(out.pages.size()) > options.limits.max_pages)
      return Error(Code::k_document_too_large, "The text runs over " + std::to_string(options.limits.max_pages) +
                                                   " pages; that many cannot be faxed at once.");
    return ok();
  };
  auto new_page = [&]() -> Result<void> {
    if (auto r = flush_page(); !r) return r;
    surface = cairo_image_surface_create(CAIRO_FORMAT_A8, kFaxWidth, rows);
    cr = cairo_create(surface);
    cairo_scale(cr, kFaxDpiX / 72.0, ydpi / 72.0);
    cairo_set_source_rgba(cr, 0, 0, 0, 1);
    return ok();
  };

  Result<void> status = ok();
  std::size_t start = 0;
  const std::string& all = *text;
  while (status && start <= all.size()) {
    std::size_t ff = all.find('\f', start);
    if (ff == std::string::npos) ff = all.size();
    std::string chunk = all.substr(start, ff - start);
    start = ff + 1;
    if (!(status = new_page())) break;
    std::unique_ptr<PangoLayout, GObjectUnref> layout(pango_layout_new(ctx.get()));
    pango_layout_set_font_description(layout.get(), font);
    pango_layout_set_width(layout.get(), static_cast<int>((page_w_pt - 2 * kMarginPt) * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(layout.get(), chunk.c_str(), static_cast<int>(chunk.size()));
    PangoLayoutIter* it = pango_layout_get_iter(layout.get());
    double page_top = 0;  // layout y (pt) at the top of the current page
    do {
      PangoRectangle logical;
      pango_layout_iter_get_line_extents(it, nullptr, &logical);
      const double y0 = static_cast<double>(logical.y) / PANGO_SCALE;
      const double y1 = static_cast<double>(logical.y + logical.height) / PANGO_SCALE;
      if (y1 - page_top > usable_h) {
        if (!(status = new_page())) break;
        page_top = y0;
      }
      const double baseline = static_cast<double>(pango_layout_iter_get_baseline(it)) / PANGO_SCALE;
      cairo_move_to(cr, kMarginPt, kTopPt + baseline - page_top);
      pango_cairo_show_layout_line(cr, pango_layout_iter_get_line_readonly(it));
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
    if (ff == all.size()) break;
  }
  if (status) status = flush_page();
  if (cr) cairo_destroy(cr);
  if (surface) cairo_surface_destroy(surface);
  pango_font_description_free(font);
  if (!status) return status.error();
  return out;
}

}  // namespace faxbridge::document
