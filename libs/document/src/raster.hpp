#pragma once
// Internal: Leptonica images and the steps every decoder shares (fit to the fax
// width, rotate landscape, binarise). Only libs/document sources include this.
#include <memory>
#include <optional>
#include <vector>

#include <leptonica/allheaders.h>

#include "faxbridge/core/result.hpp"
#include "faxbridge/document/page.hpp"

namespace faxbridge::document::detail {

struct PixDeleter {
  void operator()(PIX* p) const { pixDestroy(&p); }
};
using PixPtr = std::unique_ptr<PIX, PixDeleter>;

// Grey -> 1 bpp clustered-dot halftone (see raster.cpp for why not error diffusion).
PixPtr halftone(PIX* grey);

// Quiet Leptonica (its messages go to stderr) once per process.
void quiet_leptonica();

Bitmap pix_to_bitmap(PIX* pix1);
PixPtr bitmap_to_pix(const Bitmap& b);

// Grey (8 bpp) rendering at fax resolution, at most 1728 px wide -> a fax page
// centered across, at least min_rows long: a scan's grey paper cleaned to white, text
// and line art thresholded, photo regions halftoned.
Bitmap binarise(PIX* grey, int min_rows);

// Any decoded image (any depth, with its dpi or none) -> one fax page: rotated when
// landscape, scaled down to fit 1728 px by A4 length (never enlarged beyond its
// physical size), centered across, binarised, on a full-length page.
Result<Bitmap> image_to_page(PIX* image, Resolution resolution);

// Cairo RGB24 (native-endian 0x00RRGGBB words) -> 8-bit grey.
PixPtr rgb24_to_grey(const unsigned char* data, int stride, int w, int h);

// One pass over a Cairo RGB24 rendering (no grey copy of the page): thresholds it,
// marks 8x8 blocks half full of mid-tones (photos, grey fills; anti-aliased text
// never fills one), then dithers only the rectangles those blocks form. Returns the
// page centered on 1728 px; nothing for a scan's grey paper, which needs binarise().
// Grey values: 0 black .. 255 white.
// With `whiten`, the rendering is left pure white (ready for the next page without a
// full paint): rows are whitened as they are passed while in cache, the rest after.
std::optional<Bitmap> threshold_line_art(unsigned char* data, int stride, int w, int h, bool whiten);

// Puts a binarised rendering on a 1728-px-wide page, centered across.
Bitmap place_on_page(PIX* pix1, int min_rows);

}  // namespace faxbridge::document::detail
