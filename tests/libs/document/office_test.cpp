// Office documents through LibreOffice: inputs made by LibreOffice itself at test time
// (a .docx from text, an .xlsx from CSV), converted by the pipeline; the time limit
// and the zip bomb refused before LibreOffice ever sees it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "faxbridge/document/convert.hpp"
#include "faxbridge/document/pipeline.hpp"
#include "faxbridge/document/tiff.hpp"
#include "fixtures.hpp"

using namespace faxbridge;
using namespace faxbridge::document;
namespace fs = std::filesystem;

namespace {

class Office : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("faxbridge-office-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  // Makes `name` from a source file with LibreOffice's own converter.
  static std::string made_by_libreoffice(const std::string& source_name, const std::string& source, const std::string& to) {
    std::ofstream(dir_ / source_name) << source;
    const std::string cmd = "soffice -env:UserInstallation=file://" + (dir_ / "maker-profile").string() +
                            " --headless --norestore --convert-to " + to + " --outdir " + dir_.string() + " " +
                            (dir_ / source_name).string() + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    const auto out = dir_ / (fs::path(source_name).stem().string() + "." + to);
    std::ifstream f(out, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  static PipelineSettings settings(int timeout_ms = 120000) {
    PipelineSettings ps;
    OfficeSettings os;
    os.work_dir = (dir_ / "converter").string();
    os.timeout_ms = timeout_ms;
    ps.office = os;
    return ps;
  }

  static fs::path dir_;
};
fs::path Office::dir_;

}  // namespace

TEST_F(Office, DocxAndXlsxBecomeFaxPages) {
  const std::string docx = made_by_libreoffice("letter.txt", fixtures::sample_text(120), "docx");
  ASSERT_FALSE(docx.empty());
  EXPECT_EQ(detect(docx, "letter.docx")->type, FileType::kOffice);
  const std::string xlsx = made_by_libreoffice("sheet.csv", "item,quantity,price\nscrews,100,4.20\nnuts,250,3.10\n", "xlsx");
  ASSERT_FALSE(xlsx.empty());
  EXPECT_EQ(detect(xlsx, "sheet.xlsx")->type, FileType::kOffice);

  Pipeline pipeline(settings());
  JobSpec job;
  job.documents = {{docx, "letter.docx"}, {xlsx, "sheet.xlsx"}};
  auto r = pipeline.run(job);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->page_count, 2);
  auto doc = read_fax_tiff(r->tiff);
  ASSERT_TRUE(doc);
  for (const auto& p : doc->pages) {
    EXPECT_EQ(p.width, 1728);
    EXPECT_GT(p.count_black(0, 0, 1728, 800), 2000);  // the text / the table is there
  }
}

TEST_F(Office, ConversionOverItsTimeLimitIsATimeout) {
  const std::string docx = made_by_libreoffice("short.txt", "hello\n", "docx");
  Pipeline pipeline(settings(50));
  auto r = pipeline.convert_one({docx, "short.docx"}, Resolution::kFine);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.timeout");
}

TEST_F(Office, ZipBombNamedDocxNeverReachesLibreOffice) {
  Pipeline pipeline(settings());
  auto r = pipeline.convert_one({fixtures::make_zip_bomb(100), "report.docx"}, Resolution::kFine);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.too_large") << r.error().to_string();
}
