// Cover templates, the header band, fax -> PDF with the G4 data as is, PNG previews.
#include <gtest/gtest.h>
#include <leptonica/allheaders.h>
#include <poppler.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "faxbridge/document/compose.hpp"
#include "faxbridge/document/convert.hpp"
#include "faxbridge/document/export.hpp"
#include "faxbridge/document/tiff.hpp"
#include "fixtures.hpp"

using namespace faxbridge;
using namespace faxbridge::document;

namespace {
Bitmap page_with_box() {
  Bitmap b = Bitmap::blank(1728, 2292);
  for (int y = 0; y < 60; ++y)
    for (int x = 200; x < 400; ++x) b.set_black(x, y);  // ink right at the top edge
  return b;
}
}  // namespace

TEST(Cover, FieldsAreEscapedAndTheNoteWrapsOverLines) {
  CoverFields f;
  f.values = {{"subject", "R&D <urgent>"}, {"note", std::string(100, 'a') + " " + std::string(30, 'b') + "\nsecond"}};
  const std::string svg = fill_cover_template("<t>{{subject}}|{{note_1}}|{{note_2}}|{{note_3}}|{{unknown}}</t>", f);
  EXPECT_NE(svg.find("R&amp;D &lt;urgent&gt;"), std::string::npos) << svg;
  EXPECT_NE(svg.find("|" + std::string(30, 'b') + "|second"), std::string::npos) << svg;
  EXPECT_NE(svg.find("|second|</t>"), std::string::npos) << svg;  // unknown field: empty
}

TEST(Cover, ShippedTemplatesRenderToAFullFaxPage) {
  ASSERT_EQ(builtin_covers().size(), 3u);
  for (const auto& [name, svg] : builtin_covers()) {
    auto page = render_cover(svg, {}, Resolution::kFine);
    ASSERT_TRUE(page) << name << ": " << page.error().to_string();
    EXPECT_EQ(page->width, 1728);
    EXPECT_EQ(page->height, page_rows(Resolution::kFine));
    EXPECT_GT(page->count_black(0, 0, 1728, page->height), 5000) << name;
  }
}

TEST(Cover, ShippedTemplatesMatchTheMigrationThatSeedsThem) {
  std::ifstream f(std::string(FAXBRIDGE_SOURCE_DIR) + "/libs/db/migrations/0002_cover_pages.sql");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string sql = ss.str();
  for (const auto& [name, svg] : builtin_covers())
    EXPECT_NE(sql.find("'" + name + "', $svg$" + svg + "$svg$"), std::string::npos)
        << name << ": run libs/document/covers/make_migration.py";
}

TEST(Cover, InvalidSvgIsTheAdministratorsProblem) {
  auto page = render_cover("<svg><unclosed", {}, Resolution::kFine);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().name(), "document.cover_invalid");
}

TEST(Header, BandIsAddedAboveAndHidesNothing) {
  const Bitmap page = page_with_box();
  HeaderInfo h{"2026.00000042", "2026-11-25 08:00", "ACME FAX", "Grace Hopper"};
  auto stamped = add_header(page, h, 2, 5, Resolution::kFine);
  ASSERT_TRUE(stamped);
  const int band = header_band_rows(Resolution::kFine);
  ASSERT_EQ(stamped->height, page.height + band);
  EXPECT_GT(stamped->count_black(0, 0, 1728, band), 500);  // the header text
  // The page below the band is the page, bit for bit.
  for (int y = 0; y < page.height; ++y)
    ASSERT_EQ(0, std::memcmp(&stamped->bits[static_cast<std::size_t>(y + band) * stamped->stride],
                             &page.bits[static_cast<std::size_t>(y) * page.stride], static_cast<std::size_t>(page.stride)))
        << "row " << y;
  // "Page n/m" sits at the right, the reference at the left.
  EXPECT_GT(stamped->count_black(1300, 0, 1728, band), 50);
  EXPECT_GT(stamped->count_black(0, 0, 400, band), 50);
}

TEST(Header, OcrReadsTheBand) {
  Bitmap blank = Bitmap::blank(1728, 400);
  HeaderInfo h{"2026.00000042", "2026-11-25 08:00", "ACME", "Hopper"};
  auto stamped = add_header(blank, h, 3, 7, Resolution::kFine);
  ASSERT_TRUE(stamped);
  const auto words = fixtures::ocr_words(*stamped, Resolution::kFine);
  for (const std::string w : {"acme", "hopper", "page", "00000042"})
    EXPECT_NE(std::find(words.begin(), words.end(), w), words.end()) << w;
}

TEST(FaxToPdf, G4DataIsEmbeddedAsIsWithThePhysicalPageSize) {
  FaxDocument d;
  d.pages = {page_with_box(), page_with_box()};
  d.resolution = Resolution::kStandard;
  d.pages[1] = Bitmap::blank(1728, 1146);
  auto tiff = write_fax_tiff(d);
  ASSERT_TRUE(tiff);
  auto pdf = fax_to_pdf(*tiff);
  ASSERT_TRUE(pdf) << pdf.error().to_string();
  EXPECT_NE(pdf->find("/CCITTFaxDecode"), std::string::npos);
  EXPECT_NE(pdf->find("/K -1"), std::string::npos);

  GError* err = nullptr;
  GBytes* gb = g_bytes_new(pdf->data(), pdf->size());
  PopplerDocument* doc = poppler_document_new_from_bytes(gb, nullptr, &err);
  g_bytes_unref(gb);
  ASSERT_NE(doc, nullptr);
  ASSERT_EQ(poppler_document_get_n_pages(doc), 2);
  PopplerPage* p0 = poppler_document_get_page(doc, 0);
  double w = 0, h = 0;
  poppler_page_get_size(p0, &w, &h);
  EXPECT_NEAR(w, 1728 / 204.0 * 72, 0.01);
  EXPECT_NEAR(h, 2292 / 98.0 * 72, 0.01);
  g_object_unref(p0);
  g_object_unref(doc);
}

TEST(FaxToPdf, RoundTripThroughThePdfKeepsThePixels) {
  // The PDF of a fax, converted again, puts the box where it was.
  FaxDocument d;
  d.pages = {page_with_box()};
  auto pdf = fax_to_pdf(*write_fax_tiff(d));
  ASSERT_TRUE(pdf);
  auto back = convert(*pdf, "fax.pdf", {});
  ASSERT_TRUE(back) << back.error().to_string();
  const Bitmap& b = back->pages[0];
  EXPECT_GT(b.count_black(205, 3, 395, 57), (190 * 54) * 0.98);
  EXPECT_EQ(b.count_black(0, 100, 1728, 2200), 0);
}

TEST(Preview, PngHasSquarePixelsAndTheAskedWidth) {
  FaxDocument d;
  d.resolution = Resolution::kStandard;
  d.pages = {Bitmap::blank(1728, 1146)};
  auto png = fax_page_png(*write_fax_tiff(d), 0, 864);
  ASSERT_TRUE(png) << png.error().to_string();
  PIX* pix = pixReadMem(reinterpret_cast<const l_uint8*>(png->data()), png->size());
  ASSERT_NE(pix, nullptr);
  EXPECT_EQ(pixGetWidth(pix), 864);
  EXPECT_NEAR(pixGetHeight(pix), 1146 * 0.5 * 204 / 98.0, 2);  // square pixels: 98 dpi rows stretched
  pixDestroy(&pix);
  EXPECT_FALSE(fax_page_png(*write_fax_tiff(d), 5, 864));
}
