// The web UI end to end: the real suite as processes (faxbridge-web-api serving the
// built UI from <build>/web/dist, -router, -document-converter, two media gateways on
// the loopback line, the bus, a throw-away Postgres), users made with the real
// `faxbridge users add`, and tests/web/browser/ui_flow.mjs driving Debian's headless
// Chromium through the pages (see its opening note for what it checks). This test then
// decodes the PDF the browser downloaded from the receiver's inbox (poppler through
// libs/document) and checks its pages are the inbox entry's. Screenshots are kept under
// <build>/test-artifacts/web-ui. Nothing here depends on how fast the machine is: the
// browser waits for states, with deadlines only against a hang.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/document/convert.hpp"
#include "faxbridge/testing/ports.hpp"
#include "faxbridge/testing/process.hpp"
#include "faxbridge/webapi/web_ui.hpp"

namespace faxbridge {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::eventually;

constexpr const char* kPassword = "browser-test-pw-1";
constexpr auto kBrowserDeadline = 30min;  // a hung browser or fax call only

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool http_ok(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1, 0);
  auto r = c.Get(path.c_str());
  return r && r->status == 200;
}

// A one-page PDF as a word processor would write it at its smallest: a page of text
// in a standard font, with a correct cross-reference table.
std::string one_page_pdf(const std::string& text) {
  const std::string content = "BT /F1 28 Tf 72 700 Td (" + text + ") Tj ET";
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
      "/Resources << /Font << /F1 5 0 R >> >> >>",
      "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"};
  std::string pdf = "%PDF-1.4\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const auto xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (auto o : offsets) {
    char line[21];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", o);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

class WebUiBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access("/usr/bin/chromium", X_OK), 0) << "/usr/bin/chromium is missing (scripts/setup installs it)";
    ASSERT_TRUE(std::filesystem::exists(std::string(FAXBRIDGE_WEB_DIST) + "/index.html"))
        << "the web UI is not built (the CMake target web_ui)";
    dsn_ = db::testing::migrated_database("webui");
    char tmpl[] = "/tmp/faxbridge-webui-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    // Each test's own screenshots: the user flow's in the folder itself (its files only),
    // the admin flow's in admin/, so that the two may run side by side.
    artifacts_ = FAXBRIDGE_UI_ARTIFACTS;
    if (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()).find("Administrator") !=
        std::string::npos) {
      artifacts_ += "/admin";
      std::filesystem::remove_all(artifacts_);
    } else if (std::filesystem::exists(artifacts_)) {
      for (const auto& e : std::filesystem::directory_iterator(artifacts_)) {
        if (e.is_regular_file()) std::filesystem::remove(e.path());
      }
    }
    std::filesystem::create_directories(artifacts_);
    // As README's first fax: users from the CLI; the password on stdin as an operator types it.
    ASSERT_EQ(add_user({"alice", "--email", "alice@example.test", "--name", "Alice Rossi"}), 0);
    ASSERT_EQ(add_user({"bob", "--fax-number", "403", "--email", "bob@example.test"}), 0);
    ASSERT_EQ(add_user({"eve", "--email", "eve@example.test", "--permission", "0"}), 0);
    ASSERT_EQ(add_user({"root", "--name", "Fax Administrator", "--permission", "10"}), 0);
    bus_ = testing::start_bus(FAXBRIDGE_BUS_BIN, ports_);
  }
  void TearDown() override {
    for (auto& c : services_) c->signal(SIGTERM);
    for (auto& c : services_) (void)c->wait(20s);
    services_.clear();
    bus_.reset();
    if (HasFailure()) {
      std::cerr << "service logs kept in " << dir_ << "; screenshots in " << artifacts_ << "\n";
    } else {
      std::filesystem::remove_all(dir_);
    }
  }

  int add_user(const std::vector<std::string>& args) {
    std::string command = "printf '%s\\n' '" + std::string(kPassword) + "' | FAXBRIDGE_DB_DSN='" + dsn_ + "' " +
                          FAXBRIDGE_CLI_BIN + " users add --password-stdin";
    for (const auto& a : args) command += " '" + a + "'";
    command += " >>" + dir_ + "/cli.log 2>&1";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  int run_cli(const std::vector<std::string>& args) {
    Child cli(FAXBRIDGE_CLI_BIN, args, {{"FAXBRIDGE_DB_DSN", dsn_}}, dir_ + "/cli.log");
    auto status = cli.wait(60s);
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }
  void start(const std::string& name, const std::string& binary, std::map<std::string, std::string> env) {
    const int side = testing::free_port();
    std::map<std::string, std::string> all{{"FAXBRIDGE_DB_DSN", dsn_},
                                           {"FAXBRIDGE_INSTANCE_ID", name},
                                           {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", ports_.publish_endpoint()},
                                           {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", ports_.subscribe_endpoint()},
                                           {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
                                           {"FAXBRIDGE_HTTP_PORT", std::to_string(side)}};
    for (auto& [k, v] : env) all[k] = v;
    services_.push_back(std::make_unique<Child>(binary, std::vector<std::string>{}, all, dir_ + "/" + name + ".log"));
    auto& child = *services_.back();
    ASSERT_TRUE(eventually([&] { return http_ok(side, "/healthz") || !child.running(); }, 120s))
        << name << " not healthy; see " << dir_ << "/" << name << ".log";
    ASSERT_TRUE(child.running()) << name << " exited; see " << dir_ << "/" << name << ".log";
  }
  void start_gateway(const std::string& name, int sip_port, int media, bool place_calls) {
    start(name, FAXBRIDGE_MEDIA_GATEWAY_BIN,
          {{"FAXBRIDGE_GATEWAY_SIP_BIND", "127.0.0.1"},
           {"FAXBRIDGE_GATEWAY_SIP_PORT", std::to_string(sip_port)},
           {"FAXBRIDGE_GATEWAY_MEDIA_ADDRESS", "127.0.0.1"},
           {"FAXBRIDGE_GATEWAY_MEDIA_PORT_MIN", std::to_string(media)},
           {"FAXBRIDGE_GATEWAY_MEDIA_PORT_MAX", std::to_string(media + 18)},
           {"FAXBRIDGE_GATEWAY_PLACE_CALLS", place_calls ? "true" : "false"},
           {"FAXBRIDGE_GATEWAY_CHANNELS", "4"},
           {"FAXBRIDGE_GATEWAY_SPOOL_DIR", dir_ + "/" + name}});
    ASSERT_TRUE(eventually([&] { return testing::udp_port_bound(sip_port); }, 30s));
  }

  std::string dsn_, dir_, artifacts_;
  testing::Ports ports_;
  std::unique_ptr<Child> bus_;
  std::vector<std::unique_ptr<Child>> services_;
};

TEST_F(WebUiBrowser, ASenderFaxesAPdfFromThePagesAndTheReceiverDownloadsItFromTheirInbox) {
  // As scripts/run seeds an empty database: the default route is the answer-only gateway.
  const int loop_sip = testing::free_udp_port();
  ASSERT_EQ(run_cli({"routes", "add", "--default", "--if-none", "127.0.0.1:" + std::to_string(loop_sip)}), 0);
  ASSERT_NO_FATAL_FAILURE(start("router", FAXBRIDGE_ROUTER_BIN, {{"FAXBRIDGE_ROUTER_SWEEP_MS", "500"}}));
  ASSERT_NO_FATAL_FAILURE(start("document-converter", FAXBRIDGE_CONVERTER_BIN,
                                {{"FAXBRIDGE_CONVERTER_SWEEP_MS", "500"},
                                 {"FAXBRIDGE_CONVERTER_WORK_DIR", dir_ + "/converter"}}));
  std::filesystem::create_directories(dir_ + "/media-gateway");
  std::filesystem::create_directories(dir_ + "/media-gateway-loop");
  // Media ports found free now (not from the pid): other e2e tests may run beside this one.
  const int media = testing::free_udp_block(19);
  ASSERT_GT(media, 0);
  ASSERT_NO_FATAL_FAILURE(start_gateway("media-gateway", testing::free_udp_port(), media, true));
  // The first gateway binds its range per call, so a free block may still be its own.
  int loop_media = 0;
  for (int tries = 0; tries < 100 && (loop_media == 0 || std::abs(loop_media - media) < 19); ++tries) {
    loop_media = testing::free_udp_block(19);
  }
  ASSERT_TRUE(loop_media > 0 && std::abs(loop_media - media) >= 19);
  ASSERT_NO_FATAL_FAILURE(start_gateway("media-gateway-loop", loop_sip, loop_media, false));
  const int api_port = testing::free_port();
  ASSERT_NO_FATAL_FAILURE(start("web-api", FAXBRIDGE_WEB_API_BIN,
                                {{"FAXBRIDGE_API_BIND", "127.0.0.1"},
                                 {"FAXBRIDGE_API_PORT", std::to_string(api_port)},
                                 {"FAXBRIDGE_WEB_DIR", FAXBRIDGE_WEB_DIST}}));
  ASSERT_TRUE(eventually([&] { return http_ok(api_port, "/api/v1/version"); }, 60s)) << "see " << dir_;

  const std::string pdf = dir_ + "/letter.pdf";
  std::ofstream(pdf, std::ios::binary) << one_page_pdf("Faxbridge web UI test");
  const std::string log = dir_ + "/browser.log";
  Child browser(FAXBRIDGE_NODE, {FAXBRIDGE_UI_FLOW},
                {{"FAXBRIDGE_WEB_PACKAGE", FAXBRIDGE_WEB_PACKAGE},
                 {"FAXBRIDGE_UI_URL", "http://127.0.0.1:" + std::to_string(api_port)},
                 {"FAXBRIDGE_UI_ARTIFACTS", artifacts_},
                 {"FAXBRIDGE_UI_PDF", pdf},
                 {"FAXBRIDGE_UI_SENDER", "alice"},
                 {"FAXBRIDGE_UI_RECEIVER", "bob"},
                 {"FAXBRIDGE_UI_RECEIVER_NUMBER", "403"},
                 {"FAXBRIDGE_UI_NO_ACCESS", "eve"},
                 {"FAXBRIDGE_UI_ADMIN", "root"},
                 {"FAXBRIDGE_UI_PASSWORD", kPassword},
                 {"FAXBRIDGE_UI_POLICY", webapi::kWebUiPolicy}},
                log);
  const auto status = browser.wait(kBrowserDeadline);
  ASSERT_TRUE(status) << "the browser test is still running; see " << log;
  std::cout << slurp(log);
  ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "see the ui_flow lines above and " << dir_;

  // The PDF the browser downloaded decodes, with the pages the inbox said it has.
  const auto result = nlohmann::json::parse(slurp(artifacts_ + "/result.json"));
  const int inbox_pages = result["inbox_pages"].get<int>();
  EXPECT_GE(inbox_pages, 2) << "two one-page documents (and a cover page when there is a default one)";
  int read_pages = 0;
  document::ConvertOptions read_back;
  read_back.page_sink = [&](document::Bitmap&&) { ++read_pages; };
  const auto read = document::convert_pdf(slurp(result["pdf"].get<std::string>()), read_back);
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(read_pages, inbox_pages);
  for (const char* page : {"sign-in", "send", "outbox", "outbox-details", "outbox-search", "preferences", "preferences-italian",
                           "inbox", "inbox-pages", "inbox-read", "no-access"}) {
    for (const char* width : {"desktop", "phone"}) {
      const auto shot = artifacts_ + "/" + page + "-" + width + ".png";
      EXPECT_GT(std::filesystem::exists(shot) ? std::filesystem::file_size(shot) : 0u, 0u) << shot;
    }
  }
}

// The administration pages (tests/web/browser/admin_flow.mjs): web-api alone on its
// database is all they need, so no fax call is made here.
TEST_F(WebUiBrowser, AnAdministratorManagesUsersAndGroupsFromThePages) {
  const int api_port = testing::free_port();
  ASSERT_NO_FATAL_FAILURE(start("web-api", FAXBRIDGE_WEB_API_BIN,
                                {{"FAXBRIDGE_API_BIND", "127.0.0.1"},
                                 {"FAXBRIDGE_API_PORT", std::to_string(api_port)},
                                 {"FAXBRIDGE_WEB_DIR", FAXBRIDGE_WEB_DIST}}));
  ASSERT_TRUE(eventually([&] { return http_ok(api_port, "/api/v1/version"); }, 60s)) << "see " << dir_;
  const std::string log = dir_ + "/admin-browser.log";
  Child browser(FAXBRIDGE_NODE, {FAXBRIDGE_ADMIN_FLOW},
                {{"FAXBRIDGE_WEB_PACKAGE", FAXBRIDGE_WEB_PACKAGE},
                 {"FAXBRIDGE_UI_URL", "http://127.0.0.1:" + std::to_string(api_port)},
                 {"FAXBRIDGE_UI_ARTIFACTS", artifacts_},
                 {"FAXBRIDGE_UI_ADMIN", "root"},
                 {"FAXBRIDGE_UI_SENDER", "alice"},
                 {"FAXBRIDGE_UI_PASSWORD", kPassword}},
                log);
  const auto status = browser.wait(kBrowserDeadline);
  ASSERT_TRUE(status) << "the browser test is still running; see " << log;
  std::cout << slurp(log);
  ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "see the admin_flow lines above and " << dir_;
  for (const char* page : {"admin-user-new", "admin-users", "admin-users-import", "admin-groups", "admin-routes", "admin-settings-mailbox",
                           "admin-settings-service", "admin-settings-company", "admin-dashboard",
                           "admin-cover-pages", "admin-tokens", "admin-audit"}) {
    for (const char* width : {"desktop", "phone"}) {
      const auto shot = artifacts_ + "/" + page + "-" + width + ".png";
      EXPECT_GT(std::filesystem::exists(shot) ? std::filesystem::file_size(shot) : 0u, 0u) << shot;
    }
  }
}

}  // namespace
}  // namespace faxbridge
