#include "fixtures.hpp"

#include <cairo-pdf.h>
#include <cairo.h>
#include <leptonica/allheaders.h>
#include <pango/pangocairo.h>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFWriter.hh>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace fixtures {
namespace {

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string pix_to_mem(PIX* pix, int format) {
  l_uint8* data = nullptr;
  size_t size = 0;
  pixWriteMem(&data, &size, pix, format);
  std::string out(reinterpret_cast<const char*>(data), size);
  lept_free(data);
  return out;
}

void put16(std::string& s, unsigned v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& s, unsigned long v) {
  put16(s, v & 0xffff);
  put16(s, (v >> 16) & 0xffff);
}
void put32be(std::string& s, unsigned long v) {
  for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

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

std::string make_blank_pdf(int count) {
  std::vector<PdfPage> pages(static_cast<std::size_t>(count));
  return make_pdf(pages);
}

std::string encrypt_pdf(const std::string& pdf, const std::string& user_password, const std::string& owner_password) {
  QPDF q;
  q.processMemoryFile("in.pdf", pdf.data(), pdf.size());
  QPDFWriter w(q);
  w.setOutputMemory();
  w.setR6EncryptionParameters(user_password.c_str(), owner_password.c_str(), true, false, false, false, false, false,
                              qpdf_r3p_full, true);
  w.write();
  auto b = w.getBufferSharedPointer();
  return std::string(reinterpret_cast<const char*>(b->getBuffer()), b->getSize());
}

std::string make_png(int w, int h, int dpi, const std::vector<PixMark>& marks, int paper) {
  PIX* pix = pixCreate(w, h, 8);
  pixSetAllArbitrary(pix, static_cast<l_uint32>(paper));
  for (const auto& m : marks) {
    BOX* box = boxCreate(m.x, m.y, m.w, m.h);
    pixSetInRectArbitrary(pix, box, static_cast<l_uint32>(m.value));
    boxDestroy(&box);
  }
  pixSetResolution(pix, dpi, dpi);
  std::string out = pix_to_mem(pix, IFF_PNG);
  pixDestroy(&pix);
  return out;
}

std::string make_photo_jpeg(int w, int h, int dpi) {
  PIX* pix = pixCreate(w, h, 8);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      // A smooth "portrait": a radial shade over a horizontal gradient.
      const double dx = (x - w / 2.0) / w, dy = (y - h / 2.0) / h;
      const double v = 40 + 170.0 * x / w * (1 - 0.6 * std::min(1.0, 4 * (dx * dx + dy * dy)));
      pixSetPixel(pix, x, y, static_cast<l_uint32>(std::clamp(v, 0.0, 255.0)));
    }
  pixSetResolution(pix, dpi, dpi);
  std::string out = pix_to_mem(pix, IFF_JFIF_JPEG);
  pixDestroy(&pix);
  return out;
}

std::string make_png_header(unsigned width, unsigned height) {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr = "IHDR";
  put32be(ihdr, width);
  put32be(ihdr, height);
  ihdr += '\x08';  // bit depth
  ihdr += '\x00';  // grey
  ihdr += std::string(3, '\0');
  put32be(png, 13);
  png += ihdr;
  put32be(png, crc32(0, reinterpret_cast<const Bytef*>(ihdr.data()), static_cast<uInt>(ihdr.size())));
  // An IDAT that is far too short for the image, then IEND.
  std::string idat = "IDAT";
  idat += std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
  put32be(png, 8);
  png += idat;
  put32be(png, crc32(0, reinterpret_cast<const Bytef*>(idat.data()), static_cast<uInt>(idat.size())));
  put32be(png, 0);
  png += "IEND";
  put32be(png, crc32(0, reinterpret_cast<const Bytef*>("IEND"), 4));
  return png;
}

std::string make_zip_bomb(int inflated_mb) {
  // Deflate the zeros in 1 MB steps (raw deflate, as zip stores it).
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
  std::string zeros(1 << 20, '\0');
  std::string packed;
  unsigned long crc = crc32(0, nullptr, 0);
  std::array<unsigned char, 65536> buf;
  for (int i = 0; i < inflated_mb; ++i) {
    crc = crc32(crc, reinterpret_cast<const Bytef*>(zeros.data()), static_cast<uInt>(zeros.size()));
    z.next_in = reinterpret_cast<Bytef*>(zeros.data());
    z.avail_in = static_cast<uInt>(zeros.size());
    const int flush = i + 1 == inflated_mb ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = buf.data();
      z.avail_out = buf.size();
      deflate(&z, flush);
      packed.append(reinterpret_cast<char*>(buf.data()), buf.size() - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  const std::string name = "word/document.xml";
  const unsigned long size = static_cast<unsigned long>(inflated_mb) << 20;
  std::string zip;
  put32(zip, 0x04034b50);
  put16(zip, 20); put16(zip, 0); put16(zip, 8); put16(zip, 0); put16(zip, 0);
  put32(zip, crc); put32(zip, packed.size()); put32(zip, size);
  put16(zip, name.size()); put16(zip, 0);
  zip += name;
  zip += packed;
  const auto cd_offset = zip.size();
  put32(zip, 0x02014b50);
  put16(zip, 20); put16(zip, 20); put16(zip, 0); put16(zip, 8); put16(zip, 0); put16(zip, 0);
  put32(zip, crc); put32(zip, packed.size()); put32(zip, size);
  put16(zip, name.size()); put16(zip, 0); put16(zip, 0); put16(zip, 0); put16(zip, 0);
  put32(zip, 0); put32(zip, 0);
  zip += name;
  const auto cd_size = zip.size() - cd_offset;
  put32(zip, 0x06054b50);
  put16(zip, 0); put16(zip, 0); put16(zip, 1); put16(zip, 1);
  put32(zip, cd_size); put32(zip, cd_offset); put16(zip, 0);
  return zip;
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

std::vector<std::string> ocr_words(const faxbridge::document::Bitmap& page, faxbridge::document::Resolution r) {
  PIX* pix = pixCreate(page.width, page.height, 1);
  for (int y = 0; y < page.height; ++y)
    for (int x = 0; x < page.width; ++x)
      if (page.black(x, y)) pixSetPixel(pix, x, y, 1);
  // Square pixels and 8 bpp for Tesseract; it expects ~300 dpi text but reads 200.
  PIX* grey = pixConvertTo8(pix, 0);
  const float sy = faxbridge::document::kFaxDpiX / faxbridge::document::dpi_y(r);
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

std::string sample_text(int words) {
  static const char* kWords[] = {
      "invoice", "payment", "account", "delivery", "order", "customer", "please", "contact", "office",
      "number", "address", "agreement", "schedule", "meeting", "report", "service", "quality", "result",
      "monday", "friday", "company", "manager", "request", "signature", "document", "receipt", "balance",
      "transfer", "shipping", "warehouse", "product", "quantity", "discount", "total", "confirm", "thank",
      "regards", "letter", "notice", "attached", "january", "march", "summer", "review", "budget", "travel"};
  constexpr int kCount = sizeof kWords / sizeof kWords[0];
  std::string s;
  unsigned state = 12345;
  for (int i = 0; i < words; ++i) {
    state = state * 1103515245u + 12345u;
    if (i) s += (i % 12 == 0) ? ".\n" : " ";
    s += kWords[(state >> 16) % kCount];
  }
  return s + ".";
}

}  // namespace fixtures
