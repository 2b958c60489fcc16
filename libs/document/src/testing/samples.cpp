// Sample documents for tests and the benchmark (see samples.hpp): PDFs drawn with
// Cairo and Pango, scans and photos made with Leptonica, OCR with Tesseract.
#include "faxbridge/document/testing/samples.hpp"

#include <cairo-pdf.h>
#include <cairo.h>
#include <leptonica/allheaders.h>
#include <pango/pangocairo.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

namespace faxbridge::document::testing {
namespace {

// Words of business letters; running text also has the short words (all of them,
// drawn together), which make its lines denser, as real text is.
constexpr const char* kWords[] = {
    "invoice", "payment", "account", "delivery", "order", "customer", "please", "contact", "office",
    "number", "address", "agreement", "schedule", "meeting", "report", "service", "quality", "result",
    "monday", "friday", "company", "manager", "request", "signature", "document", "receipt", "balance",
    "transfer", "shipping", "warehouse", "product", "quantity", "discount", "total", "confirm", "thank",
    "regards", "letter", "notice", "attached", "january", "march", "summer", "review", "budget", "travel",
    // short words: only in running text
    "the", "and", "of", "to", "for", "with", "on", "our", "your", "will", "be", "is", "in", "this"};
constexpr unsigned kAllWords = sizeof kWords / sizeof kWords[0];
constexpr unsigned kLongWords = kAllWords - 14;

// The one pseudo-random sequence of every sample (an LCG: the same on every machine).
struct Rng {
  unsigned state;
  unsigned next() { return (state = state * 1103515245u + 12345u) >> 16; }
  int in(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<unsigned>(hi - lo + 1)); }
  const char* word(unsigned vocabulary = kLongWords) { return kWords[next() % vocabulary]; }
  // `n` words, a sentence ending every 12 with `stop`: running text by default (a
  // paragraph, short words included); sample_text() has one sentence a line.
  std::string words(int n, const char* stop = ". ", unsigned vocabulary = kAllWords) {
    std::string s;
    for (int i = 0; i < n; ++i) {
      if (i) s += (i % 12 == 0) ? stop : " ";
      s += word(vocabulary);
    }
    return s + ".";
  }
};

constexpr double kA4W = 595.276, kA4H = 841.89;

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

struct Pdf {
  std::string bytes;
  cairo_surface_t* surface;
  cairo_t* cr;
  int pages = 0;
  Pdf() {
    surface = cairo_pdf_surface_create_for_stream(append, &bytes, kA4W, kA4H);
    cr = cairo_create(surface);
  }
  void page() {
    cairo_show_page(cr);
    ++pages;
  }
  std::string finish() {
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    cairo_surface_destroy(surface);
    return bytes;
  }
};

// Text in a box; returns the height used.
double text(cairo_t* cr, const std::string& s, double x, double y, double w, const char* font) {
  PangoLayout* layout = pango_cairo_create_layout(cr);
  PangoFontDescription* fd = pango_font_description_from_string(font);
  pango_layout_set_font_description(layout, fd);
  pango_font_description_free(fd);
  pango_layout_set_width(layout, static_cast<int>(w * PANGO_SCALE));
  pango_layout_set_wrap(layout, PANGO_WRAP_WORD);
  pango_layout_set_text(layout, s.c_str(), -1);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_move_to(cr, x, y);
  pango_cairo_show_layout(cr, layout);
  int lw = 0, lh = 0;
  pango_layout_get_size(layout, &lw, &lh);
  g_object_unref(layout);
  return static_cast<double>(lh) / PANGO_SCALE;
}

void letterhead(cairo_t* cr, Rng& r) {
  cairo_set_source_rgb(cr, 0.1, 0.2, 0.5);
  cairo_rectangle(cr, 56, 40, 40, 40);
  cairo_fill(cr);
  text(cr, "Northwind Traders S.p.A.", 104, 44, 300, "DejaVu Sans Bold 14");
  text(cr, "Via Roma " + std::to_string(r.in(1, 200)) + ", 20121 Milano - Tel +39 02 " + std::to_string(r.in(1000000, 9999999)),
       104, 64, 400, "DejaVu Sans 8");
}

std::string letter(Rng& r, int pages) {
  Pdf p;
  for (int i = 0; i < pages; ++i) {
    letterhead(p.cr, r);
    double y = 120;
    if (i == 0) {
      y += text(p.cr, "Mr. John Smith\nAcme Corporation\n12 High Street\nLondon", 320, y, 220, "DejaVu Serif 10") + 20;
      y += text(p.cr, "Subject: " + r.words(6), 56, y, 480, "DejaVu Serif Bold 11") + 12;
    }
    text(p.cr, r.words(380), 56, y, 483, "DejaVu Serif 10.5");
    p.page();
  }
  return p.finish();
}

std::string invoice(Rng& r) {
  Pdf p;
  letterhead(p.cr, r);
  text(p.cr, "INVOICE No. " + std::to_string(r.in(1000, 9999)), 380, 110, 200, "DejaVu Sans Bold 13");
  double y = 200;
  cairo_set_line_width(p.cr, 0.6);
  const double cols[] = {56, 300, 380, 460, 540};
  text(p.cr, "Description", 60, y - 16, 200, "DejaVu Sans Bold 9");
  text(p.cr, "Qty", 304, y - 16, 60, "DejaVu Sans Bold 9");
  text(p.cr, "Price", 384, y - 16, 60, "DejaVu Sans Bold 9");
  text(p.cr, "Amount", 464, y - 16, 60, "DejaVu Sans Bold 9");
  const int rows = r.in(8, 22);
  for (int i = 0; i <= rows; ++i) {
    cairo_move_to(p.cr, 56, y + i * 18);
    cairo_line_to(p.cr, 540, y + i * 18);
  }
  for (double c : cols) {
    cairo_move_to(p.cr, c, y);
    cairo_line_to(p.cr, c, y + rows * 18);
  }
  cairo_set_source_rgb(p.cr, 0, 0, 0);
  cairo_stroke(p.cr);
  for (int i = 0; i < rows; ++i) {
    text(p.cr, r.words(4), 60, y + i * 18 + 3, 230, "DejaVu Sans 8.5");
    text(p.cr, std::to_string(r.in(1, 99)), 304, y + i * 18 + 3, 70, "DejaVu Sans 8.5");
    text(p.cr, std::to_string(r.in(1, 999)) + ".00", 384, y + i * 18 + 3, 70, "DejaVu Sans 8.5");
    text(p.cr, std::to_string(r.in(1, 9999)) + ".00", 464, y + i * 18 + 3, 70, "DejaVu Sans 8.5");
  }
  cairo_set_source_rgb(p.cr, 0.85, 0.85, 0.85);  // a shaded total box, as invoices have
  cairo_rectangle(p.cr, 380, y + rows * 18 + 10, 160, 24);
  cairo_fill(p.cr);
  text(p.cr, "TOTAL EUR " + std::to_string(r.in(1000, 99999)) + ".00", 386, y + rows * 18 + 15, 150, "DejaVu Sans Bold 10");
  text(p.cr, "Payment within 30 days. " + r.words(40), 56, 760, 480, "DejaVu Sans 7");
  p.page();
  return p.finish();
}

std::string form(Rng& r, int pages) {
  Pdf p;
  for (int pg = 0; pg < pages; ++pg) {
    text(p.cr, "APPLICATION FORM - section " + std::to_string(pg + 1), 56, 50, 480, "DejaVu Sans Bold 14");
    cairo_set_line_width(p.cr, 0.5);
    double y = 100;
    while (y < 760) {
      text(p.cr, r.words(3), 56, y, 150, "DejaVu Sans 9");
      if (r.next() % 3 == 0) {
        for (int b = 0; b < 4; ++b) {
          cairo_rectangle(p.cr, 220 + b * 80, y, 10, 10);
          text(p.cr, r.word(), 234 + b * 80, y - 1, 60, "DejaVu Sans 8");
        }
      } else {
        cairo_rectangle(p.cr, 220, y - 4, 320, 20);
      }
      cairo_set_source_rgb(p.cr, 0, 0, 0);
      cairo_stroke(p.cr);
      y += 34;
    }
    p.page();
  }
  return p.finish();
}

// Embeds an 8-bit grey Leptonica image as a JPEG filling `w x h` points at (x, y).
void place_jpeg(cairo_t* cr, PIX* pix, double x, double y, double w, double h) {
  l_uint8* jpg = nullptr;
  size_t size = 0;
  pixWriteMemJpeg(&jpg, &size, pix, 75, 0);
  const int pw = static_cast<int>(pixGetWidth(pix)), ph = static_cast<int>(pixGetHeight(pix));
  // Cairo needs pixels too (for its fallback); the PDF gets the JPEG as is (DCTDecode).
  cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, pw, ph);
  unsigned char* data = cairo_image_surface_get_data(img);
  const int stride = cairo_image_surface_get_stride(img);
  for (int yy = 0; yy < ph; ++yy)
    for (int xx = 0; xx < pw; ++xx) {
      l_uint32 v = 0;
      pixGetPixel(pix, xx, yy, &v);
      reinterpret_cast<std::uint32_t*>(data + yy * stride)[xx] = (v << 16) | (v << 8) | v;
    }
  cairo_surface_mark_dirty(img);
  auto* copy = static_cast<unsigned char*>(malloc(size));
  std::memcpy(copy, jpg, size);
  lept_free(jpg);
  cairo_surface_set_mime_data(img, CAIRO_MIME_TYPE_JPEG, copy, size, free, copy);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, w / pw, h / ph);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
}

// A page scanned at 200 dpi: text on grey paper with noise and a darker edge.
std::string scan(Rng& r, int pages, std::string& words_out) {
  Pdf p;
  for (int pg = 0; pg < pages; ++pg) {
    const int w = 1654, h = 2339;
    cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t* cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_scale(cr, 200 / 72.0, 200 / 72.0);
    const std::string body = r.words(300);
    words_out += body + " ";
    text(cr, body, 60, 80, 470, "DejaVu Serif 11");
    cairo_destroy(cr);
    cairo_surface_flush(s);
    PIX* pix = pixCreate(w, h, 8);
    const unsigned char* d = cairo_image_surface_get_data(s);
    const int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int ink = 255 - static_cast<int>(d[y * stride + 4 * x + 1]);
        // Paper ~205 with a shade toward one edge, ink ~40, sensor noise +-12.
        const double paper = 208 - 25.0 * x / w;
        const int noise = static_cast<int>(r.next() % 25) - 12;
        const int v = static_cast<int>(paper - ink * (paper - 40) / 255.0) + noise;
        pixSetPixel(pix, x, y, static_cast<l_uint32>(std::clamp(v, 0, 255)));
      }
    cairo_surface_destroy(s);
    place_jpeg(p.cr, pix, 0, 0, kA4W, kA4H);
    pixDestroy(&pix);
    p.page();
  }
  return p.finish();
}

std::string photo(Rng& r) {
  Pdf p;
  letterhead(p.cr, r);
  const int w = 1000, h = 750;
  PIX* pix = pixCreate(w, h, 8);
  const double cx = r.in(300, 700), cy = r.in(200, 500);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double d = std::hypot(x - cx, (y - cy) * 1.3) / 300.0;
      double v = 60 + 150.0 * y / h + 60 * std::sin(x / 40.0) * std::exp(-d);
      if (d < 0.8) v = 200 - 120 * d;
      pixSetPixel(pix, x, y, static_cast<l_uint32>(std::clamp(v + static_cast<int>(r.next() % 9) - 4, 0.0, 255.0)));
    }
  place_jpeg(p.cr, pix, 56, 120, 483, 362);
  pixDestroy(&pix);
  text(p.cr, "Photo: site inspection. " + r.words(80), 56, 500, 483, "DejaVu Sans 10");
  p.page();
  return p.finish();
}

std::string manual(Rng& r, int pages) {
  Pdf p;
  for (int pg = 0; pg < pages; ++pg) {
    text(p.cr, "Operating manual - chapter " + std::to_string(pg / 5 + 1), 56, 30, 400, "DejaVu Sans 8");
    cairo_move_to(p.cr, 56, 44);
    cairo_line_to(p.cr, 540, 44);
    cairo_set_line_width(p.cr, 0.5);
    cairo_stroke(p.cr);
    double y = 60;
    if (pg % 4 == 1) {  // a line drawing
      cairo_set_line_width(p.cr, 0.8);
      for (int i = 0; i < 6; ++i) {
        cairo_rectangle(p.cr, 80 + i * 70, 80 + (i % 2) * 40, 55, 35);
        if (i) {
          cairo_move_to(p.cr, 80 + i * 70 - 15, 97 + (i % 2) * 40);
          cairo_line_to(p.cr, 80 + i * 70, 97 + (i % 2) * 40);
        }
      }
      cairo_arc(p.cr, 300, 230, 40, 0, 2 * M_PI);
      cairo_stroke(p.cr);
      y = 300;
    }
    y += text(p.cr, std::to_string(pg + 1) + ". " + r.words(5), 56, y, 480, "DejaVu Sans Bold 12") + 8;
    text(p.cr, r.words(pg % 4 == 1 ? 260 : 450), 56, y, 483, "DejaVu Serif 10");
    text(p.cr, std::to_string(pg + 1), 290, 800, 40, "DejaVu Sans 8");
    p.page();
  }
  return p.finish();
}

}  // namespace

std::vector<CorpusDocument> typical_traffic() {
  Rng r{2026};
  std::vector<CorpusDocument> docs;
  for (int i = 0; i < 20; ++i) {
    const int n = 1 + i % 2;
    docs.push_back({"letter-" + std::to_string(i), "letter", letter(r, n), n, ""});
  }
  for (int i = 0; i < 12; ++i) docs.push_back({"invoice-" + std::to_string(i), "invoice", invoice(r), 1, ""});
  for (int i = 0; i < 10; ++i) {
    const int n = 1 + (i % 3 == 0 ? 1 : 0);
    docs.push_back({"form-" + std::to_string(i), "form", form(r, n), n, ""});
  }
  for (int i = 0; i < 8; ++i) {
    CorpusDocument d{"scan-" + std::to_string(i), "scan", "", 1 + (i % 4 == 0 ? 1 : 0), ""};
    d.pdf = scan(r, d.pages, d.text);
    docs.push_back(std::move(d));
  }
  for (int i = 0; i < 6; ++i) docs.push_back({"photo-" + std::to_string(i), "photo", photo(r), 1, ""});
  return docs;
}

std::vector<CorpusDocument> long_documents() {
  Rng r{7};
  std::vector<CorpusDocument> docs;
  for (int n : {20, 30, 40, 50}) docs.push_back({"manual-" + std::to_string(n), "manual", manual(r, n), n, ""});
  return docs;
}

std::string make_pdf(const std::vector<PdfPage>& pages) {
  std::string out;
  cairo_surface_t* s = cairo_pdf_surface_create_for_stream(append, &out, pages.front().w_pt, pages.front().h_pt);
  cairo_t* cr = cairo_create(s);
  for (const auto& p : pages) {
    cairo_pdf_surface_set_size(s, p.w_pt, p.h_pt);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (const auto& m : p.marks) {
      cairo_rectangle(cr, m.x_pt, m.y_pt, m.w_pt, m.h_pt);
      cairo_fill(cr);
    }
    if (p.grey_photo) {
      cairo_pattern_t* g = cairo_pattern_create_linear(72, 400, 272, 550);
      cairo_pattern_add_color_stop_rgb(g, 0, 0.15, 0.15, 0.15);
      cairo_pattern_add_color_stop_rgb(g, 1, 0.85, 0.85, 0.85);
      cairo_set_source(cr, g);
      cairo_rectangle(cr, 72, 400, 200, 150);
      cairo_fill(cr);
      cairo_pattern_destroy(g);
      cairo_set_source_rgb(cr, 0, 0, 0);
    }
    if (!p.text.empty()) {
      PangoLayout* layout = pango_cairo_create_layout(cr);
      PangoFontDescription* fd = pango_font_description_from_string(p.font.c_str());
      pango_layout_set_font_description(layout, fd);
      pango_font_description_free(fd);
      pango_layout_set_width(layout, static_cast<int>((p.w_pt - 144) * PANGO_SCALE));
      pango_layout_set_wrap(layout, PANGO_WRAP_WORD);
      pango_layout_set_text(layout, p.text.c_str(), -1);
      cairo_move_to(cr, 72, 72);
      pango_cairo_show_layout(cr, layout);
      g_object_unref(layout);
    }
    cairo_show_page(cr);
  }
  cairo_destroy(cr);
  cairo_surface_finish(s);
  cairo_surface_destroy(s);
  return out;
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      words.push_back(cur);
      cur.clear();
    }
  }
  return words;
}

std::vector<std::string> ocr_words_png(const std::string& png_path) {
  const std::string cmd = "tesseract '" + png_path + "' stdout -l eng --psm 3 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {};
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  pclose(p);
  return split_words(text);
}

std::vector<std::string> ocr_words(const Bitmap& page, Resolution r) {
  PIX* pix = pixCreate(page.width, page.height, 1);
  for (int y = 0; y < page.height; ++y)
    for (int x = 0; x < page.width; ++x)
      if (page.black(x, y)) pixSetPixel(pix, x, y, 1);
  // Square pixels and 8 bpp for Tesseract; it expects ~300 dpi text but reads 200.
  PIX* grey = pixConvertTo8(pix, 0);
  const float sy = kFaxDpiX / dpi_y(r);
  PIX* square = pixScale(grey, 1.0f, sy);
  pixSetResolution(square, 204, 204);
  char path[] = "/tmp/faxbridge-ocr-XXXXXX.png";
  const int fd = mkstemps(path, 4);
  close(fd);
  pixWrite(path, square, IFF_PNG);
  pixDestroy(&pix);
  pixDestroy(&grey);
  pixDestroy(&square);
  auto words = ocr_words_png(path);
  std::filesystem::remove(path);
  return words;
}

double word_recall(const std::vector<std::string>& expected, const std::vector<std::string>& got) {
  std::multiset<std::string> pool(got.begin(), got.end());
  int found = 0;
  for (const auto& w : expected) {
    auto it = pool.find(w);
    if (it != pool.end()) {
      ++found;
      pool.erase(it);
    }
  }
  return expected.empty() ? 1.0 : static_cast<double>(found) / static_cast<double>(expected.size());
}

std::string sample_text(int words, unsigned seed) { return Rng{seed}.words(words, ".\n", kLongWords); }

}  // namespace faxbridge::document::testing
