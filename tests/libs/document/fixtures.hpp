#pragma once
// Inputs the document tests build at test time: hostile files and images here; PDFs,
// sample text and the OCR check come from the samples shared with bench/convert.
#include <cstdint>
#include <string>
#include <vector>

#include "faxbridge/document/page.hpp"
#include "faxbridge/document/testing/samples.hpp"

namespace fixtures {

// Shared with bench/convert (libs/document testing samples).
using faxbridge::document::testing::make_pdf;
using faxbridge::document::testing::Mark;
using faxbridge::document::testing::ocr_words;
using faxbridge::document::testing::ocr_words_png;
using faxbridge::document::testing::PdfPage;
using faxbridge::document::testing::sample_text;
using faxbridge::document::testing::split_words;
using faxbridge::document::testing::word_recall;

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
// A one-page G3 fax TIFF whose tags claim width x height (16 bytes of image data): a
// page the decoder would need width * height / 8 bytes of memory for.
std::string make_fax_tiff_header(std::uint32_t width, std::uint32_t height);
// A zip whose one entry inflates to `inflated_mb` megabytes of zeros.
std::string make_zip_bomb(int inflated_mb);

}  // namespace fixtures
