// PDF pages -> fax pages with Poppler (glib frontend, Cairo backend). Each page is
// rendered once, straight at fax resolution (204 dpi across, 196 or 98 down: Cairo
// scales x and y separately), rotated when landscape, fitted into 1728 px by A4
// length with its aspect kept, then binarised (raster.cpp).
#include <cairo.h>
#include <poppler.h>

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <cmath>

#include "faxbridge/document/convert.hpp"
#include "raster.hpp"

namespace faxbridge::document {
namespace {

struct GObjectUnref {
  void operator()(void* p) const { g_object_unref(p); }
};
struct SurfaceDestroy {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct FreeDeleter {
  void operator()(unsigned char* p) const { std::free(p); }
};
struct CairoDestroy {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};

}  // namespace

Result<FaxDocument> convert_pdf(std::string_view bytes, const ConvertOptions& options) {
  detail::quiet_leptonica();
  GBytes* gb = g_bytes_new_static(bytes.data(), bytes.size());
  GError* err = nullptr;
  std::unique_ptr<PopplerDocument, GObjectUnref> doc(poppler_document_new_from_bytes(gb, nullptr, &err));
  g_bytes_unref(gb);
  if (!doc) {
    const bool encrypted = err && err->domain == POPPLER_ERROR && err->code == POPPLER_ERROR_ENCRYPTED;
    Error e = encrypted
                  ? Error(Code::k_document_encrypted,
                          "The PDF is protected by a password; please send it without password protection.")
                  : Error(Code::k_document_corrupt, "The PDF is damaged and cannot be read; please send it again.");
    if (err) {
      e.with("reason", err->message);
      g_error_free(err);
    }
    return e;
  }
  const int n = poppler_document_get_n_pages(doc.get());
  if (n <= 0) return Error(Code::k_document_corrupt, "The PDF has no readable page; please send it again.");
  if (n > options.limits.max_pages)
    return Error(Code::k_document_too_large, "The PDF has " + std::to_string(n) + " pages; at most " +
                                                 std::to_string(options.limits.max_pages) +
                                                 " pages can be faxed at once.")
        .with("pages", std::to_string(n));
  FaxDocument out;
  out.resolution = options.resolution;
  const auto emit = [&](Bitmap&& page) {
    if (options.page_sink) {
      options.page_sink(std::move(page));
    } else {
      out.pages.push_back(std::move(page));
    }
  };
  const double ydpi = dpi_y(options.resolution);
  const double max_w_in = kFaxWidth / kFaxDpiX;
  std::unique_ptr<unsigned char, FreeDeleter> buffer;
  std::size_t buffer_size = 0;
  // Painting the 16 MB rendering white cost ~0.8 ms of a ~5 ms text page; after a
  // page that took the fast path only what it inked is whitened again (raster.cpp).
  // The buffer's first white_bytes are pure white.
  std::size_t white_bytes = 0;
  for (int i = 0; i < n; ++i) {
    std::unique_ptr<PopplerPage, GObjectUnref> page(poppler_document_get_page(doc.get(), i));
    if (!page) return Error(Code::k_document_corrupt, "A page of the PDF is damaged.").with("page", std::to_string(i + 1));
    double w_pt = 0, h_pt = 0;
    poppler_page_get_size(page.get(), &w_pt, &h_pt);
    if (!(w_pt >= 1 && h_pt >= 1 && w_pt < 14400 && h_pt < 14400))
      return Error(Code::k_document_corrupt, "A page of the PDF has an impossible size.").with("page", std::to_string(i + 1));
    const bool landscape = w_pt > h_pt;
    const double cw = landscape ? h_pt : w_pt;  // after rotation
    const double ch = landscape ? w_pt : h_pt;
    const double fit = std::min(max_w_in / (cw / 72.0), kPageLengthInches / (ch / 72.0));
    const int pw = std::max(1, static_cast<int>(std::lround(cw / 72.0 * fit * kFaxDpiX)));
    const int ph = std::max(1, static_cast<int>(std::lround(ch / 72.0 * fit * ydpi)));
    // One rendering buffer for the whole document, in transparent huge pages: a fresh
    // 16 MB surface per page in a fresh child costs ~4,000 page faults.
    const int sstride_needed = cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, pw);
    const std::size_t need = static_cast<std::size_t>(sstride_needed) * static_cast<std::size_t>(ph);
    if (need > buffer_size) {
      buffer.reset();
      void* mem = nullptr;
      constexpr std::size_t kHuge = 2u << 20;
      const std::size_t rounded = (need + kHuge - 1) / kHuge * kHuge;
      if (posix_memalign(&mem, kHuge, rounded) != 0)
        return Error(Code::k_document_too_large, "A page of the PDF is too large to render.");
      madvise(mem, rounded, MADV_HUGEPAGE);
      buffer.reset(static_cast<unsigned char*>(mem));
      buffer_size = rounded;
      white_bytes = 0;
    }
    std::unique_ptr<cairo_surface_t, SurfaceDestroy> surface(
        cairo_image_surface_create_for_data(buffer.get(), CAIRO_FORMAT_RGB24, pw, ph, sstride_needed));
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
      return Error(Code::k_document_too_large, "A page of the PDF is too large to render.");
    {
      std::unique_ptr<cairo_t, CairoDestroy> cr(cairo_create(surface.get()));
      if (need > white_bytes) {
        cairo_set_source_rgb(cr.get(), 1, 1, 1);
        cairo_paint(cr.get());
      }
      cairo_scale(cr.get(), fit * kFaxDpiX / 72.0, fit * ydpi / 72.0);
      if (landscape) {
        cairo_translate(cr.get(), h_pt, 0);
        cairo_rotate(cr.get(), M_PI / 2);
      }
      poppler_page_render_for_printing(page.get(), cr.get());
    }
    cairo_surface_flush(surface.get());
    unsigned char* data = cairo_image_surface_get_data(surface.get());
    const int sstride = cairo_image_surface_get_stride(surface.get());
    // Most pages are text and line art with perhaps a logo or photo: one pass over the
    // rendering thresholds them and finds the photo regions to dither.
    if (auto fast = detail::threshold_line_art(data, sstride, pw, ph, /*whiten=*/true)) {
      white_bytes = std::max(white_bytes, need);
      emit(std::move(*fast));
      continue;
    }
    white_bytes = 0;
    // Photos, grey areas or a scan's grey paper: the full binarisation (raster.cpp).
    detail::PixPtr grey = detail::rgb24_to_grey(data, sstride, pw, ph);
    surface.reset();
    emit(detail::binarise(grey.get(), 0));
  }
  return out;
}

}  // namespace faxbridge::document
