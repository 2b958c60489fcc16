// Our Group 4 encoder (libs/document/src/g4.cpp) against libtiff's: for every page the
// strip must be the same bytes libtiff's own encoder writes, and libtiff's decoder
// must give back the same pixels. Pages: noise of several densities, runs of every
// length in both colours (each terminating and make-up code), whole black and white
// rows, a width past 2560 (the shared make-up codes), odd widths, a rendered text page.
#include <gtest/gtest.h>
#include <tiffio.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "faxbridge/document/convert.hpp"
#include "faxbridge/document/tiff.hpp"
#include "fixtures.hpp"

using namespace faxbridge::document;

namespace {

// The page's strip as libtiff's Fax4 encoder writes it (FillOrder 2, as ours).
std::vector<std::uint8_t> libtiff_strip(const Bitmap& page) {
  char path[] = "/tmp/faxbridge-g4-XXXXXX.tif";
  close(mkstemps(path, 4));
  TIFF* t = TIFFOpen(path, "w");
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(page.width));
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(page.height));
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
  TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
  TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, static_cast<uint32_t>(page.height));
  std::vector<std::uint8_t> copy(page.bits);
  TIFFWriteEncodedStrip(t, 0, copy.data(), static_cast<tmsize_t>(copy.size()));
  TIFFClose(t);
  t = TIFFOpen(path, "r");
  std::vector<std::uint8_t> strip(static_cast<std::size_t>(TIFFRawStripSize(t, 0)));
  TIFFReadRawStrip(t, 0, strip.data(), static_cast<tmsize_t>(strip.size()));
  TIFFClose(t);
  std::filesystem::remove(path);
  return strip;
}

// Our strip, from the TIFF write_fax_tiff made.
std::vector<std::uint8_t> our_strip(const std::string& tiff) {
  char path[] = "/tmp/faxbridge-g4-XXXXXX.tif";
  const int fd = mkstemps(path, 4);
  EXPECT_EQ(write(fd, tiff.data(), tiff.size()), static_cast<ssize_t>(tiff.size()));
  close(fd);
  TIFF* t = TIFFOpen(path, "r");
  std::vector<std::uint8_t> strip(static_cast<std::size_t>(TIFFRawStripSize(t, 0)));
  TIFFReadRawStrip(t, 0, strip.data(), static_cast<tmsize_t>(strip.size()));
  TIFFClose(t);
  std::filesystem::remove(path);
  return strip;
}

// Index of the first byte that differs (or the shorter size), -1 when equal.
long first_difference(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  const auto n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return static_cast<long>(i);
  return a.size() == b.size() ? -1 : static_cast<long>(n);
}

void expect_same_as_libtiff(const Bitmap& page, const char* what) {
  FaxDocument doc;
  doc.pages.push_back(page);
  auto tiff = write_fax_tiff(doc);
  ASSERT_TRUE(tiff) << what;
  const auto ours = our_strip(*tiff), theirs = libtiff_strip(page);
  EXPECT_EQ(first_difference(ours, theirs), -1) << what << ": not the bytes libtiff writes (" << ours.size()
                                                << " vs " << theirs.size() << " bytes)";
  auto back = read_fax_tiff(*tiff);
  ASSERT_TRUE(back) << what << ": " << back.error().to_string();
  ASSERT_EQ(back->pages.size(), 1u);
  const auto diff = first_difference(back->pages[0].bits, page.bits);
  EXPECT_EQ(diff, -1) << what << ": libtiff decodes other pixels from row " << diff / page.stride;
}

Bitmap noise(int width, int height, double density, unsigned seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution black(density);
  Bitmap b = Bitmap::blank(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      if (black(rng)) b.set_black(x, y);
  return b;
}

// Rows of alternating runs; lengths cycle through every value up to `longest`.
Bitmap runs(int width, int height, int longest) {
  Bitmap b = Bitmap::blank(width, height);
  int length = 0, color = 0;
  for (int y = 0; y < height; ++y) {
    int x = 0;
    // Every other row starts a little further on, so vertical, pass and horizontal
    // modes all occur against the row above.
    if (y % 2) x = y % 7;
    while (x < width) {
      const int n = std::min(width - x, length);
      if (color)
        for (int i = 0; i < n; ++i) b.set_black(x + i, y);
      x += n;
      color ^= 1;
      length = (length + 1) % (longest + 1);
    }
  }
  return b;
}

}  // namespace

TEST(G4, NoiseOfEveryDensityIsEncodedAsLibtiffDoes) {
  expect_same_as_libtiff(noise(1728, 120, 0.5, 1), "noise 50%");
  expect_same_as_libtiff(noise(1728, 120, 0.05, 2), "noise 5%");
  expect_same_as_libtiff(noise(1728, 120, 0.97, 3), "noise 97%");
}

TEST(G4, RunsOfEveryLengthInBothColours) {
  expect_same_as_libtiff(runs(1728, 400, 1728), "runs up to 1728");
  expect_same_as_libtiff(runs(1728, 400, 70), "short runs");
}

TEST(G4, WholeRowsAndBlankPages) {
  expect_same_as_libtiff(Bitmap::blank(1728, 2292), "blank page");
  Bitmap black = Bitmap::blank(1728, 50);
  for (auto& byte : black.bits) byte = 0xff;
  expect_same_as_libtiff(black, "black page");
  Bitmap stripes = Bitmap::blank(1728, 60);
  for (int y = 0; y < 60; y += 3)
    for (int x = 0; x < 1728; ++x) stripes.set_black(x, y);
  expect_same_as_libtiff(stripes, "black rows between white ones");
}

TEST(G4, WidthsPastTheLongestMakeupCodeAndOddWidths) {
  Bitmap wide = Bitmap::blank(6000, 6);
  for (int x = 0; x < 6000; ++x) wide.set_black(x, 1);
  for (int x = 100; x < 5900; ++x) wide.set_black(x, 3);
  expect_same_as_libtiff(wide, "6000 px wide");
  expect_same_as_libtiff(noise(1001, 40, 0.3, 4), "1001 px wide");
  expect_same_as_libtiff(runs(77, 40, 77), "77 px wide");
}

TEST(G4, RenderedTextPage) {
  fixtures::PdfPage page;
  page.text = fixtures::sample_text(300);
  page.grey_photo = true;
  auto doc = convert(fixtures::make_pdf({page}), "text.pdf", {});
  ASSERT_TRUE(doc) << doc.error().to_string();
  expect_same_as_libtiff(doc->pages[0], "text and photo page");
}
