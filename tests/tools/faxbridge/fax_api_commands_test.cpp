// `faxbridge send` and `faxbridge faxes list|show|cancel` against the real WebApi on a
// loopback port over a real Postgres (no converter or gateway: the test moves a job to
// its final state with SQL where the services would). What a person reads is checked:
// the reference number per fax, the table, the details, each refusal as
// `error: <detail> (<code>)` with exit status 3.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <regex>
#include <thread>
#include <sstream>

#include "commands.hpp"
#include "fax_commands.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/testing/sql.hpp"
#include "faxbridge/webapi/web_api.hpp"

namespace faxbridge::cli {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPdf = "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf";

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class FaxApiCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kPdf)) << kPdf << " is missing: apt-get install shared-mime-info";
    NewUserArgs alice;
    alice.username = "alice";
    alice.permission_level = 2;
    std::ostringstream out, err;
    ASSERT_EQ(users_add(dsn_, alice, out, err), 0) << err.str();
    out.str("");
    ASSERT_EQ(tokens_create(dsn_, "alice", "cli-test", out, err), 0) << err.str();
    api_.token = out.str().substr(0, out.str().find('\n'));
    webapi::WebApiSettings s;
    s.server.bind_address = "127.0.0.1";
    s.server.port = 0;
    s.upload_directory = ::testing::TempDir();
    web_ = std::make_unique<webapi::WebApi>(pool_, s);
    auto port = web_->start();
    ASSERT_TRUE(port) << port.error().to_string();
    api_.url = "http://127.0.0.1:" + std::to_string(*port);
  }
  void TearDown() override { web_->stop(); }

  // Sends kPdf to `to`; the ids printed.
  std::vector<std::string> send(const std::vector<std::string>& to, std::string* printed = nullptr) {
    SendArgs a;
    a.files = {kPdf};
    a.to = to;
    a.subject = "CLI test";
    std::ostringstream out, err;
    EXPECT_EQ(fax_send(api_, a, out, err, false), kExitOk) << err.str();
    if (printed) *printed = out.str();
    std::vector<std::string> ids;
    std::istringstream lines(out.str());
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("fax ", 0) == 0) ids.push_back(line.substr(4, line.find(' ', 4) - 4));
    }
    return ids;
  }
  void sql(const std::string& q) { faxbridge::testing::committed_sql(dsn_, q); }

  std::string dsn_ = db::testing::migrated_database("cli_faxes");
  db::Pool pool_{db::PoolSettings{dsn_, 4}};
  std::unique_ptr<webapi::WebApi> web_;
  ApiArgs api_;
};

TEST_F(FaxApiCommands, SendPrintsOneLinePerRecipientWithIdAndReferenceNumber) {
  std::string printed;
  const auto ids = send({"+4930123456,+4940123456", "403"}, &printed);
  ASSERT_EQ(ids.size(), 3u) << printed;
  EXPECT_TRUE(std::regex_search(printed, std::regex("^fax [0-9]+ to \\+4930123456: reference 20[0-9]{2}\\.[0-9]{8}, "
                                                    "submitted\n")))
      << printed;
  EXPECT_TRUE(contains(printed, " to 403: reference ")) << printed;

  // The same fax, listed and shown.
  std::ostringstream out, err;
  ASSERT_EQ(faxes_list(api_, ListArgs{}, out, err), kExitOk) << err.str();
  const std::string table = out.str();
  EXPECT_EQ(table.rfind("ID", 0), 0u) << table;
  for (const char* column : {"REFERENCE", "STATUS", "TO", "PAGES", "CREATED"}) EXPECT_TRUE(contains(table, column));
  EXPECT_TRUE(contains(table, "+4940123456")) << table;
  EXPECT_TRUE(contains(table, "submitted")) << table;
  out.str("");
  ListArgs two;
  two.limit = 2;
  ASSERT_EQ(faxes_list(api_, two, out, err), kExitOk);
  EXPECT_TRUE(contains(out.str(), "more: faxbridge faxes list --limit 2 --cursor ")) << out.str();
  out.str("");
  ListArgs sent_only;
  sent_only.status = "sent";
  ASSERT_EQ(faxes_list(api_, sent_only, out, err), kExitOk) << err.str();
  EXPECT_TRUE(contains(out.str(), "(no faxes with status sent)")) << out.str();
  out.str("");
  ListArgs submitted_two;
  submitted_two.status = "submitted";
  submitted_two.limit = 2;
  ASSERT_EQ(faxes_list(api_, submitted_two, out, err), kExitOk) << err.str();
  EXPECT_TRUE(contains(out.str(), "more: faxbridge faxes list --status submitted --limit 2 --cursor ")) << out.str();

  out.str("");
  ASSERT_EQ(faxes_show(api_, std::stoll(ids[0]), false, out, err), kExitOk) << err.str();
  EXPECT_TRUE(contains(out.str(), "fax " + ids[0] + "  reference 20")) << out.str();
  EXPECT_TRUE(contains(out.str(), "  status      submitted\n")) << out.str();
  EXPECT_TRUE(contains(out.str(), "  subject     CLI test\n")) << out.str();
  EXPECT_TRUE(contains(out.str(), "  sender      alice\n")) << out.str();
}

TEST_F(FaxApiCommands, CancelEndsAFaxAndASecondCancelIsRefusedWithItsCode) {
  const auto ids = send({"+4930123456"});
  ASSERT_EQ(ids.size(), 1u);
  std::ostringstream out, err;
  ASSERT_EQ(faxes_cancel(api_, std::stoll(ids[0]), out, err), kExitOk) << err.str();
  EXPECT_TRUE(contains(out.str(), "cancelled")) << out.str();
  out.str("");
  EXPECT_EQ(faxes_cancel(api_, std::stoll(ids[0]), out, err), kExitRefused);
  EXPECT_TRUE(std::regex_search(err.str(), std::regex("^error: .+ \\(job\\.not_cancellable\\)\n"))) << err.str();
}

TEST_F(FaxApiCommands, RefusalsArePrintedWithTheirCodeAndExitThree) {
  std::ostringstream out, err;
  EXPECT_EQ(faxes_show(api_, 999999, false, out, err), kExitRefused);
  EXPECT_TRUE(contains(err.str(), "(fax.not_found)")) << err.str();

  err.str("");
  SendArgs bad;
  bad.files = {kPdf};
  bad.to = {"+49 30 abc"};
  EXPECT_EQ(fax_send(api_, bad, out, err, false), kExitRefused);
  EXPECT_TRUE(contains(err.str(), "(api.validation_failed)")) << err.str();
  EXPECT_TRUE(contains(err.str(), "  /to/0: ")) << "the field is named: " << err.str();

  err.str("");
  ApiArgs stranger = api_;
  stranger.token = "fbx_not_a_token";
  EXPECT_EQ(faxes_list(stranger, ListArgs{}, out, err), kExitRefused);
  EXPECT_TRUE(contains(err.str(), "(api.unauthenticated)")) << err.str();
  EXPECT_EQ(out.str(), "");
}

// --wait follows the fax until the services (here: the test's SQL) make it final.
TEST_F(FaxApiCommands, WaitEndsWithZeroWhenSentAndOneWhenFailed) {
  for (const std::string final_state : {"sent", "failed"}) {
    SendArgs a;
    a.files = {kPdf};
    a.to = {"+4930123456"};
    a.wait = true;
    a.poll_interval = 20ms;
    std::ostringstream out, err;
    auto waiting = std::async(std::launch::async, [&] { return fax_send(api_, a, out, err, false); });
    // The newest job is the one being waited for; it is finished once it exists.
    const std::string newest = "(SELECT max(id) FROM fax_jobs)";
    for (int i = 0; i < 3000; ++i) {
      if (!faxbridge::testing::committed_sql(dsn_, "SELECT 1 FROM fax_jobs WHERE state = 'submitted' AND id = " +
                                                       newest).empty())
        break;
      std::this_thread::sleep_for(10ms);
    }
    sql("UPDATE fax_jobs SET state = '" + final_state + "', page_count = 17, pages_sent = " +
        (final_state == "sent" ? "17" : "0") + ", completed_at = now() WHERE id = " + newest);
    ASSERT_EQ(waiting.wait_for(60s), std::future_status::ready) << out.str();
    EXPECT_EQ(waiting.get(), final_state == "sent" ? kExitOk : kExitNotSent) << out.str() << err.str();
    EXPECT_TRUE(contains(out.str(), "  +4930123456  " + final_state + "  pages ")) << out.str();
    if (final_state == "sent") EXPECT_TRUE(contains(out.str(), "pages 17/17")) << out.str();
    if (final_state == "failed") EXPECT_TRUE(contains(err.str(), "1 of 1 fax(es) not sent")) << err.str();
  }
}

}  // namespace
}  // namespace faxbridge::cli
