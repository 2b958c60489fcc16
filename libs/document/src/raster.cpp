// Binarisation and page fitting shared by every decoder. Choices and their reasons:
//  - Text and line art are thresholded at kTextThreshold, above the middle grey, so a
//    hairline rendered as a light anti-aliased grey stays black (thin strokes survive).
//  - Photos and grey areas are found as large regions of mid-tones (anti-aliased text
//    edges are mid-tone too, but thin: an opening at quarter scale removes them) and
//    only those regions are halftoned (a clustered-dot screen, see halftone()), so
//    text next to a photo stays crisp and compact in G4.
//  - A scan's grey paper would dither into noise worth minutes of airtime per page;
//    when the histogram shows one dominant non-white background, the background is
//    normalised to white first (Leptonica's background normalisation).
#include "raster.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <mutex>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace faxbridge::document::detail {

constexpr int kTextThreshold = 180;  // grey below this is ink (0 black .. 255 white)
constexpr int kMidLow = 50;          // the mid-tone band that marks photos
constexpr int kMidHigh = 205;

namespace {

// A clustered-dot screen (6x6 cells, a round spot grown from the centre: 37 grey
// levels at 34 lines per inch across). Error diffusion (Leptonica's Floyd-Steinberg)
// scatters single dots that G4 codes badly: a photo page cost ~450 KB, over four
// minutes at 14,400 bit/s, and thermal fax printers smear lone dots. Clustered dots
// make runs G4 codes well and print as the newspaper halftones people recognise.
constexpr int kCell = 6;
const std::array<std::uint8_t, kCell * kCell>& screen() {
  static const auto table = [] {
    std::array<std::pair<double, int>, kCell * kCell> order{};
    for (int y = 0; y < kCell; ++y)
      for (int x = 0; x < kCell; ++x) {
        const double dx = (x + 0.5) / kCell - 0.5, dy = (y + 0.5) / kCell - 0.5;
        // Round spot; ties broken by position so the table is deterministic.
        order[static_cast<std::size_t>(y * kCell + x)] = {dx * dx + dy * dy + 1e-6 * (y * kCell + x), y * kCell + x};
      }
    std::sort(order.begin(), order.end());
    std::array<std::uint8_t, kCell * kCell> t{};
    for (int rank = 0; rank < kCell * kCell; ++rank)
      t[static_cast<std::size_t>(order[static_cast<std::size_t>(rank)].second)] =
          static_cast<std::uint8_t>((rank + 0.5) * 256.0 / (kCell * kCell));
    return t;
  }();
  return table;
}

// The dominant background of a page is "paper"; a scan's is grey.
bool looks_like_grey_paper(PIX* grey) {
  NUMA* na = pixGetGrayHistogram(grey, 4);
  if (!na) return false;
  float hist[256] = {};
  float total = 0;
  for (int i = 0; i < 256; ++i) {
    numaGetFValue(na, i, &hist[i]);
    total += hist[i];
  }
  numaDestroy(&na);
  if (total <= 0) return false;
  // The mode among the light half is the paper.
  int mode = 128;
  for (int i = 128; i < 256; ++i)
    if (hist[i] > hist[mode]) mode = i;
  float near = 0;
  for (int i = std::max(0, mode - 10); i <= std::min(255, mode + 10); ++i) near += hist[i];
  return mode < 240 && near / total > 0.40f;
}

}  // namespace

PixPtr halftone(PIX* grey) {
  const int w = static_cast<int>(pixGetWidth(grey)), h = static_cast<int>(pixGetHeight(grey));
  PixPtr out(pixCreate(w, h, 1));
  if (!out) return nullptr;
  const auto& t = screen();
  const l_uint32* src = pixGetData(grey);
  const int swpl = pixGetWpl(grey);
  l_uint32* dst = pixGetData(out.get());
  const int dwpl = pixGetWpl(out.get());
  for (int y = 0; y < h; ++y) {
    const l_uint32* sl = src + static_cast<std::ptrdiff_t>(y) * swpl;
    l_uint32* dl = dst + static_cast<std::ptrdiff_t>(y) * dwpl;
    const std::uint8_t* trow = &t[static_cast<std::size_t>((y % kCell) * kCell)];
    for (int x = 0; x < w; ++x) {
      // Dark grey (low value) covers more of the cell: ink where grey < threshold.
      if (static_cast<int>(GET_DATA_BYTE(sl, x)) < trow[x % kCell]) SET_DATA_BIT(dl, x);
    }
  }
  return out;
}

void quiet_leptonica() {
  static std::once_flag once;
  std::call_once(once, [] { setMsgSeverity(L_SEVERITY_NONE); });
}

Bitmap pix_to_bitmap(PIX* pix1) {
  const int w = static_cast<int>(pixGetWidth(pix1));
  const int h = static_cast<int>(pixGetHeight(pix1));
  Bitmap b = Bitmap::blank(w, h);
  const l_uint32* data = pixGetData(pix1);
  const int wpl = pixGetWpl(pix1);
  for (int y = 0; y < h; ++y) {
    const l_uint32* line = data + static_cast<std::size_t>(y) * wpl;
    std::uint8_t* out = b.bits.data() + static_cast<std::size_t>(y) * b.stride;
    for (int i = 0; i < b.stride; ++i) {
      const l_uint32 word = line[i / 4];
      out[i] = static_cast<std::uint8_t>(word >> (24 - 8 * (i % 4)));
    }
    if (w % 8) out[b.stride - 1] &= static_cast<std::uint8_t>(0xff << (8 - w % 8));
  }
  return b;
}

PixPtr bitmap_to_pix(const Bitmap& b) {
  PixPtr pix(pixCreate(b.width, b.height, 1));
  l_uint32* data = pixGetData(pix.get());
  const int wpl = pixGetWpl(pix.get());
  for (int y = 0; y < b.height; ++y) {
    l_uint32* line = data + static_cast<std::size_t>(y) * wpl;
    const std::uint8_t* in = b.bits.data() + static_cast<std::size_t>(y) * b.stride;
    for (int i = 0; i < b.stride; ++i) line[i / 4] |= static_cast<l_uint32>(in[i]) << (24 - 8 * (i % 4));
  }
  return pix;
}

PixPtr rgb24_to_grey(const unsigned char* data, int stride, int w, int h) {
  PixPtr grey(pixCreate(w, h, 8));
  l_uint32* dst = pixGetData(grey.get());
  const int wpl = pixGetWpl(grey.get());
  for (int y = 0; y < h; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
    l_uint32* line = dst + static_cast<std::ptrdiff_t>(y) * wpl;
    for (int x = 0; x < w; ++x) {
      const std::uint32_t v = row[x];
      SET_DATA_BYTE(line, x, (((v >> 16) & 0xff) * 77 + ((v >> 8) & 0xff) * 150 + (v & 0xff) * 29) >> 8);
    }
  }
  return grey;
}

namespace {

// Marks the 8x8 blocks counted half full of mid-tones and clears the counts; called
// after every 8th row and the last.
bool flush_blocks(std::vector<std::uint16_t>& blocks, int y, PIX* photo_blocks) {
  bool any = false;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    if (blocks[b] >= 32) {
      pixSetPixel(photo_blocks, static_cast<l_uint32>(b), static_cast<l_uint32>(y / 8), 1);
      any = true;
    }
    blocks[b] = 0;
  }
  return any;
}

// One pixel of grey `lum`: ink below the text threshold (drawn at x + dx), and a
// count for its 8x8 block when a mid-tone.
inline void threshold_pixel(unsigned lum, int x, int dx, std::uint8_t* bits, std::vector<std::uint16_t>& blocks) {
  if (lum < static_cast<unsigned>(kTextThreshold)) {
    const int px = x + dx;
    bits[px >> 3] |= static_cast<std::uint8_t>(0x80u >> (px & 7));
  }
  if (lum >= static_cast<unsigned>(kMidLow) && lum <= static_cast<unsigned>(kMidHigh))
    ++blocks[static_cast<std::size_t>(x >> 3)];
}

// The one pass every page goes through: threshold into `out` (at x offset dx), and
// mark each 8x8 block at least half full of mid-tones in `photo_blocks`. Anti-aliased
// edges of text never fill half a block with mid-tones; a photo or a grey fill does.
// `lum(row, x)` gives the grey (0 black .. 255 white) of a pixel; `white(row, x)` is a
// cheap test that 8 pixels from x are pure white (a page is mostly white).
template <typename Row, typename Lum, typename White8>
bool threshold_pass(int w, int h, Row row_at, Lum lum_of, White8 white8, Bitmap& out, int dx, PIX* photo_blocks) {
  const int bw = (w + 7) / 8;
  std::vector<std::uint16_t> blocks(static_cast<std::size_t>(bw), 0);
  bool any_photo = false;
  for (int y = 0; y < h; ++y) {
    const auto row = row_at(y);
    std::uint8_t* bits = out.bits.data() + static_cast<std::size_t>(y) * out.stride;
    for (int x = 0; x < w; ++x) {
      if ((x & 7) == 0 && x + 8 <= w && white8(row, x)) {
        x += 7;
        continue;
      }
      const unsigned lum = lum_of(row, x);
      if (lum < 255) threshold_pixel(lum, x, dx, bits, blocks);
    }
    if ((y & 7) == 7 || y == h - 1) any_photo |= flush_blocks(blocks, y, photo_blocks);
  }
  return any_photo;
}

// Halftones the rectangles the photo blocks form, from `crop(x, y, w, h)` (8-bit grey).
template <typename Crop>
void halftone_regions(PIX* photo_blocks, int w, int h, Crop crop, Bitmap& out, int dx) {
  PixPtr joined(pixCloseBrick(nullptr, photo_blocks, 3, 3));
  BOXA* boxes = pixConnComp(joined.get(), nullptr, 8);
  const int n = boxes ? boxaGetCount(boxes) : 0;
  for (int i = 0; i < n; ++i) {
    l_int32 bx = 0, by = 0, bwid = 0, bhei = 0;
    boxaGetBoxGeometry(boxes, i, &bx, &by, &bwid, &bhei);
    if (bwid * bhei < 4) continue;  // a lone block: an ink blot, not a photo
    const int x0 = bx * 8, y0 = by * 8;
    const int rw = std::min(w - x0, bwid * 8), rh = std::min(h - y0, bhei * 8);
    PixPtr grey = crop(x0, y0, rw, rh);
    if (!grey) continue;
    PixPtr dots = halftone(grey.get());
    if (!dots) continue;
    const l_uint32* src = pixGetData(dots.get());
    const int wpl = pixGetWpl(dots.get());
    for (int y = 0; y < rh; ++y) {
      const l_uint32* line = src + static_cast<std::ptrdiff_t>(y) * wpl;
      std::uint8_t* bits = out.bits.data() + static_cast<std::size_t>(y0 + y) * out.stride;
      for (int x = 0; x < rw; ++x) {
        const int px = x0 + x + dx;
        const auto mask = static_cast<std::uint8_t>(0x80u >> (px & 7));
        if (GET_DATA_BIT(line, x)) {
          bits[px >> 3] |= mask;
        } else {
          bits[px >> 3] &= static_cast<std::uint8_t>(~mask);
        }
      }
    }
  }
  boxaDestroy(&boxes);
}

unsigned rgb_lum(std::uint32_t v) {
  return (v & 0xffffffu) == 0xffffffu ? 255u
                                      : (((v >> 16) & 0xff) * 77 + ((v >> 8) & 0xff) * 150 + (v & 0xff) * 29) >> 8;
}

#if defined(__SSE2__)
// threshold_pass for Cairo RGB24, 16 pixels a step: a page is mostly white, and a
// white step costs four loads and a compare; other steps compute the grey of four
// pixels at once (products fit in 16 bits: 255 x (77 + 150 + 29) < 65536). This pass
// was the largest cost of a text page after rendering (~3.4 ms of a 1687x2292 page
// one pixel at a time).
struct ByteTables {
  std::array<std::uint8_t, 256> reversed{};  // bit order reversed
  std::array<std::uint8_t, 256> ones{};      // bits set
  constexpr ByteTables() {
    for (unsigned v = 0; v < 256; ++v) {
      for (unsigned i = 0; i < 8; ++i) {
        if (v & (1u << i)) {
          reversed[v] = static_cast<std::uint8_t>(reversed[v] | (0x80u >> i));
          ones[v] = static_cast<std::uint8_t>(ones[v] + 1);
        }
      }
    }
  }
};
constexpr ByteTables kByteTables;

// The columns of a row that hold every pixel not pure white (empty: a white row).
struct Span {
  int begin = 0, end = 0;
};

void whiten_rows(unsigned char* data, int stride, std::vector<Span>& inked, int y0, int y1) {
  for (int y = y0; y < y1; ++y) {
    Span& s = inked[static_cast<std::size_t>(y)];
    if (s.end > s.begin)
      std::memset(data + static_cast<std::ptrdiff_t>(y) * stride + 4 * static_cast<std::ptrdiff_t>(s.begin), 0xff,
                  4 * static_cast<std::size_t>(s.end - s.begin));
    s = Span{};
  }
}

// With `inked`, notes each row's non-white span there, and whitens each group of 8
// rows once thresholded (still in cache) while no photo block has been found: the
// photo regions are cropped from the rendering afterwards, and none reaches above
// its first block; later rows are left to the caller.
bool threshold_pass_rgb24(unsigned char* data, int stride, int w, int h, Bitmap& out, int dx, PIX* photo_blocks,
                          std::vector<Span>* inked) {
  const ByteTables& t = kByteTables;
  std::vector<std::uint16_t> blocks(static_cast<std::size_t>((w + 7) / 8), 0);
  bool any_photo = false;
  const __m128i low_byte = _mm_set1_epi32(0xff), white = _mm_set1_epi32(0x00ffffff);
  const __m128i w_r = _mm_set1_epi16(77), w_g = _mm_set1_epi16(150), w_b = _mm_set1_epi16(29);
  const __m128i ink = _mm_set1_epi16(kTextThreshold), mid_low = _mm_set1_epi16(kMidLow - 1),
                mid_high = _mm_set1_epi16(kMidHigh + 1);
  // One channel of 8 pixels (two registers of 4) in 16-bit lanes.
  const auto channel = [&](__m128i a, __m128i b, int shift) {
    return _mm_packs_epi32(_mm_and_si128(_mm_srli_epi32(a, shift), low_byte),
                           _mm_and_si128(_mm_srli_epi32(b, shift), low_byte));
  };
  // The grey of 8 pixels in 16-bit lanes; the sum is unsigned, so shift logically.
  const auto grey = [&](__m128i a, __m128i b) {
    const __m128i sum = _mm_add_epi16(_mm_add_epi16(_mm_mullo_epi16(channel(a, b, 16), w_r),
                                                    _mm_mullo_epi16(channel(a, b, 8), w_g)),
                                      _mm_mullo_epi16(channel(a, b, 0), w_b));
    return _mm_srli_epi16(sum, 8);
  };
  for (int y = 0; y < h; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
    std::uint8_t* bits = out.bits.data() + static_cast<std::size_t>(y) * out.stride;
    Span unused;
    Span& span = inked ? (*inked)[static_cast<std::size_t>(y)] : unused;
    int x = 0;
    for (; x + 16 <= w; x += 16) {
      __m128i p[4];
      for (int q = 0; q < 4; ++q) p[q] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + x + 4 * q));
      const __m128i all = _mm_and_si128(_mm_and_si128(p[0], p[1]), _mm_and_si128(p[2], p[3]));
      if (_mm_movemask_epi8(_mm_cmpeq_epi32(_mm_and_si128(all, white), white)) == 0xffff) continue;
      if (span.begin == span.end) span.begin = x;
      span.end = x + 16;
      const __m128i lum_lo = grey(p[0], p[1]), lum_hi = grey(p[2], p[3]);
      const auto mask16 = [](__m128i lo, __m128i hi) {  // one bit per pixel, pixel x + i at bit i
        return static_cast<unsigned>(_mm_movemask_epi8(_mm_packs_epi16(lo, hi)));
      };
      const unsigned black = mask16(_mm_cmplt_epi16(lum_lo, ink), _mm_cmplt_epi16(lum_hi, ink));
      const unsigned mid =
          mask16(_mm_and_si128(_mm_cmpgt_epi16(lum_lo, mid_low), _mm_cmplt_epi16(lum_lo, mid_high)),
                 _mm_and_si128(_mm_cmpgt_epi16(lum_hi, mid_low), _mm_cmplt_epi16(lum_hi, mid_high)));
      if (black) {
        // Bit i of `black` is pixel x + i; the page wants pixel x + dx leftmost in
        // MSB-first bytes: reverse each byte, then OR the 16 bits in at any offset.
        const std::uint32_t msb_first = static_cast<std::uint32_t>(t.reversed[black & 0xffu]) << 8 | t.reversed[black >> 8];
        const int px = x + dx;
        const std::uint32_t placed = msb_first << (8 - (px & 7));  // 24 bits from byte px / 8
        std::uint8_t* at = bits + (px >> 3);
        at[0] |= static_cast<std::uint8_t>(placed >> 16);
        at[1] |= static_cast<std::uint8_t>(placed >> 8);
        if (px & 7) at[2] |= static_cast<std::uint8_t>(placed);
      }
      blocks[static_cast<std::size_t>(x >> 3)] += t.ones[mid & 0xffu];
      blocks[static_cast<std::size_t>(x >> 3) + 1] += t.ones[mid >> 8];
    }
    if (x < w) {  // the row's last pixels
      if (span.begin == span.end) span.begin = x;
      span.end = w;
    }
    for (; x < w; ++x) threshold_pixel(rgb_lum(row[x]), x, dx, bits, blocks);
    if ((y & 7) == 7 || y == h - 1) {
      any_photo |= flush_blocks(blocks, y, photo_blocks);
      if (inked && !any_photo) whiten_rows(data, stride, *inked, y & ~7, y + 1);
    }
  }
  return any_photo;
}
#endif


}  // namespace

std::optional<Bitmap> threshold_line_art(unsigned char* data, int stride, int w, int h, bool whiten) {
  if (w > kFaxWidth) return std::nullopt;
  {
    // A quick look at every 16th row first: a scan's grey paper shows at once, and
    // then it takes binarise() (background removal first).
    std::int64_t sampled = 0, grey = 0;
    for (int y = 0; y < h; y += 16) {
      const auto* row = reinterpret_cast<const std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
      for (int x = 0; x < w; x += 8) {
        const unsigned lum = rgb_lum(row[x]);
        ++sampled;
        if (lum >= 120 && lum < 240) ++grey;
      }
    }
    if (grey * 10 > sampled * 3) return std::nullopt;
  }
  Bitmap out = Bitmap::blank(kFaxWidth, h);
  const int dx = (kFaxWidth - w) / 2;
  PixPtr photo_blocks(pixCreate((w + 7) / 8, (h + 7) / 8, 1));
#if defined(__SSE2__)
  std::vector<Span> inked(whiten ? static_cast<std::size_t>(h) : 0);
  const bool photos = threshold_pass_rgb24(data, stride, w, h, out, dx, photo_blocks.get(), whiten ? &inked : nullptr);
#else
  const bool photos = threshold_pass(
      w, h, [&](int y) { return reinterpret_cast<const std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride); },
      [](const std::uint32_t* row, int x) { return rgb_lum(row[x]); },
      [](const std::uint32_t* row, int x) {
        std::uint64_t q[4];
        std::memcpy(q, row + x, sizeof q);
        return (q[0] & q[1] & q[2] & q[3] & 0x00ffffff00ffffffull) == 0x00ffffff00ffffffull;
      },
      out, dx, photo_blocks.get());
#endif
  if (photos)
    halftone_regions(photo_blocks.get(), w, h,
                     [&](int x0, int y0, int rw, int rh) {
                       return rgb24_to_grey(data + static_cast<std::ptrdiff_t>(y0) * stride + static_cast<std::ptrdiff_t>(x0) * 4,
                                            stride, rw, rh);
                     },
                     out, dx);
  if (whiten) {
#if defined(__SSE2__)
    whiten_rows(data, stride, inked, 0, h);  // the rows left: from the first photo block on
#else
    std::memset(data, 0xff, static_cast<std::size_t>(stride) * static_cast<std::size_t>(h));
#endif
  }
  return out;
}

Bitmap binarise(PIX* grey_in, int min_rows) {
  PixPtr cleaned;
  PIX* grey = grey_in;
  if (looks_like_grey_paper(grey)) {
    // blackval/whiteval: the TRC that maps the normalised background to white.
    cleaned.reset(pixCleanBackgroundToWhite(grey, nullptr, nullptr, 1.0f, 70, 190));
    if (cleaned) grey = cleaned.get();
  }
  const int w = std::min(static_cast<int>(pixGetWidth(grey)), kFaxWidth);
  const int h = static_cast<int>(pixGetHeight(grey));
  Bitmap out = Bitmap::blank(kFaxWidth, std::max(h, min_rows));
  const int dx = (kFaxWidth - w) / 2;
  const l_uint32* data = pixGetData(grey);
  const int wpl = pixGetWpl(grey);
  PixPtr photo_blocks(pixCreate((w + 7) / 8, (h + 7) / 8, 1));
  const bool photos = threshold_pass(
      w, h, [&](int y) { return data + static_cast<std::ptrdiff_t>(y) * wpl; },
      [](const l_uint32* row, int x) { return static_cast<unsigned>(GET_DATA_BYTE(row, x)); },
      [](const l_uint32* row, int x) { return row[x / 4] == 0xffffffffu && row[x / 4 + 1] == 0xffffffffu; },
      out, dx, photo_blocks.get());
  if (photos)
    halftone_regions(photo_blocks.get(), w, h,
                     [&](int x0, int y0, int rw, int rh) {
                       BOX* box = boxCreate(x0, y0, rw, rh);
                       PixPtr crop(pixClipRectangle(grey, box, nullptr));
                       boxDestroy(&box);
                       return crop;
                     },
                     out, dx);
  return out;
}

Bitmap place_on_page(PIX* pix1, int min_rows) {
  const int w = static_cast<int>(pixGetWidth(pix1));
  const int h = static_cast<int>(pixGetHeight(pix1));
  const int rows = std::max(h, min_rows);
  PixPtr page(pixCreate(kFaxWidth, rows, 1));
  const int dx = std::max(0, (kFaxWidth - w) / 2);
  const int sx = std::max(0, (w - kFaxWidth) / 2);
  pixRasterop(page.get(), dx, 0, std::min(w, kFaxWidth), h, PIX_SRC, pix1, sx, 0);
  return pix_to_bitmap(page.get());
}

Result<Bitmap> image_to_page(PIX* image, Resolution resolution) {
  quiet_leptonica();
  PixPtr grey(pixConvertTo8(image, 0));
  if (!grey) return Error(Code::k_document_corrupt, "The image could not be decoded.");
  l_int32 xres = 0, yres = 0;
  pixGetResolution(image, &xres, &yres);
  // No or absurd resolution: assume a 200 dpi scan (what most scanners and phones
  // produce for documents); the page fit below bounds the result anyway.
  if (xres < 50 || xres > 2400) xres = 200;
  if (yres < 50 || yres > 2400) yres = xres;
  int w = static_cast<int>(pixGetWidth(grey.get()));
  int h = static_cast<int>(pixGetHeight(grey.get()));
  double w_in = static_cast<double>(w) / xres;
  double h_in = static_cast<double>(h) / yres;
  if (w_in > h_in) {  // landscape: turn it so it fills the page's length
    grey.reset(pixRotate90(grey.get(), 1));
    std::swap(w, h);
    std::swap(w_in, h_in);
    std::swap(xres, yres);
  }
  const double max_w_in = kFaxWidth / kFaxDpiX;
  const double fit = std::min({1.0, max_w_in / w_in, kPageLengthInches / h_in});
  const double ydpi = dpi_y(resolution);
  const double sx = fit * kFaxDpiX / xres;
  const double sy = fit * ydpi / yres;
  PixPtr scaled(pixScale(grey.get(), static_cast<float>(sx), static_cast<float>(sy)));
  if (!scaled) return Error(Code::k_document_too_large, "The image is too large to convert.");
  return binarise(scaled.get(), page_rows(resolution));
}

}  // namespace faxbridge::document::detail
