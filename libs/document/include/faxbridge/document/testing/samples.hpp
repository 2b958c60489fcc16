#pragma once
// Sample documents for the document tests and bench/convert, generated (deterministic)
// as PDFs with Cairo and Pango, and the OCR check both use (Tesseract). One generator,
// so what the tests check is what the benchmark measures.
#include <string>
#include <vector>

#include "faxbridge/document/page.hpp"

namespace faxbridge::document::testing {

// Ordinary English words (deterministic for a seed); a sentence ends every 12 words.
std::string sample_text(int words, unsigned seed = 12345);

// PDF pages with black marks, text and a grey photo where asked.
struct Mark {
  double x_pt, y_pt, w_pt, h_pt;  // a black rectangle, PDF points from top-left
};
struct PdfPage {
  double w_pt = 595.276, h_pt = 841.89;  // A4
  std::vector<Mark> marks;
  std::string text;  // drawn with Pango in `font`, from (72, 72), 72 pt margins
  std::string font = "DejaVu Serif 10";
  bool grey_photo = false;  // a 200x150 pt grey gradient at (72, 400)
};
std::string make_pdf(const std::vector<PdfPage>& pages);

// Fax traffic as the benchmark's corpora: (a) 1-3 page letters, invoices, forms,
// scanned pages (grey JPEG with paper tone and noise, as a phone or office scanner
// makes them) and photo pages; (b) 20-50 page manuals of text and line drawings.
struct CorpusDocument {
  std::string name;
  std::string kind;  // letter | invoice | form | scan | photo | manual
  std::string pdf;
  int pages = 0;
  std::string text;  // the words on scanned pages, for the OCR comparison
};
std::vector<CorpusDocument> typical_traffic();  // corpus (a)
std::vector<CorpusDocument> long_documents();   // corpus (b)

// Lower-case words, punctuation stripped.
std::vector<std::string> split_words(const std::string& text);
// Share of `expected` words found in `got`, each found word used once.
double word_recall(const std::vector<std::string>& expected, const std::vector<std::string>& got);
// The words Tesseract reads on a fax page (square pixels restored first).
std::vector<std::string> ocr_words(const Bitmap& page, Resolution resolution);
std::vector<std::string> ocr_words_png(const std::string& png_path);

}  // namespace faxbridge::document::testing
