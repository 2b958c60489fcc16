// `faxbridge convert`: files in, a TIFF Class F (or PDF) out, errors with their code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "commands.hpp"
#include "faxbridge/document/tiff.hpp"

using namespace faxbridge;

namespace {
std::string temp_file(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() / ("faxbridge-convert-test-" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}
std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

TEST(ConvertCommand, TextWithCoverAndHeaderMakesAStandardTiff) {
  cli::ConvertArgs a;
  a.inputs = {temp_file("a.txt", "one\n\ftwo\n")};
  a.output = temp_file("out.tif", "");
  a.cover = "default";
  a.fields = {"subject=Test", "reference=2026.00000007"};
  a.header = true;
  a.standard = true;
  a.office = false;
  std::ostringstream out, err;
  ASSERT_EQ(cli::convert(a, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("3 pages"), std::string::npos) << out.str();
  auto info = document::inspect_tiff(slurp(a.output));
  ASSERT_TRUE(info);
  ASSERT_EQ(info->size(), 3u);
  EXPECT_FLOAT_EQ((*info)[0].y_dpi, 98);
}

TEST(ConvertCommand, PdfOutputAndBadInputCodes) {
  cli::ConvertArgs a;
  a.inputs = {temp_file("b.txt", "hello\n")};
  a.output = temp_file("out.pdf", "");
  a.office = false;
  std::ostringstream out, err;
  ASSERT_EQ(cli::convert(a, out, err), 0) << err.str();
  EXPECT_EQ(slurp(a.output).rfind("%PDF-", 0), 0u);

  a.inputs = {temp_file("empty.pdf", "")};
  std::ostringstream out2, err2;
  EXPECT_EQ(cli::convert(a, out2, err2), 2);
  EXPECT_NE(err2.str().find("[document.empty]"), std::string::npos) << err2.str();

  a.fields = {"novalue"};
  std::ostringstream out3, err3;
  EXPECT_EQ(cli::convert(a, out3, err3), 2);
}
