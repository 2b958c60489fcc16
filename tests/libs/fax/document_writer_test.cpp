// FaxDocumentWriter: received pages stored one by one, compressed as asked, numbered n of
// total when the document is finished, and nothing left behind when there is nothing to keep.
#include "faxbridge/fax/document_writer.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "fax_test_support.hpp"

namespace faxbridge::fax {
namespace {

using testing::ScratchDir;

constexpr int kFinePpm = 7700;      // 196 dpi
constexpr int kStandardPpm = 3850;  // 98 dpi
constexpr int kR8Ppm = 8040;        // 204 dpi

// A page with a diagonal band and a box, different per `seed`, 1 = black.
ReceivedPage make_page(int rows, int y_ppm, int seed) {
  ReceivedPage p;
  p.width = 1728;
  p.length = rows;
  p.x_resolution = kR8Ppm;
  p.y_resolution = y_ppm;
  p.far_ident = "+1 555 0100";
  const int row_bytes = p.width / 8;
  p.bits.assign(static_cast<std::size_t>(rows * row_bytes), 0);
  auto set = [&](int x, int y) { p.bits[static_cast<std::size_t>(y * row_bytes + x / 8)] |= 0x80 >> (x % 8); };
  for (int y = 0; y < rows; ++y) {
    for (int x = (y * 3 + seed * 50) % 1600; x < (y * 3 + seed * 50) % 1600 + 40; ++x) set(x, y);
    if (y > 100 + seed && y < 300 + seed) {
      for (int x = 200; x < 400; ++x) set(x, y);
    }
  }
  return p;
}

TEST(FaxDocumentWriter, StoresEachPageWithItsGeometryAndNumbersThemOnFinish) {
  ScratchDir dir;
  auto path = dir.file("doc.tif");
  FaxDocumentWriter w(path, StoreCompression::kT6);
  ASSERT_TRUE(w.add(make_page(2286, kFinePpm, 1)));
  ASSERT_TRUE(w.add(make_page(1143, kStandardPpm, 2)));
  ASSERT_TRUE(w.add(make_page(2286, kFinePpm, 3)));
  EXPECT_FALSE(std::filesystem::exists(path)) << "only the .part file exists before finish";
  ASSERT_TRUE(w.finish());
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));
  auto pages = read_tiff_pages(path);
  ASSERT_TRUE(pages) << pages.error().to_string();
  ASSERT_EQ(pages->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const PageInfo& p = (*pages)[static_cast<std::size_t>(i)];
    EXPECT_EQ(p.width, 1728);
    EXPECT_EQ(p.compression, PageCompression::kT6);
    EXPECT_DOUBLE_EQ(p.x_dpi, 204);
    EXPECT_EQ(p.page_number, i);
    EXPECT_EQ(p.page_total, 3);
  }
  EXPECT_EQ((*pages)[1].length, 1143);
  EXPECT_DOUBLE_EQ((*pages)[1].y_dpi, 98);
  EXPECT_DOUBLE_EQ((*pages)[0].y_dpi, 196);
}

TEST(FaxDocumentWriter, EveryCompressionHoldsTheSamePixels) {
  ScratchDir dir;
  std::vector<std::string> paths;
  for (auto [c, expected] : {std::pair{StoreCompression::kT6, PageCompression::kT6},
                             std::pair{StoreCompression::kT4OneD, PageCompression::kT4OneD},
                             std::pair{StoreCompression::kT4TwoD, PageCompression::kT4TwoD}}) {
    paths.push_back(dir.file("doc-" + std::to_string(paths.size()) + ".tif"));
    FaxDocumentWriter w(paths.back(), c);
    ASSERT_TRUE(w.add(make_page(2286, kFinePpm, 4)));
    ASSERT_TRUE(w.add(make_page(500, kFinePpm, 5)));
    ASSERT_TRUE(w.finish());
    auto pages = read_tiff_pages(paths.back());
    ASSERT_TRUE(pages);
    EXPECT_EQ(pages->front().compression, expected);
  }
  testing::expect_identical_documents(paths[0], paths[1]);
  testing::expect_identical_documents(paths[0], paths[2]);
  // ...and not the same pixels as a document with other pages (the comparison can fail).
  auto other = dir.file("other.tif");
  FaxDocumentWriter w(other, StoreCompression::kT6);
  ASSERT_TRUE(w.add(make_page(2286, kFinePpm, 9)));
  ASSERT_TRUE(w.add(make_page(500, kFinePpm, 5)));
  ASSERT_TRUE(w.finish());
  auto diff = compare_tiff_documents(paths[0], other);
  ASSERT_TRUE(diff);
  EXPECT_FALSE(diff->identical());
  EXPECT_GT(diff->pages.at(0).differing_rows, 0);
  EXPECT_EQ(diff->pages.at(1).differing_rows, 0);
}

TEST(FaxDocumentWriter, WithoutPagesWritesNothing) {
  ScratchDir dir;
  auto path = dir.file("none.tif");
  FaxDocumentWriter w(path, StoreCompression::kT6);
  ASSERT_TRUE(w.finish());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));
}

TEST(FaxDocumentWriter, AnUnfinishedDocumentIsRemoved) {
  ScratchDir dir;
  auto path = dir.file("dropped.tif");
  {
    FaxDocumentWriter w(path, StoreCompression::kT6);
    ASSERT_TRUE(w.add(make_page(300, kFinePpm, 1)));
    EXPECT_TRUE(std::filesystem::exists(path + ".part"));
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(FaxDocumentWriter, RefusesAPageOfTheWrongSizeAndAnUnwritablePlace) {
  ScratchDir dir;
  FaxDocumentWriter w(dir.file("bad.tif"), StoreCompression::kT6);
  ReceivedPage short_page = make_page(300, kFinePpm, 1);
  short_page.bits.resize(short_page.bits.size() - 1);
  auto r = w.add(short_page);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_fax_file_error);
  FaxDocumentWriter empty_page(dir.file("empty.tif"), StoreCompression::kT6);
  EXPECT_FALSE(empty_page.add(ReceivedPage{}));

  FaxDocumentWriter nowhere(dir.file("missing-dir/doc.tif"), StoreCompression::kT6);
  auto r2 = nowhere.add(make_page(300, kFinePpm, 1));
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, Code::k_fax_file_error);
}

TEST(FaxDocumentWriter, AfterAFailedPageNothingIsKept) {
  ScratchDir dir;
  auto path = dir.file("gap.tif");
  FaxDocumentWriter w(path, StoreCompression::kT6);
  ASSERT_TRUE(w.add(make_page(300, kFinePpm, 1)));
  ReceivedPage broken = make_page(300, kFinePpm, 2);
  broken.bits.pop_back();
  ASSERT_FALSE(w.add(broken));
  // A later good page does not start a document with the first two pages missing.
  auto later = w.add(make_page(300, kFinePpm, 3));
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, Code::k_fax_file_error);
  EXPECT_FALSE(w.finish());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));
}

}  // namespace
}  // namespace faxbridge::fax
