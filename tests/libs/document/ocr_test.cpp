// Readability by OCR round trip: 10-point text converted to fax pages and read back
// with Tesseract. Few and slow-ish (~2 s each), so kept to the cases that matter.
#include <gtest/gtest.h>

#include <algorithm>

#include "faxbridge/document/compose.hpp"
#include "faxbridge/document/convert.hpp"
#include "fixtures.hpp"

using namespace faxbridge::document;

TEST(Ocr, TenPointPdfTextSurvivesFineModeAt95PercentOfWords) {
  fixtures::PdfPage p;
  p.text = fixtures::sample_text(220);
  p.font = "DejaVu Serif 10";
  auto doc = convert(fixtures::make_pdf({p}), "letter.pdf", {});
  ASSERT_TRUE(doc) << doc.error().to_string();
  const auto expected = fixtures::split_words(p.text);
  const auto got = fixtures::ocr_words(doc->pages[0], Resolution::kFine);
  const double recall = fixtures::word_recall(expected, got);
  RecordProperty("recall", std::to_string(recall));
  EXPECT_GE(recall, 0.95) << "read " << got.size() << " words";
}

TEST(Ocr, TenPointPlainTextSurvivesFineMode) {
  const std::string text = fixtures::sample_text(220);
  auto doc = convert(text, "note.txt", {});
  ASSERT_TRUE(doc) << doc.error().to_string();
  const double recall = fixtures::word_recall(fixtures::split_words(text),
                                              fixtures::ocr_words(doc->pages[0], Resolution::kFine));
  EXPECT_GE(recall, 0.95);
}

TEST(Ocr, CoverPageShowsItsFields) {
  CoverFields f;
  f.values = {{"sender_name", "Margaret Hamilton"}, {"recipient_name", "Grace Hopper"},
              {"recipient_number", "+39 02 1234567"}, {"subject", "Quarterly budget review"},
              {"company_name", "Acme Logistics"},   {"note", "Please call me back about the shipping invoice."},
              {"reference", "2026.00000042"},       {"page_count", "3"}};
  auto page = render_cover(builtin_covers().at("default"), f, Resolution::kFine);
  ASSERT_TRUE(page) << page.error().to_string();
  const auto got = fixtures::ocr_words(*page, Resolution::kFine);
  for (const std::string w : {"margaret", "hamilton", "grace", "hopper", "quarterly", "budget", "acme", "logistics",
                              "shipping", "invoice", "1234567"})
    EXPECT_NE(std::find(got.begin(), got.end(), w), got.end()) << w;
}
