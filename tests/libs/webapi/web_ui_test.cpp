// WebUi over a folder the test writes (a page, a hashed script, a style): what each
// path answers, with which cache and security headers, and gzip only when asked for.
#include "faxbridge/webapi/web_ui.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

using namespace faxbridge;
using webapi::WebUi;
namespace fs = std::filesystem;

namespace {

api::Request get(const std::string& path, const std::string& accept_encoding = "") {
  api::RequestData d;
  d.method = "GET";
  d.path = path;
  if (!accept_encoding.empty()) d.headers.emplace_back("Accept-Encoding", accept_encoding);
  return api::Request(std::move(d));
}

std::string header(const api::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

std::string gunzip(const std::string& in) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "(not gzip)";
}

class WebUiFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("web-ui-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "assets");
    std::ofstream(dir_ / "index.html") << "<!doctype html><script type=module src=/assets/index-1a2b3c.js></script>";
    script_ = "export const x = 1;\n";
    for (int i = 0; i < 200; ++i) script_ += "console.log('line " + std::to_string(i) + "');\n";
    std::ofstream(dir_ / "assets" / "index-1a2b3c.js") << script_;
    std::ofstream(dir_ / "assets" / "index-9f8e.css") << "body{margin:0}";
    std::ofstream(dir_ / "notes.exe") << "not a type the UI has";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string script_;
};

}  // namespace

TEST_F(WebUiFiles, HashedAssetsAreImmutableAndThePageIsRevalidated) {
  const auto ui = WebUi::load(dir_.string());
  ASSERT_TRUE(ui.installed());
  auto js = ui.serve(get("/assets/index-1a2b3c.js"));
  ASSERT_FALSE(js.is_problem());
  EXPECT_EQ(js.response().body, script_);
  EXPECT_EQ(js.response().content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(header(js.response(), "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(header(js.response(), "Content-Security-Policy"), webapi::kWebUiPolicy);
  EXPECT_EQ(header(js.response(), "X-Content-Type-Options"), "nosniff");

  auto page = ui.serve(get("/"));
  ASSERT_FALSE(page.is_problem());
  EXPECT_NE(page.response().body.find("index-1a2b3c.js"), std::string::npos);
  EXPECT_EQ(header(page.response(), "Cache-Control"), "no-cache");
  EXPECT_EQ(header(page.response(), "Content-Security-Policy"), webapi::kWebUiPolicy);
}

TEST_F(WebUiFiles, ClientRoutesGetThePageButMissingFilesAre404) {
  const auto ui = WebUi::load(dir_.string());
  for (const char* route : {"/inbox", "/outbox/12", "/send", "/index.html"}) {
    auto r = ui.serve(get(route));
    ASSERT_FALSE(r.is_problem()) << route;
    EXPECT_EQ(r.response().content_type, "text/html; charset=utf-8") << route;
    EXPECT_EQ(header(r.response(), "Cache-Control"), "no-cache") << route;
  }
  // A chunk of an older build, a file-like path, and a file of a type the UI never has.
  for (const char* missing : {"/assets/index-0000.js", "/favicon.ico", "/notes.exe", "/assets"}) {
    auto r = ui.serve(get(missing));
    ASSERT_TRUE(r.is_problem()) << missing;
    EXPECT_EQ(r.problem().code, Code::k_api_not_found) << missing;
  }
}

TEST_F(WebUiFiles, TextIsGzippedOnlyForClientsThatAcceptIt) {
  const auto ui = WebUi::load(dir_.string());
  auto plain = ui.serve(get("/assets/index-1a2b3c.js"));
  EXPECT_EQ(header(plain.response(), "Content-Encoding"), "");
  EXPECT_EQ(header(plain.response(), "Vary"), "Accept-Encoding");
  auto zipped = ui.serve(get("/assets/index-1a2b3c.js", "gzip, deflate, br"));
  EXPECT_EQ(header(zipped.response(), "Content-Encoding"), "gzip");
  EXPECT_LT(zipped.response().body.size(), script_.size());
  EXPECT_EQ(gunzip(zipped.response().body), script_);
}

TEST(WebUi, AFolderWithoutAPageAnswers404NamingWhereItLooked) {
  const auto ui = WebUi::load("/nonexistent/faxbridge-web");
  EXPECT_FALSE(ui.installed());
  auto r = ui.serve(get("/"));
  ASSERT_TRUE(r.is_problem());
  EXPECT_EQ(r.problem().code, Code::k_api_not_found);
  EXPECT_NE(r.problem().detail.find("/nonexistent/faxbridge-web"), std::string::npos);
  EXPECT_NE(r.problem().detail.find("FAXBRIDGE_WEB_DIR"), std::string::npos);
}
