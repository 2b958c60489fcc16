// The whole product as a newcomer uses it, every service a real process over a
// throw-away Postgres and the bus: faxbridge-web-api, -router, -document-converter (with
// LibreOffice) and two media gateways on the loopback line (the one that places calls,
// and an answer-only one that the default route points at, as scripts/run starts them).
// alice (made with `faxbridge users add`, as README's first fax) submits a PDF from
// /usr/share/doc with POST /api/v1/faxes to bob's number, and a DOCX written by the test
// with `faxbridge send --wait` (the CLI as a process, its token from `faxbridge tokens
// create`) to carol's; both reach `sent` with every page confirmed, and each arrives in
// the inbox of the user who owns the number called, and only there: bob and carol (and
// alice) each read their own GET /api/v1/inbox with a token of their own, and download
// the received fax as TIFF and as PDF, whose pages (read back with libtiff and poppler
// through libs/document) are the pages sent. And email-to-fax: alice mails a DOCX to
// 405@fax.example.test (written by Python's email package into a real Dovecot's
// mailbox, which faxbridge-mail-ingest reads over IMAP with TLS); it is sent over the
// loopback line into dave's inbox with the pages the job had. The notifier, against a real Postfix, mails
// each received fax to its owner (bob in English, carol in Italian: their language) with
// the converter's PDF attached, and alice a return receipt for each fax she sent, the
// mailed one included.
// Nothing here depends on how fast the machine is: every wait polls for a state with a
// generous deadline.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/document/convert.hpp"
#include "faxbridge/document/tiff.hpp"
#include "faxbridge/testing/api_client.hpp"
#include "faxbridge/testing/mail_servers.hpp"
#include "faxbridge/testing/mailbox_server.hpp"
#include "faxbridge/testing/ports.hpp"
#include "faxbridge/testing/process.hpp"

namespace faxbridge {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::Child;
using testing::eventually;

// A real document from the system (17 pages), not one the test makes.
constexpr const char* kSystemPdf = "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf";
constexpr const char* kSecretKey = "3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829";
// Fax calls run in real time: ~10 to 30 s a page. The deadline is for a hung test only.
constexpr auto kFaxDeadline = 25min;

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

class FaxEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = db::testing::migrated_database("e2e");
    char tmpl[] = "/tmp/faxbridge-e2e-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    // mkdtemp makes it 0700: Postfix's own processes (user postfix) must reach their folders in it.
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                           std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                           std::filesystem::perms::others_exec);
    // As README's first fax does: users from the CLI, the default permission level (2).
    const std::map<std::string, std::string> db_env{{"FAXBRIDGE_DB_DSN", dsn_}};
    ASSERT_EQ(run_cli({"users", "add", "alice", "--email", "alice@example.test"}, db_env, dir_ + "/cli.log"), 0);
    ASSERT_EQ(run_cli({"users", "add", "bob", "--fax-number", "403", "--email", "bob@example.test", "--fax-to-email"},
                      db_env, dir_ + "/cli.log"),
              0);
    ASSERT_EQ(run_cli({"users", "add", "carol", "--fax-number", "404", "--email", "carol@example.test",
                       "--fax-to-email", "--language", "it"},
                      db_env, dir_ + "/cli.log"),
              0);
    ASSERT_EQ(run_cli({"users", "add", "dave", "--fax-number", "405", "--email", "dave@example.test"}, db_env,
                      dir_ + "/cli.log"),
              0);
    // The mail server fax-to-email and the receipts go through, set as an administrator would.
    postfix_ = std::make_unique<testing::Postfix>(dir_ + "/postfix", testing::Postfix::Options{});
    ASSERT_TRUE(postfix_->ready()) << postfix_->log();
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"smtp.host", "127.0.0.1"},
             {"smtp.port", std::to_string(postfix_->plain_port())},
             {"smtp.security", "none"},
             {"smtp.from_address", "fax@faxbridge.example.test"}}) {
      ASSERT_EQ(run_cli({"settings", "set", key, value}, db_env, dir_ + "/cli.log"), 0) << slurp(dir_ + "/cli.log");
    }
    // The email-to-fax mailbox (IMAP over TLS, its certificate pinned), set the same way;
    // the password is sealed, so the CLI needs the services' key.
    dovecot_ = std::make_unique<testing::DovecotMailbox>(dir_ + "/dovecot",
                                                         std::map<std::string, std::string>{{"fax", "mailbox-pw"}});
    ASSERT_TRUE(dovecot_->ready()) << dovecot_->log();
    auto keyed_env = db_env;
    keyed_env["FAXBRIDGE_SECRET_KEY"] = kSecretKey;
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"mail.host", "127.0.0.1"},
             {"mail.port", std::to_string(dovecot_->imaps_port())},
             {"mail.protocol", "imap"},
             {"mail.security", "tls"},
             {"mail.pinned_sha256", dovecot_->certificate().sha256},
             {"mail.username", "fax"},
             {"mail.password", "mailbox-pw"},
             {"mail.fax_domains", "fax.example.test"},
             {"mail.poll_interval_s", "5"},
             {"mail.enabled", "true"}}) {
      ASSERT_EQ(run_cli({"settings", "set", key, value}, keyed_env, dir_ + "/cli.log"), 0) << slurp(dir_ + "/cli.log");
    }
    bus_ = testing::start_bus(FAXBRIDGE_BUS_BIN, ports_);
  }
  void TearDown() override {
    for (auto& c : services_) c->signal(SIGTERM);
    for (auto& c : services_) (void)c->wait(20s);
    services_.clear();
    bus_.reset();
    postfix_.reset();
    dovecot_.reset();
    if (HasFailure()) {
      std::cerr << "service logs kept in " << dir_ << "\n";
    } else {
      std::filesystem::remove_all(dir_);
    }
  }

  std::map<std::string, std::string> base_env(const std::string& instance, int side_port) const {
    return {{"FAXBRIDGE_DB_DSN", dsn_},
            {"FAXBRIDGE_INSTANCE_ID", instance},
            {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", ports_.publish_endpoint()},
            {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", ports_.subscribe_endpoint()},
            {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
            {"FAXBRIDGE_HTTP_PORT", std::to_string(side_port)},
            // Seals secret settings, as scripts/run and compose give every service one.
            {"FAXBRIDGE_SECRET_KEY", kSecretKey}};
  }
  // Starts a service and waits for its /healthz on the side port.
  void start(const std::string& name, const std::string& binary, std::map<std::string, std::string> env) {
    const int side = testing::free_port();
    auto all = base_env(name, side);
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
           {"FAXBRIDGE_GATEWAY_SPOOL_DIR", dir_}});
    ASSERT_TRUE(eventually([&] { return testing::udp_port_bound(sip_port); }, 30s));
  }
  // The CLI as a process; its exit status (-1 when it did not end by `limit`).
  int run_cli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
              const std::string& log, std::chrono::milliseconds limit = 60s) {
    Child cli(FAXBRIDGE_CLI_BIN, args, env, log);
    auto status = cli.wait(limit);
    if (!status) return -1;
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  }
  // A new API token of `user` from `faxbridge tokens create`, which prints it alone.
  std::string cli_token(const std::string& user) {
    const std::string out = dir_ + "/token-" + user + ".txt";
    EXPECT_EQ(run_cli({"tokens", "create", user, "--name", "e2e"}, {{"FAXBRIDGE_DB_DSN", dsn_}}, out), 0);
    std::string token = slurp(out);
    const auto at = token.find("fbx_");
    if (at == std::string::npos) return "";
    token = token.substr(at);
    return token.substr(0, token.find('\n'));
  }

  // A DOCX as Word writes it at its smallest: the three parts a package must have.
  std::string write_docx() {
    const std::string path = dir_ + "/letter.docx";
    const std::string script = dir_ + "/make_docx.py";
    std::ofstream(script) << R"(import sys, zipfile
ct = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
rels = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'
paras = ''.join('<w:p><w:r><w:t>%s</w:t></w:r></w:p>' % t for t in ['Faxbridge end-to-end test', 'A letter written as DOCX, converted by LibreOffice, sent over the loopback line.', 'Kind regards, Alice'])
doc = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>' + paras + '</w:body></w:document>'
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('[Content_Types].xml', ct)
    z.writestr('_rels/.rels', rels)
    z.writestr('word/document.xml', doc)
)";
    const std::string command = "/usr/bin/python3 " + script + " " + path;
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return path;
  }

  // A mail as a mail client writes it (Python's email package): a text body and the
  // file as an attachment, base64.
  std::string write_mail(const std::string& from, const std::string& to, const std::string& subject,
                         const std::string& attachment) {
    const std::string path = dir_ + "/mail-out.eml";
    const std::string script = dir_ + "/make_mail.py";
    std::ofstream(script) << R"(import sys, email.message, email.policy, email.utils
m = email.message.EmailMessage(policy=email.policy.SMTP)
m['From'], m['To'], m['Subject'] = sys.argv[1], sys.argv[2], sys.argv[3]
m['Date'] = email.utils.formatdate()
m['Message-ID'] = email.utils.make_msgid(domain='example.test')
m.set_content('Please fax the letter attached.\n')
with open(sys.argv[4], 'rb') as f:
    m.add_attachment(f.read(), maintype='application',
                     subtype='vnd.openxmlformats-officedocument.wordprocessingml.document', filename='letter.docx')
open(sys.argv[5], 'wb').write(m.as_bytes())
)";
    const std::string command = "/usr/bin/python3 " + script + " '" + from + "' '" + to + "' '" + subject + "' " +
                                attachment + " " + path;
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return slurp(path);
  }

  std::string dsn_;
  std::string dir_;
  testing::Ports ports_;
  std::unique_ptr<Child> bus_;
  std::vector<std::unique_ptr<Child>> services_;
  std::unique_ptr<testing::Postfix> postfix_;
  std::unique_ptr<testing::DovecotMailbox> dovecot_;
};

TEST_F(FaxEndToEnd, APdfAndADocxThroughTheApiAndADocxByMailAreSentAndArriveInTheInboxOfTheNumbersOwner) {
  ASSERT_TRUE(std::filesystem::exists(kSystemPdf)) << kSystemPdf << " is missing: apt-get install shared-mime-info";
  const std::map<std::string, std::string> db_env{{"FAXBRIDGE_DB_DSN", dsn_}};
  // As scripts/run seeds an empty database: the default route is the answer-only gateway.
  const int loop_sip = testing::free_udp_port();
  ASSERT_EQ(run_cli({"routes", "add", "--default", "--if-none", "127.0.0.1:" + std::to_string(loop_sip)}, db_env,
                    dir_ + "/cli.log"),
            0);
  const std::string token = cli_token("alice");
  ASSERT_EQ(token.rfind("fbx_", 0), 0u) << token;

  ASSERT_NO_FATAL_FAILURE(start("router", FAXBRIDGE_ROUTER_BIN, {{"FAXBRIDGE_ROUTER_SWEEP_MS", "500"}}));
  ASSERT_NO_FATAL_FAILURE(start("notifier", FAXBRIDGE_NOTIFIER_BIN, {{"FAXBRIDGE_NOTIFIER_SWEEP_MS", "500"}}));
  ASSERT_NO_FATAL_FAILURE(start("mail-ingest", FAXBRIDGE_MAIL_INGEST_BIN, {}));
  ASSERT_NO_FATAL_FAILURE(start("document-converter", FAXBRIDGE_CONVERTER_BIN,
                                {{"FAXBRIDGE_CONVERTER_SWEEP_MS", "500"},
                                 {"FAXBRIDGE_CONVERTER_WORK_DIR", dir_ + "/converter"}}));
  const int media = 20000 + 40 * (::getpid() % 300);
  ASSERT_NO_FATAL_FAILURE(start_gateway("media-gateway", testing::free_udp_port(), media, true));
  ASSERT_NO_FATAL_FAILURE(start_gateway("media-gateway-loop", loop_sip, media + 20, false));
  const int api_port = testing::free_port();
  ASSERT_NO_FATAL_FAILURE(start("web-api", FAXBRIDGE_WEB_API_BIN,
                                {{"FAXBRIDGE_API_BIND", "127.0.0.1"}, {"FAXBRIDGE_API_PORT", std::to_string(api_port)}}));
  // Its side port answers before the API port listens.
  ASSERT_TRUE(eventually([&] { return http_ok(api_port, "/api/v1/version"); }, 60s)) << "see " << dir_;
  const std::string api_url = "http://127.0.0.1:" + std::to_string(api_port);

  // The DOCX with the CLI, waiting: it runs while the PDF goes through the API.
  const std::string docx = write_docx();
  const std::string cli_log = dir_ + "/send.log";
  // To carol's number: one call at a time goes to a number, so it runs beside bob's PDF.
  Child send(FAXBRIDGE_CLI_BIN, {"send", docx, "--to", "404", "--subject", "e2e docx", "--wait"},
             {{"FAXBRIDGE_API_URL", api_url}, {"FAXBRIDGE_API_TOKEN", token}}, cli_log);
  // The same DOCX by mail to dave's number, into the mailbox mail-ingest reads.
  dovecot_->deliver("fax", write_mail("Alice <alice@example.test>", "Dave <405@fax.example.test>", "e2e mail docx", docx));

  // The PDF with POST /api/v1/faxes (multipart, as curl -F sends it), through the client
  // that checks every reply against docs/api/openapi.yaml.
  testing::ApiClient api(api_port);
  api.bearer(token);
  const auto posted = api.post_multipart("/api/v1/faxes",
                                         {{"to", "403", "", ""},
                                          {"subject", "e2e pdf", "", ""},
                                          // Half the lines per page: the call takes half as long.
                                          {"resolution", "standard", "", ""},
                                          {"file", slurp(kSystemPdf), "shared-mime-info-spec.pdf", "application/pdf"}},
                                         {{"Idempotency-Key", "e2e-pdf-1"}});
  ASSERT_EQ(posted.status, 201) << posted.body;
  ASSERT_EQ(posted.json["faxes"].size(), 1u) << posted.body;
  const auto pdf_fax = posted.json["faxes"][0];
  EXPECT_EQ(pdf_fax["to"], "403");
  EXPECT_EQ(pdf_fax["resolution"], "standard");
  EXPECT_TRUE(pdf_fax["reference"].is_string()) << pdf_fax.dump();
  const std::string pdf_path = "/api/v1/faxes/" + pdf_fax["id"].dump();

  json pdf_now;
  ASSERT_TRUE(eventually(
      [&] {
        const auto r = api.get(pdf_path);
        if (r.status != 200) return false;
        pdf_now = r.json;
        const std::string s = pdf_now.value("status", "");
        return s == "sent" || s == "partially_sent" || s == "failed" || s == "cancelled";
      },
      kFaxDeadline))
      << pdf_now.dump();
  EXPECT_EQ(pdf_now["status"], "sent") << pdf_now.dump(2);
  EXPECT_GE(pdf_now.value("pages_total", 0), 17) << pdf_now.dump(2);  // a cover page may come first
  EXPECT_EQ(pdf_now["pages_confirmed"], pdf_now["pages_total"]);
  EXPECT_TRUE(pdf_now["failure"].is_null());
  ASSERT_TRUE(pdf_now["attempts"].is_array() && !pdf_now["attempts"].empty()) << pdf_now.dump(2);
  EXPECT_EQ(pdf_now["attempts"].back()["outcome"], "sent") << pdf_now.dump(2);

  auto send_status = send.wait(kFaxDeadline);
  ASSERT_TRUE(send_status) << "`faxbridge send --wait` still waiting; see " << cli_log;
  const std::string printed = slurp(cli_log);
  EXPECT_TRUE(WIFEXITED(*send_status) && WEXITSTATUS(*send_status) == 0) << printed;
  EXPECT_NE(printed.find("reference 20"), std::string::npos) << printed;
  std::smatch sent_line;
  ASSERT_TRUE(std::regex_search(printed, sent_line, std::regex("  404  sent  pages ([0-9]+)/([0-9]+)"))) << printed;
  EXPECT_EQ(sent_line[1], sent_line[2]) << "every page confirmed: " << printed;
  const std::string docx_pages = sent_line[2];
  EXPECT_EQ(printed.find("\033["), std::string::npos) << "plain lines when stdout is not a terminal";
  // The CLI's view of it: the list shows both, newest first.
  ASSERT_EQ(run_cli({"faxes", "list"}, {{"FAXBRIDGE_API_URL", api_url}, {"FAXBRIDGE_API_TOKEN", token}},
                    dir_ + "/list.log"),
            0);
  const std::string listed = slurp(dir_ + "/list.log");
  EXPECT_NE(listed.find(pdf_now["reference"].get<std::string>()), std::string::npos) << listed;
  const std::string pdf_pages = pdf_now["pages_total"].dump();
  EXPECT_NE(listed.find(pdf_pages + "/" + pdf_pages), std::string::npos) << listed;

  // The mailed one: a job of alice's from source "email", to dave's number, sent.
  json mailed;
  ASSERT_TRUE(eventually(
      [&] {
        const auto r = api.get("/api/v1/faxes");
        if (r.status != 200) return false;
        for (const auto& f : r.json["faxes"])
          if (f.value("subject", "") == "e2e mail docx") mailed = f;
        const std::string s = mailed.is_null() ? "" : mailed.value("status", "");
        return s == "sent" || s == "partially_sent" || s == "failed" || s == "cancelled";
      },
      kFaxDeadline))
      << mailed.dump(2) << "; see " << dir_ << "/mail-ingest.log";
  EXPECT_EQ(mailed["status"], "sent") << mailed.dump(2);
  EXPECT_EQ(mailed["to"], "405") << mailed.dump(2);
  EXPECT_EQ(mailed["pages_confirmed"], mailed["pages_total"]) << mailed.dump(2);
  const std::string mailed_pages = mailed["pages_total"].dump();
  EXPECT_TRUE(eventually([&] { return dovecot_->messages("fax", "processed").size() == 1; }, 30s))
      << "the mail was not moved to the processed folder";

  // Each arrived in the inbox of the number's owner, and only there, as each of them
  // sees it through the API with a token of their own.
  const auto inbox_of = [&](testing::ApiClient& owner) {
    const auto r = owner.get("/api/v1/inbox");
    return r.status == 200 && r.json["faxes"].is_array() ? r.json["faxes"] : json::array();
  };
  testing::ApiClient bob(api_port), carol(api_port), dave(api_port);
  bob.bearer(cli_token("bob"));
  carol.bearer(cli_token("carol"));
  dave.bearer(cli_token("dave"));
  json bobs, carols, daves;
  ASSERT_TRUE(eventually(
      [&] {
        bobs = inbox_of(bob);
        carols = inbox_of(carol);
        daves = inbox_of(dave);
        return !bobs.empty() && !carols.empty() && !daves.empty();
      },
      120s))
      << bobs.dump() << " " << carols.dump() << " " << daves.dump();
  EXPECT_EQ(inbox_of(api), json::array()) << "alice owns no number";

  // The received fax's entry, and its document as TIFF and as PDF with the pages sent.
  const auto expect_received = [&](testing::ApiClient& owner, const json& inbox, const std::string& number,
                                   const std::string& pages) {
    ASSERT_EQ(inbox.size(), 1u) << inbox.dump(2);
    const json& fax = inbox[0];
    EXPECT_EQ(fax["to"], number) << fax.dump(2);
    EXPECT_EQ(fax["status"], "received") << fax.dump(2);
    EXPECT_EQ(fax["pages"].dump(), pages) << fax.dump(2);
    EXPECT_TRUE(fax["failure"].is_null()) << fax.dump(2);
    EXPECT_EQ(fax["read"], false);
    const std::string path = "/api/v1/inbox/" + fax["id"].dump() + "/file";

    const auto tiff = owner.get(path + "?format=tiff");
    ASSERT_EQ(tiff.status, 200) << tiff.body.substr(0, 300);
    EXPECT_EQ(tiff.content_type, "image/tiff");
    const auto tiff_pages = document::inspect_tiff(tiff.body);
    ASSERT_TRUE(tiff_pages) << tiff_pages.error().to_string();
    EXPECT_EQ(std::to_string(tiff_pages->size()), pages) << "pages in the received TIFF";

    const auto pdf = owner.get(path + "?format=pdf");
    ASSERT_EQ(pdf.status, 200) << pdf.body.substr(0, 300);
    EXPECT_EQ(pdf.content_type, "application/pdf");
    EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
    // poppler reads the PDF back; the sink counts its pages without keeping them.
    int pdf_pages = 0;
    document::ConvertOptions read_back;
    read_back.resolution = document::Resolution::kStandard;
    read_back.page_sink = [&](document::Bitmap&&) { ++pdf_pages; };
    const auto read = document::convert_pdf(pdf.body, read_back);
    ASSERT_TRUE(read) << read.error().to_string();
    EXPECT_EQ(std::to_string(pdf_pages), pages) << "pages in the received fax's PDF";
  };
  expect_received(bob, bobs, "403", pdf_pages);
  expect_received(carol, carols, "404", docx_pages);
  expect_received(dave, daves, "405", mailed_pages);

  // Fax-to-email: each owner's mail, in the owner's language, with the converter's PDF
  // attached (the default format), whose pages are the pages received; and alice's two
  // return receipts. Read back from the maildir through Python's email package.
  const auto mails_to = [&](const std::string& address) {
    std::vector<json> out;
    int n = 0;
    for (const auto& raw : postfix_->messages()) {
      const std::string parts = dir_ + "/mail-" + std::to_string(++n);
      std::filesystem::create_directories(parts);
      const std::string eml = parts + ".eml";
      std::ofstream(eml, std::ios::binary) << raw;
      const std::string cmd = std::string("/usr/bin/python3 ") + FAXBRIDGE_MIME_DUMP + " " + parts + " < " + eml +
                              " > " + parts + ".json";
      if (std::system(cmd.c_str()) != 0) continue;
      json m = json::parse(slurp(parts + ".json"), nullptr, false);
      if (m.is_discarded() || m["headers"].value("to", "").find(address) == std::string::npos) continue;
      m["dir"] = parts;
      out.push_back(m);
    }
    return out;
  };
  const auto expect_fax_mail = [&](const std::string& address, const std::string& subject_start,
                                   const std::string& pages) {
    std::vector<json> got;
    ASSERT_TRUE(eventually([&] { return !(got = mails_to(address)).empty(); }, 120s)) << "no mail to " << address;
    ASSERT_EQ(got.size(), 1u);
    const json& m = got[0];
    EXPECT_EQ(m["headers"]["subject"].get<std::string>().rfind(subject_start, 0), 0u) << m["headers"].dump();
    EXPECT_EQ(m["headers"]["auto-submitted"], "auto-generated");
    int index = 0;
    bool found = false;
    for (const auto& part : m["parts"]) {
      if (part["type"] == "application/pdf") {
        found = true;
        int read_pages = 0;
        document::ConvertOptions read_back;
        read_back.resolution = document::Resolution::kStandard;
        read_back.page_sink = [&](document::Bitmap&&) { ++read_pages; };
        const auto read = document::convert_pdf(slurp(m["dir"].get<std::string>() + "/" + std::to_string(index)),
                                                read_back);
        ASSERT_TRUE(read) << read.error().to_string();
        EXPECT_EQ(std::to_string(read_pages), pages) << "pages of the PDF mailed to " << address;
      }
      ++index;
    }
    EXPECT_TRUE(found) << m["structure"].dump();
  };
  expect_fax_mail("bob@example.test", "Fax from ", pdf_pages);
  expect_fax_mail("carol@example.test", "Fax da ", docx_pages);
  std::vector<json> receipts;
  ASSERT_TRUE(eventually([&] { return (receipts = mails_to("alice@example.test")).size() >= 3; }, 120s))
      << receipts.size() << " receipts for alice";
  std::set<std::string> subjects;
  for (const auto& r : receipts) subjects.insert(r["headers"]["subject"]);
  EXPECT_EQ(subjects, (std::set<std::string>{"Fax sent to 403: e2e pdf", "Fax sent to 404: e2e docx",
                                             "Fax sent to 405: e2e mail docx"}));
}

}  // namespace
}  // namespace faxbridge
