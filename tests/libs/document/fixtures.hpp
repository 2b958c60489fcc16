#pragma once
// Inputs the document tests build at test time (cairo PDFs, Leptonica images, text,
// hostile files) and the checks they share (OCR with Tesseract).
#include <string>
#include <vector>

#include "faxbridge/document/page.hpp"

namespace fixtures {

struct Mark {
  double x_pt, y_pt, w_pt, h_pt;  // a black rectangle on the page, PDF points from top-left
};
struct PdfPage {
  double w_pt = 595.276, h_pt = 841.89;  // A4
  std::vector<Mark> marks;
  std::string text;           // drawn with Pango in `font`
  std::string font = "DejaVu Serif 10";
  bool grey_photo = false;    // a 200x150 pt grey gradient at (72, 400)
};
std::string make_pdf(const std::vector<PdfPage>& pages);
// A PDF of `count` blank pages (cheap: cairo writes tiny pages).
std::string make_blank_pdf(int count);
std::string encrypt_pdf(const std::string& pdf, const std::string& user_password, const std::string& owner_password);

// An 8-bit grey PNG: white (or `paper` grey) with black rectangles, at `dpi`.
struct PixMark {
  int x, y, w, h;
  int value = 0;
};
std::string make_png(int w, int h, int dpi, const std::vector<PixMark>& marks, int paper = 255);
// A grey gradient photo as JPEG.
std::string make_photo_jpeg(int w, int h, int dpi);
// A PNG whose header claims width x height (no usable image data).
std::string make_png_header(unsigned width, unsigned height);
// A zip whose one entry inflates to `inflated_mb` megabytes of zeros.
std::string make_zip_bomb(int inflated_mb);

// The words Tesseract reads on a page (square pixels restored first).
std::vector<std::string> ocr_words(const faxbridge::document::Bitmap& page, faxbridge::document::Resolution r);
std::vector<std::string> ocr_words_png(const std::string& png_path);
// Share of `expected` words found in `got` (case-insensitive, punctuation stripped).
double word_recall(const std::vector<std::string>& expected, const std::vector<std::string>& got);
std::vector<std::string> split_words(const std::string& text);

// A paragraph of ordinary English text (deterministic).
std::string sample_text(int words);

}  // namespace fixtures
