// Conversion to fax pages: TIFF Class F tags, where known marks land after fitting
// and rotation, images, scans, text, and every kind of bad input with its code.
#include <gtest/gtest.h>

#include "faxbridge/document/convert.hpp"
#include "faxbridge/document/tiff.hpp"
#include "fixtures.hpp"

#include <leptonica/allheaders.h>

using namespace faxbridge;
using namespace faxbridge::document;

namespace {

ConvertOptions fine() { return {}; }
ConvertOptions standard() {
  ConvertOptions o;
  o.resolution = Resolution::kStandard;
  return o;
}

// Share of black pixels in a rectangle.
double ink(const Bitmap& b, int x0, int y0, int x1, int y1) {
  const double area = static_cast<double>(x1 - x0) * (y1 - y0);
  return static_cast<double>(b.count_black(x0, y0, x1, y1)) / area;
}

// Expects a solid mark at the pixel rectangle (shrunk by 3 px for rounding) and white
// just around it (grown by 4 px).
void expect_mark(const Bitmap& b, double x0, double y0, double x1, double y1) {
  const int ix0 = static_cast<int>(x0), iy0 = static_cast<int>(y0), ix1 = static_cast<int>(x1), iy1 = static_cast<int>(y1);
  EXPECT_GT(ink(b, ix0 + 3, iy0 + 3, ix1 - 3, iy1 - 3), 0.99) << "mark at " << x0 << "," << y0;
  EXPECT_EQ(b.count_black(ix0 - 8, iy0 - 8, ix1 + 8, iy0 - 4), 0) << "above mark at " << x0 << "," << y0;
  EXPECT_EQ(b.count_black(ix0 - 8, iy1 + 4, ix1 + 8, iy1 + 8), 0) << "below mark at " << x0 << "," << y0;
  EXPECT_EQ(b.count_black(ix0 - 8, iy0, ix0 - 4, iy1), 0) << "left of mark at " << x0 << "," << y0;
  EXPECT_EQ(b.count_black(ix1 + 4, iy0, ix1 + 8, iy1), 0) << "right of mark at " << x0 << "," << y0;
}

Error expect_error(const Result<FaxDocument>& r) {
  EXPECT_FALSE(r.has_value());
  return r ? Error() : r.error();
}

}  // namespace

TEST(Tiff, ClassFTagsFinePagesAreG4At204x196With1728Pixels) {
  const std::string pdf = fixtures::make_pdf({{}, {}, {}});
  auto doc = convert(pdf, "three.pdf", fine());
  ASSERT_TRUE(doc) << doc.error().to_string();
  auto tiff = write_fax_tiff(*doc);
  ASSERT_TRUE(tiff);
  auto info = inspect_tiff(*tiff);
  ASSERT_TRUE(info);
  ASSERT_EQ(info->size(), 3u);
  for (const auto& p : *info) {
    EXPECT_EQ(p.width, 1728);
    EXPECT_EQ(p.compression, 4);  // COMPRESSION_CCITTFAX4
    EXPECT_EQ(p.fill_order, 2);   // LSB2MSB, as fax modems send
    EXPECT_EQ(p.photometric, 0);  // MinIsWhite
    EXPECT_FLOAT_EQ(p.x_dpi, 204);
    EXPECT_FLOAT_EQ(p.y_dpi, 196);
    EXPECT_EQ(p.resolution_unit, 2);  // inch
    EXPECT_NEAR(p.height, 2292, 3);   // A4 at fine
  }
}

TEST(Tiff, StandardResolutionIs204x98AndHalfTheRows) {
  auto doc = convert(fixtures::make_pdf({{}}), "a.pdf", standard());
  ASSERT_TRUE(doc);
  auto info = inspect_tiff(*write_fax_tiff(*doc));
  ASSERT_TRUE(info);
  EXPECT_FLOAT_EQ((*info)[0].y_dpi, 98);
  EXPECT_NEAR((*info)[0].height, 1146, 2);
}

TEST(Tiff, WrittenPagesReadBackBitForBit) {
  FaxDocument d;
  Bitmap b = Bitmap::blank(1728, 100);
  for (int x = 100; x < 900; x += 3) b.set_black(x, 50);
  d.pages.push_back(b);
  auto back = read_fax_tiff(*write_fax_tiff(d));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->pages.size(), 1u);
  EXPECT_EQ(back->pages[0].bits, b.bits);
}

TEST(Pdf, A4MarksLandWhereTheScaleSaysCenteredAcross) {
  // A4 is 1687 px wide at 204 dpi: at 1:1 it sits centered with 20 px each side.
  fixtures::PdfPage p;
  p.marks = {{72, 72, 36, 36}, {400, 700, 72, 18}, {10, 10, 20, 20}};
  auto doc = convert(fixtures::make_pdf({p}), "a4.pdf", fine());
  ASSERT_TRUE(doc);
  const Bitmap& b = doc->pages[0];
  const double s = 204.0 / 72, t = 196.0 / 72, dx = (1728 - 595.276 * s) / 2;
  for (const auto& m : p.marks) expect_mark(b, dx + m.x_pt * s, m.y_pt * t, dx + (m.x_pt + m.w_pt) * s, (m.y_pt + m.h_pt) * t);
}

TEST(Pdf, LetterFillsTheWidthAndLosesNothingAtTheRight) {
  fixtures::PdfPage p;
  p.w_pt = 612;
  p.h_pt = 792;
  p.marks = {{570, 100, 36, 36}};  // 6 pt from the right edge
  auto doc = convert(fixtures::make_pdf({p}), "letter.pdf", fine());
  ASSERT_TRUE(doc);
  const Bitmap& b = doc->pages[0];
  const double fit = 1728.0 / (612 / 72.0 * 204);  // Letter is wider than 1728 px
  const double s = 204.0 / 72 * fit, t = 196.0 / 72 * fit;
  expect_mark(b, 570 * s, 100 * t, 606 * s, 136 * t);
}

TEST(Pdf, LandscapePagesAreTurnedClockwise) {
  fixtures::PdfPage p;
  p.w_pt = 841.89;
  p.h_pt = 595.276;
  p.marks = {{72, 72, 36, 36}};  // near the top-left corner of the landscape page
  auto doc = convert(fixtures::make_pdf({p}), "landscape.pdf", fine());
  ASSERT_TRUE(doc);
  const Bitmap& b = doc->pages[0];
  EXPECT_GT(b.height, b.width);
  // Turned clockwise, the top-left corner goes to the top-right: (x, y) -> (H - y, x).
  const double s = 204.0 / 72, t = 196.0 / 72, dx = (1728 - 595.276 * s) / 2;
  expect_mark(b, dx + (595.276 - 108) * s, 72 * t, dx + (595.276 - 72) * s, 108 * t);
}

TEST(Pdf, PhotoAreasAreDitheredAndTextAreasStayClean) {
  fixtures::PdfPage p;
  p.grey_photo = true;
  p.marks = {{72, 700, 200, 6}};  // a 6 pt rule far from the photo
  auto doc = convert(fixtures::make_pdf({p}), "photo.pdf", fine());
  ASSERT_TRUE(doc);
  const Bitmap& b = doc->pages[0];
  const double s = 204.0 / 72, t = 196.0 / 72, dx = (1728 - 595.276 * s) / 2;
  // The middle of the gradient (50% grey) is a mix of black and white dots.
  const double mid = ink(b, static_cast<int>(dx + 160 * s), static_cast<int>(460 * t), static_cast<int>(dx + 185 * s),
                         static_cast<int>(490 * t));
  EXPECT_GT(mid, 0.25);
  EXPECT_LT(mid, 0.75);
  expect_mark(b, dx + 72 * s, 700 * t, dx + 272 * s, 706 * t);
}

TEST(Pdf, HairlinesSurvive) {
  fixtures::PdfPage p;
  p.marks = {{72, 300, 400, 0.3}};  // 0.3 pt: under one fax row
  auto doc = convert(fixtures::make_pdf({p}), "hairline.pdf", fine());
  ASSERT_TRUE(doc);
  const Bitmap& b = doc->pages[0];
  const double s = 204.0 / 72, t = 196.0 / 72, dx = (1728 - 595.276 * s) / 2;
  const int y = static_cast<int>(300 * t);
  // Every column along the line has ink within a row of it.
  int covered = 0;
  for (int x = static_cast<int>(dx + 80 * s); x < static_cast<int>(dx + 460 * s); ++x)
    covered += b.count_black(x, y - 2, x + 1, y + 3) > 0 ? 1 : 0;
  EXPECT_GT(covered, static_cast<int>(380 * s) - 2);
}

TEST(Pdf, PagesAreTheSameAfterAnyPageBefore) {
  // The rendering buffer is kept from page to page and only what a page inked is
  // whitened again: no page may show what the one before drew, whatever its size.
  std::string text;
  for (int i = 0; i < 400; ++i) text += "ink everywhere on the page ";
  fixtures::PdfPage narrow, dense, photo, marks, letter, legal, landscape;
  narrow.w_pt = 580;  // a rendering a little smaller than A4's, in the same buffer
  narrow.marks = {{72, 72, 36, 36}};
  dense.text = text;
  dense.marks = {{20, 20, 555, 800}};  // black almost to the edges
  photo.grey_photo = true;
  photo.text = text.substr(0, 2000);
  marks.marks = {{72, 700, 200, 6}};
  letter.w_pt = 612;
  letter.h_pt = 792;
  letter.marks = {{300, 700, 100, 20}};
  legal.w_pt = 612;
  legal.h_pt = 1008;
  legal.text = text.substr(0, 1500);
  landscape.w_pt = 841.89;
  landscape.h_pt = 595.276;
  landscape.marks = {{72, 72, 36, 36}};
  const std::vector<fixtures::PdfPage> pages = {narrow, dense, photo, marks, dense, letter, dense, legal, landscape, marks};
  auto together = convert(fixtures::make_pdf(pages), "all.pdf", fine());
  ASSERT_TRUE(together);
  ASSERT_EQ(together->pages.size(), pages.size());
  for (std::size_t i = 0; i < pages.size(); ++i) {
    auto alone = convert(fixtures::make_pdf({pages[i]}), "one.pdf", fine());
    ASSERT_TRUE(alone);
    const Bitmap& a = together->pages[i];
    const Bitmap& b = alone->pages[0];
    EXPECT_EQ(a.width, b.width) << "page " << i + 1;
    EXPECT_EQ(a.height, b.height) << "page " << i + 1;
    EXPECT_TRUE(a.bits == b.bits) << "page " << i + 1 << " differs from the same page converted alone";
  }
}

TEST(Image, PngMarksAtTheirPhysicalPlace) {
  // 200 dpi, 8.27 x 11.69 in: fits 1:1 (physical size), centered across.
  const int w = 1654, h = 2338;
  auto png = fixtures::make_png(w, h, 200, {{200, 200, 100, 100}, {1200, 2000, 200, 50}});
  auto doc = convert(png, "scan.png", fine());
  ASSERT_TRUE(doc) << doc.error().to_string();
  ASSERT_EQ(doc->pages.size(), 1u);
  const Bitmap& b = doc->pages[0];
  const double s = 204.0 / 200, t = 196.0 / 200, dx = (1728 - w * s) / 2;
  expect_mark(b, dx + 200 * s, 200 * t, dx + 300 * s, 300 * t);
  expect_mark(b, dx + 1200 * s, 2000 * t, dx + 1400 * s, 2050 * t);
}

TEST(Image, ScanGreyPaperBecomesWhite) {
  auto png = fixtures::make_png(1654, 2338, 200, {{300, 300, 600, 40, 30}}, 190);
  auto doc = convert(png, "grey-scan.png", fine());
  ASSERT_TRUE(doc);
  const Bitmap& b = doc->pages[0];
  EXPECT_LT(ink(b, 100, 1000, 1600, 2000), 0.001);  // the paper: white, not dithered
  EXPECT_GT(ink(b, 340, 310, 900, 320), 0.95);      // the dark bar stays black
  auto tiff = write_fax_tiff(*doc);
  EXPECT_LT(tiff->size(), 20000u);  // a few KB of airtime, not hundreds
}

TEST(Image, PhotoIsDitheredNotThresholded) {
  auto jpg = fixtures::make_photo_jpeg(800, 600, 100);
  auto doc = convert(jpg, "photo.jpg", fine());
  ASSERT_TRUE(doc) << doc.error().to_string();
  const Bitmap& b = doc->pages[0];
  // A landscape photo is turned; the whole page area it covers is a halftone.
  const double middle = ink(b, 700, 700, 1000, 1000);
  EXPECT_GT(middle, 0.1);
  EXPECT_LT(middle, 0.9);
}

TEST(Image, MultipageTiffGivesOnePagePerImage) {
  FaxDocument d;
  for (int i = 0; i < 3; ++i) {
    Bitmap b = Bitmap::blank(1728, 2292);
    for (int y = 100 * (i + 1); y < 100 * (i + 1) + 50; ++y)
      for (int x = 100; x < 300; ++x) b.set_black(x, y);
    d.pages.push_back(b);
  }
  auto doc = convert(*write_fax_tiff(d), "fax.tif", fine());
  ASSERT_TRUE(doc) << doc.error().to_string();
  ASSERT_EQ(doc->pages.size(), 3u);
  for (int i = 0; i < 3; ++i) expect_mark(doc->pages[static_cast<std::size_t>(i)], 100, 100 * (i + 1), 300, 100 * (i + 1) + 50);
}

TEST(Text, FormFeedStartsANewPageAndLongLinesWrap) {
  std::string text = "first page\n\fsecond page " + std::string(400, 'x') + "\n";
  auto doc = convert(text, "note.txt", fine());
  ASSERT_TRUE(doc) << doc.error().to_string();
  ASSERT_EQ(doc->pages.size(), 2u);
  const Bitmap& p2 = doc->pages[1];
  // The 400 x's wrap over several lines: ink on at least 4 text lines (~34 rows each).
  int lines_with_ink = 0;
  for (int line = 0; line < 10; ++line) {
    const int y0 = 98 + line * 33;
    lines_with_ink += p2.count_black(0, y0, 1728, y0 + 33) > 0 ? 1 : 0;
  }
  EXPECT_GE(lines_with_ink, 4);
  // Nothing runs past the right margin (15 mm = 120 px).
  EXPECT_EQ(p2.count_black(1728 - 110, 0, 1728, p2.height), 0);
}

TEST(Text, Latin1IsDetectedAndConverted) {
  const std::string latin1 = "Caf\xe9 cr\xe8me, Gr\xf6\xdf" "e und W\xe4rme: d\xe9j\xe0 vu. Le na\xefve gar\xe7on \xe0 la fa\xe7" "ade.\n";
  auto utf8 = text_to_utf8(latin1);
  ASSERT_TRUE(utf8);
  EXPECT_NE(utf8->find("Caf\xc3\xa9"), std::string::npos) << *utf8;
  EXPECT_NE(utf8->find("Gr\xc3\xb6\xc3\x9f"), std::string::npos) << *utf8;
  auto doc = convert(latin1, "latin1.txt", fine());
  ASSERT_TRUE(doc) << doc.error().to_string();
  EXPECT_EQ(doc->pages.size(), 1u);
}

TEST(Detect, TypeComesFromContentNotName) {
  const std::string pdf = fixtures::make_pdf({{}});
  auto d = detect(pdf, "photo.jpg");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, FileType::kPdf);
  auto png = detect(fixtures::make_png(10, 10, 72, {}), "letter.pdf");
  EXPECT_EQ(png->type, FileType::kImage);
  EXPECT_EQ(detect("hello\n", "x.bin")->type, FileType::kText);
}

// Bad input: each a stable code and a sentence for the sender.
TEST(BadInput, EmptyFile) {
  auto e = expect_error(convert("", "empty.pdf", fine()));
  EXPECT_EQ(e.name(), "document.empty");
  EXPECT_FALSE(e.message.empty());
}

TEST(BadInput, TruncatedPdf) {
  fixtures::PdfPage p;
  p.text = fixtures::sample_text(200);
  const std::string pdf = fixtures::make_pdf({p, p});
  auto e = expect_error(convert(pdf.substr(0, pdf.size() / 3), "cut.pdf", fine()));
  EXPECT_EQ(e.name(), "document.corrupt") << e.to_string();
}

TEST(BadInput, EncryptedPdfWithUserPasswordIsRefused) {
  const std::string pdf = fixtures::encrypt_pdf(fixtures::make_pdf({{}}), "secret", "owner");
  auto e = expect_error(convert(pdf, "locked.pdf", fine()));
  EXPECT_EQ(e.name(), "document.encrypted");
  EXPECT_NE(e.message.find("password"), std::string::npos);
}

TEST(BadInput, EncryptedPdfWithoutUserPasswordOpens) {
  fixtures::PdfPage p;
  p.marks = {{72, 72, 36, 36}};
  const std::string pdf = fixtures::encrypt_pdf(fixtures::make_pdf({p}), "", "owner");
  auto doc = convert(pdf, "restricted.pdf", fine());
  ASSERT_TRUE(doc) << doc.error().to_string();
  EXPECT_GT(doc->pages[0].count_black(0, 0, 1728, 400), 1000);
}

TEST(BadInput, PdfOverThePageLimit) {
  auto e = expect_error(convert(fixtures::make_blank_pdf(5000), "manual.pdf", fine()));
  EXPECT_EQ(e.name(), "document.too_large");
}

TEST(BadInput, ZipBombRenamedDocx) {
  // libmagic calls it Word 2007+ (its entry is word/document.xml); the zip's central
  // directory gives it away before anything inflates it.
  auto e = expect_error(convert(fixtures::make_zip_bomb(100), "report.docx", fine()));
  EXPECT_EQ(e.name(), "document.too_large") << e.to_string();
}

TEST(BadInput, HugePngHeader) {
  auto e = expect_error(convert(fixtures::make_png_header(60000, 60000), "huge.png", fine()));
  EXPECT_EQ(e.name(), "document.too_large") << e.to_string();
}

TEST(BadInput, UnknownBinary) {
  std::string junk;
  unsigned s = 7;
  for (int i = 0; i < 4096; ++i) {
    s = s * 1103515245u + 12345u;
    junk += static_cast<char>(s >> 16);
  }
  auto e = expect_error(convert(junk, "data.txt", fine()));
  EXPECT_EQ(e.name(), "document.unsupported_type") << e.to_string();
}

TEST(BadInput, OfficeWithoutLibreOfficeIsUnsupportedNotACrash) {
  // An RTF is an office document: without a converter configured it is refused.
  auto e = expect_error(convert("{\\rtf1\\ansi Hello}", "letter.rtf", fine()));
  EXPECT_EQ(e.name(), "document.unsupported_type");
}

TEST(Image, EveryRasterFormatLeptonicaWritesIsConverted) {
  PIX* pix = pixCreate(300, 400, 32);  // portrait: not turned
  pixSetAllArbitrary(pix, 0xffffff00);  // white (RGBA)
  BOX* box = boxCreate(100, 100, 120, 60);
  pixSetInRectArbitrary(pix, box, 0x20408000);  // a dark blue block
  boxDestroy(&box);
  pixSetResolution(pix, 100, 100);
  // GIF and WebP carry no resolution: those are taken as 200 dpi scans.
  struct Case {
    int format;
    std::string name;
    double dpi;
  };
  for (const auto& [format, name, dpi] : std::vector<Case>{{IFF_BMP, "a.bmp", 100},
                                                            {IFF_PNG, "a.png", 100},
                                                            {IFF_JFIF_JPEG, "a.jpg", 100},
                                                            {IFF_GIF, "a.gif", 200},
                                                            {IFF_WEBP, "a.webp", 200},
                                                            {IFF_TIFF_LZW, "colour.tif", 100}}) {
    l_uint8* data = nullptr;
    size_t size = 0;
    if (pixWriteMem(&data, &size, pix, format) != 0) {
      ADD_FAILURE() << "Leptonica cannot write " << name;
      continue;
    }
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    lept_free(data);
    auto doc = convert(bytes, name, fine());
    ASSERT_TRUE(doc) << name << ": " << doc.error().to_string();
    // At `dpi` the block lands at 204/dpi and 196/dpi of its pixel place, centered.
    const Bitmap& b = doc->pages[0];
    const double s = 204 / dpi, t = 196 / dpi, dx = (1728 - 300 * s) / 2;
    EXPECT_GT(ink(b, static_cast<int>(dx + 105 * s), static_cast<int>(105 * t), static_cast<int>(dx + 215 * s),
                  static_cast<int>(155 * t)),
              0.6)  // dark blue: thresholded black, or a dense halftone
        << name;
  }
  pixDestroy(&pix);
}

TEST(Text, Utf16WithByteOrderMarkIsRead) {
  const std::string utf16le("\xff\xfeH\0e\0l\0l\0o\0 \0\xe9\0\n\0", 18);
  auto utf8 = text_to_utf8(utf16le);
  ASSERT_TRUE(utf8) << utf8.error().to_string();
  EXPECT_EQ(*utf8, "Hello \xc3\xa9\n");
}
