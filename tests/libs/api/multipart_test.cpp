#include "faxbridge/api/multipart.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <unistd.h>

using namespace faxbridge;

namespace {
// A sink that keeps the bytes, to check what arrived.
class MemorySink final : public api::FileSink {
 public:
  explicit MemorySink(std::string* out, bool* finished) : out_(out), finished_(finished) {}
  Result<void> write(const char* data, std::size_t size) override {
    out_->append(data, size);
    return ok();
  }
  Result<void> finish() override {
    *finished_ = true;
    return ok();
  }

 private:
  std::string* out_;
  bool* finished_;
};

struct Captured {
  std::string bytes;
  bool finished = false;
};

api::SinkFactory into(Captured& c) {
  return [&c](const api::PartInfo&) -> Result<std::unique_ptr<api::FileSink>> {
    return std::unique_ptr<api::FileSink>(new MemorySink(&c.bytes, &c.finished));
  };
}

void feed(api::MultipartCollector& m, const std::string& s) {
  // In small pieces, as a socket delivers them.
  for (std::size_t i = 0; i < s.size(); i += 3) ASSERT_TRUE(m.part_data(s.data() + i, std::min<std::size_t>(3, s.size() - i)));
}
}  // namespace

TEST(MultipartCollector, KeepsFieldsInMemoryAndStreamsFilesToTheirSink) {
  Captured file;
  api::MultipartCollector m({}, into(file));
  ASSERT_TRUE(m.begin_part({"to", "", ""}));
  feed(m, "+3902123");
  ASSERT_TRUE(m.begin_part({"document", "a.pdf", "application/pdf"}));
  feed(m, "%PDF-1.4 pages");
  EXPECT_FALSE(file.finished);  // the part ends when the next begins or the body ends
  ASSERT_TRUE(m.begin_part({"subject", "", ""}));
  EXPECT_TRUE(file.finished);
  feed(m, "hello");
  auto form = m.finish(true);
  ASSERT_TRUE(form) << form.problem().detail;
  ASSERT_EQ(form->fields.size(), 2u);
  EXPECT_EQ(*form->field("to"), "+3902123");
  EXPECT_EQ(*form->field("subject"), "hello");
  EXPECT_EQ(form->field("none"), nullptr);
  ASSERT_EQ(form->files.size(), 1u);
  EXPECT_EQ(form->files[0].info.filename, "a.pdf");
  EXPECT_EQ(form->files[0].size, 14u);
  EXPECT_EQ(file.bytes, "%PDF-1.4 pages");
}

TEST(MultipartCollector, AFileOverItsLimitStopsTheUploadWith413) {
  Captured file;
  api::MultipartCollector m({.max_file_bytes = 10}, into(file));
  ASSERT_TRUE(m.begin_part({"document", "big.pdf", ""}));
  EXPECT_TRUE(m.part_data("0123456789", 10));
  EXPECT_FALSE(m.part_data("x", 1));
  auto form = m.finish(false);
  ASSERT_FALSE(form);
  EXPECT_EQ(form.problem().status(), 413);
  EXPECT_NE(form.problem().detail.find("big.pdf"), std::string::npos);
}

TEST(MultipartCollector, FieldAndPartCountLimits) {
  {
    api::MultipartCollector m({.max_field_bytes = 4}, nullptr);
    ASSERT_TRUE(m.begin_part({"note", "", ""}));
    EXPECT_FALSE(m.part_data("12345", 5));
    EXPECT_EQ(m.problem()->code, Code::k_api_body_too_large);
  }
  {
    api::MultipartCollector m({.max_parts = 2}, nullptr);
    EXPECT_TRUE(m.begin_part({"a", "", ""}));
    EXPECT_TRUE(m.begin_part({"b", "", ""}));
    EXPECT_FALSE(m.begin_part({"c", "", ""}));
    auto form = m.finish(true);
    ASSERT_FALSE(form);
    EXPECT_EQ(form.problem().status(), 413);
    EXPECT_NE(form.problem().detail.find("more than 2 parts"), std::string::npos);
  }
}

TEST(MultipartCollector, ATruncatedBodyIsA400) {
  api::MultipartCollector m({}, nullptr);
  ASSERT_TRUE(m.begin_part({"to", "", ""}));
  feed(m, "+39");
  auto form = m.finish(/*parser_complete=*/false);
  ASSERT_FALSE(form);
  EXPECT_EQ(form.problem().code, Code::k_api_multipart_invalid);
  EXPECT_EQ(form.problem().status(), 400);
}

TEST(MultipartCollector, APartWithoutANameOrAFileWhereNoneIsTakenIsRefused) {
  api::MultipartCollector unnamed({}, nullptr);
  EXPECT_FALSE(unnamed.begin_part({"", "", ""}));
  EXPECT_EQ(unnamed.problem()->code, Code::k_api_multipart_invalid);
  api::MultipartCollector no_files({}, nullptr);
  EXPECT_FALSE(no_files.begin_part({"doc", "a.pdf", ""}));
  EXPECT_EQ(no_files.problem()->code, Code::k_api_multipart_invalid);
}

TEST(MultipartCollector, TheSinkFactoryCanRefuseAPartWithItsOwnCode) {
  api::MultipartCollector m({}, [](const api::PartInfo& info) -> Result<std::unique_ptr<api::FileSink>> {
    return Error(Code::k_document_unsupported_type, "Cannot fax " + info.filename + ".");
  });
  EXPECT_FALSE(m.begin_part({"doc", "a.exe", ""}));
  auto form = m.finish(true);
  ASSERT_FALSE(form);
  EXPECT_EQ(form.problem().code, Code::k_document_unsupported_type);
  EXPECT_EQ(form.problem().status(), 400);
}

TEST(TempFileSink, WritesAFileThatIsRemovedUnlessKept) {
  std::string kept_path, dropped_path;
  {
    auto kept = api::TempFileSink::create(::testing::TempDir());
    ASSERT_TRUE(kept) << kept.error().to_string();
    ASSERT_TRUE((*kept)->write("abc", 3));
    ASSERT_TRUE((*kept)->finish());
    (*kept)->keep();
    kept_path = (*kept)->path();
    auto dropped = api::TempFileSink::create(::testing::TempDir());
    ASSERT_TRUE(dropped);
    dropped_path = (*dropped)->path();
  }
  std::ifstream in(kept_path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "abc");
  EXPECT_NE(::access(dropped_path.c_str(), F_OK), 0);
  ::unlink(kept_path.c_str());
  EXPECT_FALSE(api::TempFileSink::create("/nonexistent/dir"));
}
