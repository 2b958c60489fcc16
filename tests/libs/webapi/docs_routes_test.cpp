// The API's description, served: /api/v1/openapi.yaml is byte for byte the document
// the build embedded (the one every API test validates replies against), and /api/docs
// renders it in Debian's headless chromium from this server's own script: the page is
// read back from the browser's DOM with the operations' summaries in it.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/testing/api_client.hpp"
#include "faxbridge/webapi/web_api.hpp"

namespace faxbridge::webapi {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a command, its standard output.
std::string run(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return out;
  std::array<char, 65536> buf;
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe.get())) > 0;) out.append(buf.data(), n);
  return out;
}

class DocsRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WebApiSettings s;
    s.server.bind_address = "127.0.0.1";
    s.server.port = 0;
    api_ = std::make_unique<WebApi>(pool_, s);
    auto port = api_->start();
    ASSERT_TRUE(port) << port.error().to_string();
    port_ = *port;
  }

  std::string dsn_ = db::testing::migrated_database("webapi_docs");
  db::Pool pool_{db::PoolSettings{dsn_, 2}};
  std::unique_ptr<WebApi> api_;
  int port_ = 0;
};

TEST_F(DocsRoutesTest, TheServedDocumentIsTheOneInTheSourceTree) {
  testing::ApiClient anyone(port_);
  auto r = anyone.get("/api/v1/openapi.yaml");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/yaml");
  EXPECT_EQ(r.body, read_file(FAXBRIDGE_OPENAPI_DOCUMENT));
  EXPECT_EQ(r.body.rfind("openapi: 3.1", 0), 0u);
}

TEST_F(DocsRoutesTest, TheReferencePageAndItsScriptAreServedWithoutSignIn) {
  testing::ApiClient anyone(port_);
  auto page = anyone.get("/api/docs");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html");
  EXPECT_NE(page.body.find("/api/docs/redoc.standalone.js"), std::string::npos);
  EXPECT_NE(page.header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  auto script = anyone.get("/api/docs/redoc.standalone.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.content_type, "text/javascript");
  EXPECT_GT(script.body.size(), 100000u) << "Redoc's bundle, from node_modules";
}

TEST_F(DocsRoutesTest, ChromiumRendersTheOperationsFromTheLocalScript) {
  if (access("/usr/bin/chromium", X_OK) != 0) GTEST_FAIL() << "/usr/bin/chromium is missing (scripts/setup installs it)";
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/api/docs";
  // --virtual-time-budget lets the page's scripts run (fetch the YAML, render) before
  // the DOM is dumped; the proxy that goes nowhere makes any request off this host fail.
  const std::string dom = run(
      "/usr/bin/chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-dev-shm-usage "
      "--user-data-dir=$(mktemp -d) --proxy-server=127.0.0.1:9 --proxy-bypass-list='127.0.0.1' "
      "--virtual-time-budget=20000 --dump-dom '" + url + "' 2>/dev/null");
  ASSERT_FALSE(dom.empty()) << "chromium printed no DOM";
  EXPECT_NE(dom.find("Faxbridge API"), std::string::npos) << dom.substr(0, 2000);
  EXPECT_NE(dom.find("Sign in with a username and password"), std::string::npos) << dom.substr(0, 2000);
  EXPECT_NE(dom.find("Make an API token"), std::string::npos);
}

}  // namespace
}  // namespace faxbridge::webapi
