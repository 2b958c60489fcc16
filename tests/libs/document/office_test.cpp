// Office documents through LibreOffice: inputs made by LibreOffice itself at test time
// (doc, docx, rtf, odt from text; xls, xlsx, ods from CSV; pptx from a flat ODF
// presentation written here), each converted by the pipeline and checked for its page
// count and a known word read back by OCR. The kept-running instance: reused by the
// next document, started again after it was killed (whole or only LibreOffice) and
// after a timeout; the time limit and the zip bomb refused before LibreOffice sees it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "faxbridge/document/convert.hpp"
#include "faxbridge/document/office.hpp"
#include "faxbridge/document/pipeline.hpp"
#include "faxbridge/document/tiff.hpp"
#include "faxbridge/testing/process.hpp"
#include "fixtures.hpp"

using namespace faxbridge;
using namespace faxbridge::document;
namespace fs = std::filesystem;

namespace {

// A word Tesseract reads reliably and no template or header prints.
constexpr const char* kKnownWord = "Zanzibar";

// The page turned a quarter (clockwise or not), pixels kept square for OCR: fine
// rows are about as tall as columns are wide.
Bitmap quarter_turned(const Bitmap& b, bool clockwise) {
  Bitmap out = Bitmap::blank(b.height, b.width);
  for (int y = 0; y < b.height; ++y)
    for (int x = 0; x < b.width; ++x)
      if (b.black(x, y)) out.set_black(clockwise ? b.height - 1 - y : y, clockwise ? x : b.width - 1 - x);
  return out;
}

class Office : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("faxbridge-office-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  // Makes `<stem>.<to>` from a source file with LibreOffice's own converter.
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

  static std::string letter_text() {
    return std::string("Dear customer,\n\nThe shipment to ") + kKnownWord + " left the warehouse today.\n\n" +
           fixtures::sample_text(60) + "\n";
  }
  static std::string sheet_csv() {
    return std::string("item,quantity,destination\nscrews,100,") + kKnownWord + "\nnuts,250," + kKnownWord + "\n";
  }
  // One slide, the known word in large type: a flat ODF presentation (plain XML).
  static std::string slide_fodp() {
    return std::string(R"(<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.presentation">
 <office:automatic-styles>
  <style:style style:name="big" style:family="text"><style:text-properties fo:font-size="40pt"/></style:style>
  <style:style style:name="plain" style:family="graphic">
   <style:graphic-properties draw:fill="none" draw:stroke="none"/></style:style>
 </office:automatic-styles>
 <office:body><office:presentation>
  <draw:page draw:name="one">
   <draw:frame draw:style-name="plain" svg:x="2cm" svg:y="4cm" svg:width="22cm" svg:height="6cm">
    <draw:text-box><text:p><text:span text:style-name="big">Trip to )") +
           kKnownWord + R"(</text:span></text:p></draw:text-box>
   </draw:frame>
  </draw:page>
 </office:presentation></office:body>
</office:document>
)";
  }

  static PipelineSettings settings(int timeout_ms = 120000) {
    PipelineSettings ps;
    OfficeSettings os;
    os.work_dir = (dir_ / "converter").string();
    os.timeout_ms = timeout_ms;
    os.max_concurrent = 1;
    ps.office = os;
    return ps;
  }

  // Converts one office document and expects `pages` fax pages, the known word on one.
  static void expect_converted(Pipeline& pipeline, const std::string& bytes, const std::string& name, int pages) {
    ASSERT_FALSE(bytes.empty()) << name << " was not made";
    auto d = detect(bytes, name);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->type, FileType::kOffice) << name << " detected as " << d->media_type;
    auto tiff = pipeline.convert_one({bytes, name}, Resolution::kFine);
    ASSERT_TRUE(tiff) << name << ": " << tiff.error().to_string();
    auto doc = read_fax_tiff(*tiff);
    ASSERT_TRUE(doc);
    EXPECT_EQ(static_cast<int>(doc->pages.size()), pages) << name;
    bool found = false;
    for (const auto& p : doc->pages) {
      // Landscape pages (slides, wide sheets) come turned a quarter: read them both ways.
      for (const Bitmap& page : {p, quarter_turned(p, true), quarter_turned(p, false)}) {
        const auto words = fixtures::ocr_words(page, Resolution::kFine);
        found = found || std::find(words.begin(), words.end(), "zanzibar") != words.end();
        if (found) break;
      }
    }
    EXPECT_TRUE(found) << name << ": \"" << kKnownWord << "\" not read on any page";
  }

  static fs::path dir_;
};
fs::path Office::dir_;

// The processes of a process group other than its leader (LibreOffice, under the
// worker that leads the group).
std::vector<pid_t> group_members_but_leader(pid_t group) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pgrp == group && pid != group && state != "Z") out.push_back(pid);
  }
  return out;
}

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

TEST_F(Office, TextFormatsDocRtfOdtBecomeReadablePages) {
  Pipeline pipeline(settings());
  expect_converted(pipeline, made_by_libreoffice("letter-doc.txt", letter_text(), "doc"), "letter.doc", 1);
  expect_converted(pipeline, made_by_libreoffice("letter-rtf.txt", letter_text(), "rtf"), "letter.rtf", 1);
  expect_converted(pipeline, made_by_libreoffice("letter-odt.txt", letter_text(), "odt"), "letter.odt", 1);
}

TEST_F(Office, SpreadsheetsXlsOdsAndPresentationPptxBecomeReadablePages) {
  Pipeline pipeline(settings());
  expect_converted(pipeline, made_by_libreoffice("sheet-xls.csv", sheet_csv(), "xls"), "sheet.xls", 1);
  expect_converted(pipeline, made_by_libreoffice("sheet-ods.csv", sheet_csv(), "ods"), "sheet.ods", 1);
  expect_converted(pipeline, made_by_libreoffice("slides.fodp", slide_fodp(), "pptx"), "slides.pptx", 1);
}

TEST_F(Office, TheInstanceIsKeptForTheNextDocumentAndRestartedWhenKilled) {
  const std::string docx = made_by_libreoffice("kept.txt", letter_text(), "docx");
  OfficeSettings os = *settings().office;
  OfficeConverter office(os);
  EXPECT_EQ(office.instance_pid(0), -1);
  ASSERT_TRUE(office.to_pdf(docx, "a.docx"));
  const int first = office.instance_pid(0);
  ASSERT_GT(first, 0);
  ASSERT_TRUE(office.to_pdf(docx, "b.docx"));
  EXPECT_EQ(office.instance_pid(0), first) << "the second document started a new LibreOffice";

  // LibreOffice alone dies (the worker answers "gone"): the next document still works.
  const auto members = group_members_but_leader(first);
  ASSERT_FALSE(members.empty());
  for (pid_t p : members) kill(p, SIGKILL);
  auto after_office_died = office.to_pdf(docx, "c.docx");
  ASSERT_TRUE(after_office_died) << after_office_died.error().to_string();
  const int second = office.instance_pid(0);
  EXPECT_NE(second, first);

  // The whole instance is killed: the next document starts another.
  kill(-second, SIGKILL);
  auto after_all_died = office.to_pdf(docx, "d.docx");
  ASSERT_TRUE(after_all_died) << after_all_died.error().to_string();
  EXPECT_NE(office.instance_pid(0), second);
  EXPECT_NE(office.instance_pid(0), -1);
}

TEST_F(Office, StoppingTheConverterStopsItsInstances) {
  const std::string docx = made_by_libreoffice("stop.txt", "stop\n", "docx");
  int group = -1;
  {
    OfficeConverter office(*settings().office);
    ASSERT_TRUE(office.to_pdf(docx, "a.docx"));
    group = office.instance_pid(0);
    ASSERT_GT(group, 0);
  }
  EXPECT_TRUE(faxbridge::testing::eventually([&] { return group_members_but_leader(group).empty(); }))
      << "LibreOffice outlived its converter";
}

TEST_F(Office, ConversionOverItsTimeLimitIsATimeoutAndKillsTheInstance) {
  const std::string docx = made_by_libreoffice("short.txt", "hello\n", "docx");
  Pipeline pipeline(settings(50));
  auto r = pipeline.convert_one({docx, "short.docx"}, Resolution::kFine);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.timeout");
  OfficeConverter office(*settings(50).office);
  auto again = office.to_pdf(docx, "short.docx");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().name(), "document.timeout");
  EXPECT_EQ(office.instance_pid(0), -1) << "the instance that ran out of time is still kept";
}

TEST_F(Office, ColdModeStartsLibreOfficePerDocument) {
  const std::string docx = made_by_libreoffice("cold.txt", letter_text(), "docx");
  OfficeSettings os = *settings().office;
  os.keep_running = false;
  OfficeConverter office(os);
  auto pdf = office.to_pdf(docx, "cold.docx");
  ASSERT_TRUE(pdf) << pdf.error().to_string();
  EXPECT_EQ(pdf->rfind("%PDF", 0), 0u);
  EXPECT_EQ(office.instance_pid(0), -1);
}

TEST_F(Office, WithoutTheUnoBridgeTheOfficeIsUnavailable) {
  const std::string docx = made_by_libreoffice("nouno.txt", "hello\n", "docx");
  OfficeSettings os = *settings().office;
  os.python = "/bin/false";
  OfficeConverter office(os);
  auto r = office.to_pdf(docx, "a.docx");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.office_unavailable");
}

TEST_F(Office, ZipBombNamedDocxNeverReachesLibreOffice) {
  Pipeline pipeline(settings());
  auto r = pipeline.convert_one({fixtures::make_zip_bomb(100), "report.docx"}, Resolution::kFine);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.too_large") << r.error().to_string();
}
