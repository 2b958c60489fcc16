// The pure parts of an upload's check: what counts as a file lying about its type, the
// PDF page count read without parsing, file names, and RFC 3339 times.
#include "uploads.hpp"

#include <gtest/gtest.h>

#include "fax_submit.hpp"

namespace faxbridge::webapi {
namespace {

using document::Detected;
using document::FileType;
using Kind = TypeVerdict::Kind;

Kind judge(FileType t, const std::string& media, const std::string& declared, const std::string& name) {
  return judge_type(Detected{t, media}, declared, name).kind;
}

TEST(JudgeType, AGenericTypeAndAnUnknownExtensionClaimNothing) {
  EXPECT_EQ(judge(FileType::kPdf, "application/pdf", "application/octet-stream", "scan"), Kind::kOk);
  EXPECT_EQ(judge(FileType::kPdf, "application/pdf", "", "scan.final"), Kind::kOk);
  EXPECT_EQ(judge(FileType::kPdf, "application/pdf", "application/pdf; name=x", "x.PDF"), Kind::kOk);
  EXPECT_EQ(judge(FileType::kImage, "image/jpeg", "image/jpg", "photo.jpeg"), Kind::kOk) << "same family";
  EXPECT_EQ(judge(FileType::kText, "text/plain", "text/csv", "list.csv"), Kind::kOk);
  EXPECT_EQ(judge(FileType::kOffice, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a.docx"),
            Kind::kOk);
}

TEST(JudgeType, BytesThatAreNotWhatTheTypeOrNameSaysAreAMismatch) {
  EXPECT_EQ(judge(FileType::kText, "text/plain", "application/pdf", "a.pdf"), Kind::kMismatch);
  EXPECT_EQ(judge(FileType::kPdf, "application/pdf", "image/png", "a"), Kind::kMismatch);
  EXPECT_EQ(judge(FileType::kPdf, "application/pdf", "application/zip", "a"), Kind::kMismatch);
  EXPECT_EQ(judge(FileType::kPdf, "application/pdf", "", "a.tiff"), Kind::kMismatch);
  EXPECT_EQ(judge(FileType::kUnknown, "application/x-dosexec", "application/octet-stream", "invoice.pdf"),
            Kind::kMismatch);
  EXPECT_EQ(judge(FileType::kUnknown, "application/x-dosexec", "application/pdf", "invoice"), Kind::kMismatch);
}

TEST(JudgeType, UnsupportedBytesCalledWhatTheyAreAreUnsupported) {
  EXPECT_EQ(judge(FileType::kUnknown, "application/zip", "application/zip", "a.zip"), Kind::kUnsupported);
  EXPECT_EQ(judge(FileType::kUnknown, "text/html", "text/html", "a.html"), Kind::kUnsupported);
  EXPECT_EQ(judge(FileType::kUnknown, "application/x-dosexec", "application/octet-stream", "tool.exe"),
            Kind::kUnsupported);
  EXPECT_EQ(judge(FileType::kEmpty, "application/x-empty", "application/pdf", "a.pdf"), Kind::kEmpty);
}

TEST(PdfPageCount, ReadsTheRootPageTreeCount) {
  const std::string pdf =
      "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R /Outlines 9 0 R >> endobj\n"
      "2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 12 >> endobj\n"
      "3 0 obj << /Type /Pages /Parent 2 0 R /Count 5 >> endobj\n"
      "9 0 obj << /Type /Outlines /Count 40 >> endobj\n%%EOF\n";
  EXPECT_EQ(pdf_page_count(pdf), 12) << "the outline's /Count is not pages";
  EXPECT_EQ(pdf_page_count("%PDF-1.5\n1 0 obj << /Type /ObjStm /N 3 >> stream ... /Count 4"), std::nullopt);
  EXPECT_EQ(pdf_page_count("not a pdf /Type /Pages /Count 3"), std::nullopt);
  EXPECT_EQ(pdf_page_count("%PDF-1.4\n<< /Type/Pages /Count 3 >>"), 3);
}

TEST(CleanFilename, KeepsTheNameOnly) {
  EXPECT_EQ(clean_filename("../../etc/passwd"), "passwd");
  EXPECT_EQ(clean_filename("C:\\Users\\a\\Letter.pdf"), "Letter.pdf");
  EXPECT_EQ(clean_filename("a\r\nb.pdf"), "ab.pdf");
  EXPECT_EQ(clean_filename(".."), "");
  EXPECT_EQ(clean_filename(std::string(300, 'x')).size(), 255u);
  EXPECT_EQ(clean_filename(std::string(254, 'x') + "\xc3\xa9").size(), 254u) << "never half a character";
}

TEST(ParseDateTime, TakesRfc3339WithAZone) {
  const auto t = parse_date_time("2026-12-01T09:30:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, utc_time(2026, 12, 1, 9, 30, 0));
  EXPECT_EQ(parse_date_time("2026-12-01T10:30:00+01:00"), t);
  EXPECT_EQ(parse_date_time("2026-12-01T04:00:00-05:30"), t);
  EXPECT_EQ(*parse_date_time("2026-12-01T09:30:00.250Z") - *t, std::chrono::milliseconds(250));
  for (const char* bad : {"2026-12-01", "2026-12-01T09:30:00", "2026-02-30T00:00:00Z", "2026-12-01 09:30:00Z",
                          "2026-12-01T25:00:00Z", "9999-01-01T00:00:00Z", "2026-12-01T09:30:00Zjunk",
                          "2026-12-01T09:30:00+0100"}) {
    EXPECT_FALSE(parse_date_time(bad)) << bad;
  }
}

}  // namespace
}  // namespace faxbridge::webapi
