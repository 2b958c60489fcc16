// Cover pages (SVG templates through librsvg) and the header band of transmitted pages
// (Pango), both drawn at fax resolution with Cairo.
#include "faxbridge/document/compose.hpp"

#include <cairo.h>
#include <librsvg/rsvg.h>
#include <pango/pangocairo.h>

#include <cstring>
#include <memory>
#include <vector>

#include "raster.hpp"

namespace faxbridge::document {
namespace {

struct GObjectUnref {
  void operator()(void* p) const { g_object_unref(p); }
};

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters are not allowed in XML 1.0 text.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') out += c;
    }
  }
  return out;
}

// Word-wraps a note (counting UTF-8 code points) into at most kNoteLines lines.
std::vector<std::string> wrap_note(const std::string& note) {
  std::vector<std::string> lines;
  std::string para;
  auto flush_para = [&](const std::string& p) {
    std::string line;
    long line_len = 0;
    std::size_t i = 0;
    while (i <= p.size()) {
      std::size_t sp = p.find(' ', i);
      if (sp == std::string::npos) sp = p.size();
      std::string word = p.substr(i, sp - i);
      const long wlen = g_utf8_strlen(word.c_str(), static_cast<gssize>(word.size()));
      if (line_len > 0 && line_len + 1 + wlen > kNoteColumns) {
        lines.push_back(line);
        line.clear();
        line_len = 0;
      }
      if (line_len > 0) {
        line += ' ';
        ++line_len;
      }
      line += word;
      line_len += wlen;
      i = sp + 1;
    }
    lines.push_back(line);
  };
  std::size_t start = 0;
  while (start <= note.size()) {
    std::size_t nl = note.find('\n', start);
    if (nl == std::string::npos) nl = note.size();
    std::string p = note.substr(start, nl - start);
    if (!p.empty() && p.back() == '\r') p.pop_back();
    flush_para(p);
    start = nl + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (static_cast<int>(lines.size()) > kNoteLines) {
    lines.resize(kNoteLines);
    lines.back() += " ...";
  }
  return lines;
}

detail::PixPtr surface_to_grey(cairo_surface_t* surface) {
  const int w = cairo_image_surface_get_width(surface);
  const int h = cairo_image_surface_get_height(surface);
  detail::PixPtr grey(pixCreate(w, h, 8));
  const unsigned char* src = cairo_image_surface_get_data(surface);
  const int sstride = cairo_image_surface_get_stride(surface);
  l_uint32* dst = pixGetData(grey.get());
  const int wpl = pixGetWpl(grey.get());
  for (int y = 0; y < h; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(src + static_cast<std::ptrdiff_t>(y) * sstride);
    l_uint32* line = dst + static_cast<std::ptrdiff_t>(y) * wpl;
    for (int x = 0; x < w; ++x) {
      const std::uint32_t v = row[x];
      SET_DATA_BYTE(line, x, (((v >> 16) & 0xff) * 77 + ((v >> 8) & 0xff) * 150 + (v & 0xff) * 29) >> 8);
    }
  }
  return grey;
}

}  // namespace

std::string fill_cover_template(const std::string& svg, const CoverFields& fields) {
  std::map<std::string, std::string> values = fields.values;
  if (auto it = values.find("note"); it != values.end()) {
    const auto lines = wrap_note(it->second);
    for (int i = 0; i < kNoteLines; ++i)
      values["note_" + std::to_string(i + 1)] = i < static_cast<int>(lines.size()) ? lines[static_cast<std::size_t>(i)] : "";
  }
  std::string out;
  out.reserve(svg.size() + 256);
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = svg.find("{{", pos);
    if (open == std::string::npos) break;
    const std::size_t close = svg.find("}}", open + 2);
    if (close == std::string::npos) break;
    out.append(svg, pos, open - pos);
    const std::string key = svg.substr(open + 2, close - open - 2);
    if (auto it = values.find(key); it != values.end()) out += xml_escape(it->second);
    pos = close + 2;
  }
  out.append(svg, pos, std::string::npos);
  return out;
}

Result<Bitmap> render_cover(const std::string& svg, const CoverFields& fields, Resolution resolution) {
  detail::quiet_leptonica();
  const std::string filled = fill_cover_template(svg, fields);
  GError* err = nullptr;
  std::unique_ptr<RsvgHandle, GObjectUnref> handle(
      rsvg_handle_new_from_data(reinterpret_cast<const guint8*>(filled.data()), filled.size(), &err));
  if (!handle) {
    Error e(Code::k_document_cover_invalid, "The cover page template is not valid SVG; an administrator must fix it.");
    if (err) {
      e.with("reason", err->message);
      g_error_free(err);
    }
    return e;
  }
  const int rows = page_rows(resolution);
  const double ydpi = dpi_y(resolution);
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, kFaxWidth, rows);
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_scale(cr, kFaxDpiX / 72.0, ydpi / 72.0);
  // The template's own aspect is kept (preserveAspectRatio), fitted into the page.
  RsvgRectangle viewport{0, 0, kFaxWidth / kFaxDpiX * 72.0, kPageLengthInches * 72.0};
  const bool drawn = rsvg_handle_render_document(handle.get(), cr, &viewport, &err);
  cairo_destroy(cr);
  cairo_surface_flush(surface);
  if (!drawn) {
    cairo_surface_destroy(surface);
    Error e(Code::k_document_cover_invalid, "The cover page template could not be drawn; an administrator must fix it.");
    if (err) {
      e.with("reason", err->message);
      g_error_free(err);
    }
    return e;
  }
  detail::PixPtr grey = surface_to_grey(surface);
  cairo_surface_destroy(surface);
  return detail::binarise(grey.get(), 0);
}

int header_band_rows(Resolution r) { return r == Resolution::kFine ? 40 : 20; }

Result<Bitmap> add_header(const Bitmap& page, const HeaderInfo& info, int page_no, int page_count,
                          Resolution resolution) {
  const int band = header_band_rows(resolution);
  const double ydpi = dpi_y(resolution);
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_A8, kFaxWidth, band);
  cairo_t* cr = cairo_create(surface);
  cairo_scale(cr, kFaxDpiX / 72.0, ydpi / 72.0);
  cairo_set_source_rgba(cr, 0, 0, 0, 1);
  PangoLayout* layout = pango_cairo_create_layout(cr);
  cairo_font_options_t* fo = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options(pango_layout_get_context(layout), fo);
  cairo_font_options_destroy(fo);
  PangoFontDescription* font = pango_font_description_from_string("DejaVu Sans Mono 9");
  pango_layout_set_font_description(layout, font);
  pango_font_description_free(font);
  const double page_w_pt = kFaxWidth / kFaxDpiX * 72.0;
  const std::string left = info.date_time + "  From: " + info.tsid + "  To: " + info.recipient +
                           "  Ref: " + info.reference;
  const std::string right = "Page " + std::to_string(page_no) + "/" + std::to_string(page_count);
  pango_layout_set_text(layout, right.c_str(), -1);
  int rw = 0, rh = 0;
  pango_layout_get_size(layout, &rw, &rh);
  const double right_w = static_cast<double>(rw) / PANGO_SCALE;
  // Left part is cut with an ellipsis before it could run into "Page n/m".
  pango_layout_set_width(layout, static_cast<int>((page_w_pt - 2 * 18.0 - right_w - 12.0) * PANGO_SCALE));
  pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_text(layout, left.c_str(), -1);
  cairo_move_to(cr, 18.0, 2.5);
  pango_cairo_show_layout(cr, layout);
  pango_layout_set_width(layout, -1);
  pango_layout_set_text(layout, right.c_str(), -1);
  cairo_move_to(cr, page_w_pt - 18.0 - right_w, 2.5);
  pango_cairo_show_layout(cr, layout);
  g_object_unref(layout);
  cairo_destroy(cr);
  cairo_surface_flush(surface);

  Bitmap out = Bitmap::blank(kFaxWidth, page.height + band);
  const unsigned char* src = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  for (int y = 0; y < band; ++y)
    for (int x = 0; x < kFaxWidth; ++x)
      if (src[static_cast<std::ptrdiff_t>(y) * stride + x] > 75) out.set_black(x, y);
  cairo_surface_destroy(surface);
  // The page moves down under the band: nothing of it is hidden.
  const int copy_stride = std::min(out.stride, page.stride);
  for (int y = 0; y < page.height; ++y)
    std::memcpy(out.bits.data() + static_cast<std::size_t>(y + band) * out.stride,
                page.bits.data() + static_cast<std::size_t>(y) * page.stride, static_cast<std::size_t>(copy_stride));
  return out;
}

}  // namespace faxbridge::document
