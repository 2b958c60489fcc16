#pragma once
// Shared by the fax tests: a scratch directory per test and a generated document.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "faxbridge/fax/session.hpp"
#include "faxbridge/fax/tiff_pages.hpp"

namespace faxbridge::fax::testing {

class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "fax";
    for (auto& c : name) {
      if (c == '/') c = '_';
    }
    path_ = std::filesystem::temp_directory_path() /
            ("faxbridge-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string make_document(const ScratchDir& dir, int pages, TestResolution res,
                                 std::uint32_t seed = 7, int rows = 0) {
  std::string path = dir.file("in.tif");
  TestDocumentSpec spec;
  spec.pages = pages;
  spec.resolution = res;
  spec.seed = seed;
  spec.rows = rows;
  auto r = write_test_document(path, spec);
  EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
  return path;
}

// The two ends of a test call: the sender of `tiff` and the receiver into `tiff`.
inline SessionOptions send_options(const std::string& tiff, std::string ident = "") {
  SessionOptions o;
  o.direction = Direction::kSend;
  o.tiff_path = tiff;
  o.local_ident = std::move(ident);
  o.call_id = "tx";
  return o;
}

inline SessionOptions receive_options(const std::string& tiff, std::string ident = "") {
  SessionOptions o;
  o.direction = Direction::kReceive;
  o.tiff_path = tiff;
  o.local_ident = std::move(ident);
  o.call_id = "rx";
  return o;
}

}  // namespace faxbridge::fax::testing
