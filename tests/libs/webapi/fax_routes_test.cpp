// The fax endpoints over HTTP: POST /files, POST/GET /faxes, GET /faxes/{id}, cancel
// and resend, on the real WebApi over a real Postgres. Each success and each error
// (400/401/403/404/409/413/415/422) is checked with its stable code; a broadcast is
// written whole or not at all; Idempotency-Key replays, refuses reuse, and holds under
// two concurrent twins; the list pages by cursor; a user's fax is invisible to another.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/faxes.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/document/testing/samples.hpp"
#include "faxbridge/testing/api_client.hpp"
#include "faxbridge/webapi/web_api.hpp"

namespace faxbridge::webapi {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Every reply is checked against docs/api/openapi.yaml by the harness's client.
using Reply = testing::ApiReply;
using Part = testing::FilePart;
using Client = testing::ApiClient;

using testing::expect_problem;

json expect_json(const Reply& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.content_type, "application/json") << r.body;
  return r.json;
}

// The first error's field of a validation problem.
std::string first_field(const json& problem) {
  if (!problem.contains("errors") || problem["errors"].empty()) return "";
  return problem["errors"][0].value("field", "");
}

class RecordingAnnouncer final : public Announcer {
 public:
  void work(const std::string& stage, std::int64_t id) override {
    std::lock_guard<std::mutex> l(mutex);
    works.emplace_back(stage, id);
  }
  void cancel_call(const std::string& gateway, std::int64_t id) override {
    std::lock_guard<std::mutex> l(mutex);
    cancels.emplace_back(gateway, id);
  }
  std::mutex mutex;
  std::vector<std::pair<std::string, std::int64_t>> works;
  std::vector<std::pair<std::string, std::int64_t>> cancels;
};

std::string sha256_hex(const std::string& bytes) {
  unsigned char d[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(d, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[sizeof d * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, d, sizeof d);
  return hex;
}

// A raw request over a socket: headers as given, then `body`, then the first answer.
std::string raw_exchange(int port, const std::string& head, const std::string& body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "";
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string out = head + body;
  (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
  std::string in;
  char buf[4096];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
    if (in.find("\r\n\r\n") != std::string::npos && in.find("}") != std::string::npos) break;
  }
  ::close(fd);
  return in;
}

class FaxRoutesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pdf_ = new std::string(document::testing::make_pdf({document::testing::PdfPage{}, document::testing::PdfPage{}}));
  }
  static void TearDownTestSuite() {
    delete pdf_;
    pdf_ = nullptr;
  }

  void SetUp() override {
    alice_ = make_user("alice", std::nullopt);
    bob_ = make_user("bob", std::nullopt);
    admin_ = make_user("root", 10);
    nobody_ = make_user("nobody", 0);
    upload_dir_ = std::filesystem::temp_directory_path() / ("fax-uploads-" + std::to_string(::getpid()));
    std::filesystem::create_directories(upload_dir_);
    WebApiSettings s;
    s.server.bind_address = "127.0.0.1";
    s.server.port = 0;
    s.server.limits.multipart.max_total_bytes = 8 << 20;
    s.server.limits.multipart.max_file_bytes = 4 << 20;
    s.announcer = &announcer_;
    s.upload_directory = upload_dir_.string();
    api_ = std::make_unique<WebApi>(pool_, s, clock_);
    auto port = api_->start();
    ASSERT_TRUE(port) << port.error().to_string();
    port_ = *port;
  }

  void TearDown() override {
    api_.reset();
    // Every upload's temp file is gone, whatever the request's fate.
    EXPECT_TRUE(std::filesystem::is_empty(upload_dir_));
    std::filesystem::remove_all(upload_dir_);
  }

  std::int64_t make_user(const std::string& name, std::optional<int> level) {
    auto u = pool_.transact([&](db::Tx& tx) -> Result<db::User> {
      db::User user;
      user.username = name;
      user.display_name = name;
      user.email = name + "@example.com";
      user.own_permission_level = level;
      return db::users::create(tx, user);
    });
    EXPECT_TRUE(u) << u.error().to_string();
    return u ? u->id : 0;
  }

  Client as(std::int64_t user) {
    Client c(port_);
    auto t = pool_.transact(
        [&](db::Tx& tx) { return db::api_tokens::create(tx, user, "test", std::nullopt, clock_.now()); });
    EXPECT_TRUE(t);
    c.bearer(t ? t->plaintext : "");
    return c;
  }

  long count(const std::string& query) {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    return w.exec(query)[0][0].as<long>();
  }
  void sql(const std::string& statement) {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    w.exec(statement);
    w.commit();
  }

  std::int64_t upload(Client& c, const std::string& name = "letter.pdf") {
    auto r = c.post_multipart("/api/v1/files", {{"file", *pdf_, name, "application/pdf"}});
    auto body = expect_json(r, 201);
    return body.value("id", std::int64_t{0});
  }

  // One fax to `to` with an uploaded file; its JSON.
  json send_one(Client& c, const std::string& to, json extra = json::object()) {
    json body = {{"to", {to}}, {"files", {upload(c)}}};
    body.update(extra);
    auto r = expect_json(c.post("/api/v1/faxes", body), 201);
    return r["faxes"][0];
  }

  static std::string* pdf_;
  std::string dsn_ = db::testing::migrated_database("faxes");
  db::Pool pool_{db::PoolSettings{dsn_, 6}};
  ManualClock clock_{std::chrono::system_clock::now()};
  RecordingAnnouncer announcer_;
  std::filesystem::path upload_dir_;
  std::unique_ptr<WebApi> api_;
  int port_ = 0;
  std::int64_t alice_ = 0, bob_ = 0, admin_ = 0, nobody_ = 0;
};
std::string* FaxRoutesTest::pdf_ = nullptr;

// ---- POST /files ------------------------------------------------------------------

TEST_F(FaxRoutesTest, UploadsAPdfWithItsDetectedTypeHashAndPages) {
  auto alice = as(alice_);
  auto r = alice.post_multipart("/api/v1/files", {{"file", *pdf_, "../../etc/letter.pdf", "application/pdf"}});
  auto f = expect_json(r, 201);
  EXPECT_GT(f["id"].get<std::int64_t>(), 0);
  EXPECT_EQ(f["filename"], "letter.pdf") << "only the name, never a path";
  EXPECT_EQ(f["media_type"], "application/pdf");
  EXPECT_EQ(f["size_bytes"], pdf_->size());
  EXPECT_EQ(f["sha256"], sha256_hex(*pdf_));
  EXPECT_EQ(f["pages"], 2);
  EXPECT_FALSE(f.value("created_at", "").empty());
  EXPECT_EQ(count("SELECT count(*) FROM documents WHERE kind = 'upload' AND owner_user_id = " + std::to_string(alice_)),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM audit_events WHERE action = 'file.create'"), 1);

  // A generic Content-Type claims nothing; a text file has no page count.
  auto t = expect_json(alice.post_multipart("/api/v1/files", {{"file", "Hello fax\n", "note.txt", "application/octet-stream"}}), 201);
  EXPECT_EQ(t["media_type"], "text/plain");
  EXPECT_TRUE(t["pages"].is_null());
}

TEST_F(FaxRoutesTest, AFileThatLiesAboutItsTypeIsRefused) {
  auto alice = as(alice_);
  // Text bytes declared and named as a PDF.
  auto p = expect_problem(alice.post_multipart("/api/v1/files", {{"file", "just text\n", "invoice.pdf", "application/pdf"}}),
                          422, "file.type_mismatch");
  EXPECT_EQ(first_field(p), "/file");
  // PDF bytes declared as PNG; PDF bytes named .docx.
  expect_problem(alice.post_multipart("/api/v1/files", {{"file", *pdf_, "scan.png", "image/png"}}), 422,
                 "file.type_mismatch");
  expect_problem(alice.post_multipart("/api/v1/files", {{"file", *pdf_, "report.docx", "application/octet-stream"}}),
                 422, "file.type_mismatch");
  // A program named like a document.
  const std::string elf = std::string("\x7f" "ELF\x02\x01\x01", 7) + std::string(200, '\0');
  expect_problem(alice.post_multipart("/api/v1/files", {{"file", elf, "invoice.pdf", "application/octet-stream"}}), 422,
                 "file.type_mismatch");
  // The same program under its own name: a type we do not fax.
  expect_problem(alice.post_multipart("/api/v1/files", {{"file", elf, "tool", "application/octet-stream"}}), 400,
                 "document.unsupported_type");
  expect_problem(alice.post_multipart("/api/v1/files", {{"file", "", "empty.pdf", "application/pdf"}}), 400,
                 "document.empty");
  EXPECT_EQ(count("SELECT count(*) FROM documents"), 0);
}

TEST_F(FaxRoutesTest, UploadErrorsEachHaveTheirStatus) {
  auto alice = as(alice_);
  // 415: not multipart.
  expect_problem(alice.post("/api/v1/files", json{{"file", "x"}}), 415, "api.unsupported_media_type");
  // 422: no file, or a field this endpoint does not take.
  auto none = expect_problem(alice.post_multipart("/api/v1/files", {{"comment", "hi", "", ""}}), 422,
                             "api.validation_failed");
  EXPECT_EQ(none["errors"].size(), 2u);
  expect_problem(alice.post_multipart("/api/v1/files", {{"file", *pdf_, "a.pdf", "application/pdf"},
                                                        {"file", *pdf_, "b.pdf", "application/pdf"}}),
                 422, "api.validation_failed");
  // 400: a file part with another name; a truncated body.
  expect_problem(alice.post_multipart("/api/v1/files", {{"document", *pdf_, "a.pdf", "application/pdf"}}), 400,
                 "api.multipart_invalid");
  const std::string truncated = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4 abc";
  expect_problem(alice.send("POST", "/api/v1/files", truncated, "multipart/form-data; boundary=b"), 400,
                 "api.multipart_invalid");
  // 413: a file over the per-file limit (4 MiB here), streamed and cut off.
  expect_problem(alice.post_multipart("/api/v1/files", {{"file", std::string(5 << 20, 'a'), "big.txt", "text/plain"}}),
                 413, "api.body_too_large");
  // 413: a 200 MB body is refused from its Content-Length, before it is sent.
  auto t = pool_.transact([&](db::Tx& tx) { return db::api_tokens::create(tx, alice_, "raw", std::nullopt, clock_.now()); });
  ASSERT_TRUE(t);
  const auto answer = raw_exchange(
      port_,
      "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + t->plaintext +
          "\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 209715200\r\n\r\n",
      "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.pdf\"\r\n\r\n%PDF-1.4");
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_NE(answer.find("api.body_too_large"), std::string::npos);
  // 401 and 403.
  Client anonymous(port_);
  expect_problem(anonymous.post_multipart("/api/v1/files", {{"file", *pdf_, "a.pdf", "application/pdf"}}), 401,
                 "api.unauthenticated");
  auto level0 = as(nobody_);
  expect_problem(level0.post_multipart("/api/v1/files", {{"file", *pdf_, "a.pdf", "application/pdf"}}), 403,
                 "api.forbidden");
  EXPECT_EQ(count("SELECT count(*) FROM documents"), 0);
  // The service still serves.
  EXPECT_GT(upload(alice), 0);
}

// ---- POST /faxes ------------------------------------------------------------------

TEST_F(FaxRoutesTest, ABroadcastMakesOneFaxPerRecipientInOrderAndAnnouncesEach) {
  auto alice = as(alice_);
  const auto file = upload(alice);
  json body = {{"to", {"+4930123456", {{"number", "+39 02 9786 5403"}, {"name", "Dr. Rossi"}, {"company", "ACME"}}, "0044 20 7946 0000"}},
               {"files", {file}},
               {"cover_page", "default"},
               {"subject", "Invoice 42"},
               {"note", "Please pay"},
               {"resolution", "standard"},
               {"priority", "high"},
               {"send_at", "2027-01-02T03:04:05Z"},
               {"max_attempts", 5},
               {"retry_interval_s", 120},
               {"labels", {"billing", "q4"}},
               {"client_reference", "INV-42"}};
  auto r = expect_json(alice.post("/api/v1/faxes", body), 201);
  ASSERT_EQ(r["faxes"].size(), 3u);
  const auto& f = r["faxes"][1];
  EXPECT_EQ(r["faxes"][0]["to"], "+4930123456");
  EXPECT_EQ(f["to"], "+39 02 9786 5403");
  EXPECT_EQ(r["faxes"][2]["to"], "0044 20 7946 0000");
  EXPECT_EQ(f["recipient_name"], "Dr. Rossi");
  EXPECT_EQ(f["recipient_company"], "ACME");
  EXPECT_EQ(f["direction"], "outbound");
  EXPECT_EQ(f["status"], "submitted");
  EXPECT_TRUE(std::regex_match(f["reference"].get<std::string>(), std::regex(R"(\d{4}\.\d{8})")));
  EXPECT_EQ(f["subject"], "Invoice 42");
  EXPECT_EQ(f["note"], "Please pay");
  EXPECT_EQ(f["cover_page"], "default");
  EXPECT_EQ(f["resolution"], "standard");
  EXPECT_EQ(f["priority"], "high");
  EXPECT_EQ(f["send_at"], "2027-01-02T03:04:05.000Z");
  EXPECT_EQ(f["max_attempts"], 5);
  EXPECT_EQ(f["retry_interval_s"], 120);
  EXPECT_EQ(f["labels"], json({"billing", "q4"}));
  EXPECT_EQ(f["client_reference"], "INV-42");
  EXPECT_EQ(f["sender"], json({{"id", alice_}, {"username", "alice"}}));
  EXPECT_EQ(f["files"], json({file}));
  EXPECT_TRUE(f["pages_total"].is_null());
  EXPECT_EQ(f["pages_confirmed"], 0);
  EXPECT_EQ(f["attempts_count"], 0);
  EXPECT_TRUE(f["failure"].is_null());
  EXPECT_TRUE(f["completed_at"].is_null());
  // Stored as the router and converter read it.
  EXPECT_EQ(count("SELECT count(*) FROM fax_jobs WHERE recipient_canonical IN ('+4930123456', '+390297865403', "
                  "'+442079460000') AND priority = 50 AND not_before = '2027-01-02T03:04:05Z' AND source = 'api'"),
            3);
  EXPECT_EQ(count("SELECT count(*) FROM audit_events WHERE action = 'fax.create'"), 1);
  std::lock_guard<std::mutex> l(announcer_.mutex);
  ASSERT_EQ(announcer_.works.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(announcer_.works[i].first, "fax_jobs.submitted");
    EXPECT_EQ(announcer_.works[i].second, r["faxes"][i]["id"]);
  }
}

TEST_F(FaxRoutesTest, ABadNumberAtPositionSevenOfTenWritesNoJob) {
  auto alice = as(alice_);
  json to = json::array();
  for (int i = 0; i < 10; ++i) to.push_back("+49301234" + std::to_string(10 + i));
  to[6] = "+49 30 CALL-NOW";
  auto p = expect_problem(alice.post("/api/v1/faxes", {{"to", to}, {"files", {upload(alice)}}}), 422,
                          "api.validation_failed");
  ASSERT_EQ(p["errors"].size(), 1u);
  EXPECT_EQ(p["errors"][0]["field"], "/to/6");
  EXPECT_EQ(p["errors"][0]["code"], "phone.invalid");
  to[6] = {{"number", "12+3"}};
  p = expect_problem(alice.post("/api/v1/faxes", {{"to", to}, {"files", {upload(alice)}}}), 422, "api.validation_failed");
  EXPECT_EQ(first_field(p), "/to/6/number");
  EXPECT_EQ(count("SELECT count(*) FROM fax_jobs"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM job_events"), 0);
}

TEST_F(FaxRoutesTest, TenThousandRecipientsAreRefusedQuickly) {
  auto alice = as(alice_);
  json to = json::array();
  for (int i = 0; i < 10000; ++i) to.push_back("+4930" + std::to_string(1000000 + i));
  // Refused by its length, before a number is parsed or the database asked (no timing
  // threshold: the field's code says which check refused it).
  auto p = expect_problem(alice.post("/api/v1/faxes", {{"to", to}, {"files", {1}}}), 422, "api.validation_failed");
  EXPECT_EQ(first_field(p), "/to");
  EXPECT_EQ(p["errors"][0]["code"], "api.field_too_long");
  // A thousand is the limit, and is written in one transaction.
  to.erase(to.begin() + 1000, to.end());
  auto r = expect_json(alice.post("/api/v1/faxes", {{"to", to}, {"files", {upload(alice)}}}), 201);
  EXPECT_EQ(r["faxes"].size(), 1000u);
  EXPECT_EQ(count("SELECT count(*) FROM fax_jobs"), 1000);
}

TEST_F(FaxRoutesTest, TheBodyIsValidatedFieldByField) {
  auto alice = as(alice_);
  const auto file = upload(alice);
  struct Case {
    json body;
    std::string field;
    std::string code;
  };
  const std::vector<Case> cases = {
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"subjet", "typo"}}, "/subjet", "api.field_unknown"},
      {{{"files", {file}}}, "/to", "api.field_required"},
      {{{"to", json::array()}, {"files", {file}}}, "/to", "api.field_too_short"},
      {{{"to", "+4930123456"}, {"files", {file}}}, "/to", "api.field_wrong_type"},
      {{{"to", {42}}, {"files", {file}}}, "/to/0", "api.field_wrong_type"},
      {{{"to", {"+4930123456"}}}, "/files", "api.field_required"},
      {{{"to", {"+4930123456"}}, {"files", {"12"}}}, "/files/0", "api.field_wrong_type"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"resolution", "ultra"}}, "/resolution", "api.field_invalid"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"priority", "urgent"}}, "/priority", "api.field_invalid"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"send_at", "tomorrow"}}, "/send_at", "api.field_invalid"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"send_at", "2026-02-30T10:00:00Z"}}, "/send_at", "api.field_invalid"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"send_at", "2100-01-01T00:00:00Z"}}, "/send_at", "api.field_out_of_range"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"send_at", "2999-01-01T00:00:00Z"}}, "/send_at", "api.field_invalid"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"max_attempts", 0}}, "/max_attempts", "api.field_out_of_range"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"retry_interval_s", 5}}, "/retry_interval_s", "api.field_out_of_range"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"labels", json(std::vector<std::string>(21, "x"))}}, "/labels", "api.field_too_long"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"labels", {std::string(65, 'x')}}}, "/labels/0", "api.field_too_long"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"labels", {""}}}, "/labels/0", "api.field_too_short"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"labels", {"a\nb"}}}, "/labels", "api.field_invalid"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"client_reference", std::string(129, 'r')}}, "/client_reference", "api.field_too_long"},
      {{{"to", {"+4930123456"}}, {"files", {file}}, {"subject", 7}}, "/subject", "api.field_wrong_type"},
      {{{"to", {{{"number", "+4930123456"}, {"fax", "x"}}}}, {"files", {file}}}, "/to/0/fax", "api.field_unknown"},
      {{{"to", {"'; DROP TABLE fax_jobs; --"}}, {"files", {file}}}, "/to/0", "phone.invalid"},
  };
  for (const auto& c : cases) {
    auto p = expect_problem(alice.post("/api/v1/faxes", c.body), 422, "api.validation_failed");
    ASSERT_FALSE(p["errors"].empty()) << c.body.dump();
    EXPECT_EQ(p["errors"][0]["field"], c.field) << c.body.dump();
    EXPECT_EQ(p["errors"][0]["code"], c.code) << c.body.dump();
  }
  expect_problem(alice.send("POST", "/api/v1/faxes", "{\"to\": [", "application/json"), 400, "api.invalid_json");
  expect_problem(alice.send("POST", "/api/v1/faxes", "to=+4930123456", "text/plain"), 415, "api.unsupported_media_type");
  expect_problem(alice.send("POST", "/api/v1/faxes", std::string(2 << 20, ' '), "application/json"), 413,
                 "api.body_too_large");
  EXPECT_EQ(count("SELECT count(*) FROM fax_jobs"), 0);
}

TEST_F(FaxRoutesTest, FilesAndCoverPagesMustExistAndBeTheCallers) {
  auto alice = as(alice_);
  auto bob = as(bob_);
  const auto bobs_file = upload(bob);
  const auto alices_file = upload(alice);
  auto p = expect_problem(alice.post("/api/v1/faxes", {{"to", {"+4930123456"}}, {"files", {alices_file, bobs_file}}}),
                          404, "file.not_found");
  EXPECT_EQ(first_field(p), "/files/1");
  expect_problem(alice.post("/api/v1/faxes", {{"to", {"+4930123456"}}, {"files", {999999}}}), 404, "file.not_found");
  p = expect_problem(
      alice.post("/api/v1/faxes", {{"to", {"+4930123456"}}, {"files", {alices_file}}, {"cover_page", "../nope"}}), 404,
      "cover_page.not_found");
  EXPECT_EQ(first_field(p), "/cover_page");
  EXPECT_EQ(count("SELECT count(*) FROM fax_jobs"), 0);
  // "" is no cover page; a localized one is found by its name ("en_" + name).
  sql("INSERT INTO cover_pages (name, svg) VALUES ('en_memo', '<svg/>')");
  auto none = expect_json(alice.post("/api/v1/faxes", {{"to", {"+4930123456"}}, {"files", {alices_file}}, {"cover_page", ""}}), 201);
  EXPECT_EQ(none["faxes"][0]["cover_page"], "");
  expect_json(alice.post("/api/v1/faxes", {{"to", {"+4930123456"}}, {"files", {alices_file}}, {"cover_page", "memo"}}), 201);
  // A localized name of a page shipped only plain: the converter falls back to it.
  expect_json(alice.post("/api/v1/faxes", {{"to", {"+4930123456"}}, {"files", {alices_file}}, {"cover_page", "en_default"}}), 201);
  expect_problem(alice.post("/api/v1/faxes", {{"to", {"+4930123456"}}, {"files", {alices_file}}, {"cover_page", "en_nope"}}),
                 404, "cover_page.not_found");
}

TEST_F(FaxRoutesTest, WhoMaySend) {
  Client anonymous(port_);
  expect_problem(anonymous.post("/api/v1/faxes", {{"to", {"+4930123456"}}, {"files", {1}}}), 401, "api.unauthenticated");
  auto level0 = as(nobody_);
  expect_problem(level0.post("/api/v1/faxes", {{"to", {"+4930123456"}}, {"files", {1}}}), 403, "api.forbidden");
  auto alice = as(alice_);
  const auto file = upload(alice);
  sql("UPDATE users SET enable_send = false WHERE id = " + std::to_string(alice_));
  expect_problem(alice.post("/api/v1/faxes", {{"to", {"+4930123456"}}, {"files", {file}}}), 403,
                 "auth.send_not_enabled");
  EXPECT_EQ(count("SELECT count(*) FROM fax_jobs"), 0);
}

TEST_F(FaxRoutesTest, AMultipartSubmissionCarriesTheFilesAndTheFields) {
  auto alice = as(alice_);
  const auto earlier = upload(alice);
  auto r = expect_json(alice.post_multipart("/api/v1/faxes",
                                            {{"to", "+4930123456, +4930123457", "", ""},
                                             {"to", "+4930123458", "", ""},
                                             {"files", std::to_string(earlier), "", ""},
                                             {"subject", "From a form", "", ""},
                                             {"labels", "a", "", ""},
                                             {"labels", "b", "", ""},
                                             {"max_attempts", "4", "", ""},
                                             {"file", *pdf_, "letter.pdf", "application/pdf"},
                                             {"file", "A note\n", "note.txt", "text/plain"}}),
                       201);
  ASSERT_EQ(r["faxes"].size(), 3u);
  const auto& f = r["faxes"][2];
  EXPECT_EQ(f["to"], "+4930123458");
  EXPECT_EQ(f["subject"], "From a form");
  EXPECT_EQ(f["labels"], json({"a", "b"}));
  EXPECT_EQ(f["max_attempts"], 4);
  ASSERT_EQ(f["files"].size(), 3u);
  EXPECT_EQ(f["files"][0], earlier);
  EXPECT_EQ(count("SELECT count(*) FROM documents WHERE kind = 'upload'"), 3);

  // A lying file part, a bad field or a bad number: nothing is written, uploads neither.
  expect_problem(alice.post_multipart("/api/v1/faxes", {{"to", "+4930123456", "", ""},
                                                        {"file", "text", "scan.pdf", "application/pdf"}}),
                 422, "file.type_mismatch");
  auto p = expect_problem(alice.post_multipart("/api/v1/faxes", {{"to", "+4930123456,+49 30 CALL", "", ""},
                                                                 {"file", *pdf_, "letter.pdf", "application/pdf"}}),
                          422, "api.validation_failed");
  EXPECT_EQ(first_field(p), "/to/1");
  p = expect_problem(alice.post_multipart("/api/v1/faxes", {{"to", "+4930123456", "", ""},
                                                           {"subject", "a", "", ""},
                                                           {"subject", "b", "", ""},
                                                           {"file", *pdf_, "letter.pdf", "application/pdf"}}),
                     422, "api.validation_failed");
  EXPECT_EQ(first_field(p), "/subject");
  expect_problem(alice.post_multipart("/api/v1/faxes", {{"to", "+4930123456", "", ""},
                                                        {"file", std::string(5 << 20, 'a'), "big.txt", "text/plain"}}),
                 413, "api.body_too_large");
  EXPECT_EQ(count("SELECT count(*) FROM fax_jobs"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM documents WHERE kind = 'upload'"), 3);
}

// ---- Idempotency-Key ----------------------------------------------------------------

TEST_F(FaxRoutesTest, TheSameKeyAndBodyReplayTheFirstAnswer) {
  auto alice = as(alice_);
  const auto file = upload(alice);
  const json body = {{"to", {"+4930123456", "+4930123457"}}, {"files", {file}}, {"subject", "once"}};
  const httplib::Headers key = {{"Idempotency-Key", "order-7781"}};
  auto first = alice.post("/api/v1/faxes", body, key);
  expect_json(first, 201);
  EXPECT_EQ(first.header("Idempotent-Replayed"), "");
  // Same body, keys in another order and other spacing: the same canonical request.
  auto again = alice.send("POST", "/api/v1/faxes",
                          R"({"subject": "once",   "files": [)" + std::to_string(file) +
                              R"(], "to": ["+4930123456", "+4930123457"]})",
                          "application/json", key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(count("SELECT count(*) FROM fax_jobs"), 2);
  EXPECT_EQ(announcer_.works.size(), 2u) << "a replay announces nothing";

  // Another body under the same key.
  json other = body;
  other["subject"] = "twice";
  expect_problem(alice.post("/api/v1/faxes", other, key), 422, "api.idempotency_key_reused");
  // Keys are per user: bob's "order-7781" is his own.
  auto bob = as(bob_);
  expect_json(bob.post("/api/v1/faxes", {{"to", {"+4930123456"}}, {"files", {upload(bob)}}}, key), 201);
  // After 24 hours the key is new again.
  sql("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = " + std::to_string(alice_));
  expect_json(alice.post("/api/v1/faxes", other, key), 201);
  EXPECT_EQ(count("SELECT count(*) FROM fax_jobs"), 5);
  // Expired keys are purged as new ones are claimed.
  sql("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = " + std::to_string(bob_));
  expect_json(alice.post("/api/v1/faxes", body, {{"Idempotency-Key", "fresh"}}), 201);
  EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys WHERE user_id = " + std::to_string(bob_)), 0);
  // A malformed key.
  expect_problem(alice.post("/api/v1/faxes", body, {{"Idempotency-Key", std::string(300, 'k')}}), 400, "api.bad_request");
}

TEST_F(FaxRoutesTest, AKeyStillInFlightIs409AndAFailedRequestGivesItsKeyUp) {
  auto alice = as(alice_);
  const auto file = upload(alice);
  const json body = {{"to", {"+4930123456"}}, {"files", {file}}};
  // A claim whose request is still running (status 0), with this body's hash.
  auto claim = pool_.transact([&](db::Tx& tx) {
    return db::idempotency::claim(tx, alice_, "busy", "", 24h, 120s);
  });
  ASSERT_TRUE(claim);
  sql("UPDATE idempotency_keys SET request_hash = decode(repeat('00', 32), 'hex') WHERE key = 'busy'");
  // The hash differs: reused. With the right hash in flight: in progress.
  expect_problem(alice.post("/api/v1/faxes", body, {{"Idempotency-Key", "busy"}}), 422, "api.idempotency_key_reused");
  sql("DELETE FROM idempotency_keys");
  // Take the real hash from a first successful request, then make it look in flight.
  expect_json(alice.post("/api/v1/faxes", body, {{"Idempotency-Key", "k1"}}), 201);
  sql("UPDATE idempotency_keys SET status = 0, response = 'null' WHERE key = 'k1'");
  expect_problem(alice.post("/api/v1/faxes", body, {{"Idempotency-Key", "k1"}}), 409, "api.idempotency_in_progress");
  // A claim abandoned for over two minutes is taken over.
  sql("UPDATE idempotency_keys SET created_at = now() - interval '3 minutes' WHERE key = 'k1'");
  expect_json(alice.post("/api/v1/faxes", body, {{"Idempotency-Key", "k1"}}), 201);

  // A request that fails (a file that is not hers) leaves no key behind: fixed, the
  // same key goes through.
  expect_problem(alice.post("/api/v1/faxes", {{"to", {"+4930123456"}}, {"files", {424242}}}, {{"Idempotency-Key", "k2"}}),
                 404, "file.not_found");
  EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys WHERE key = 'k2'"), 0);
  expect_json(alice.post("/api/v1/faxes", body, {{"Idempotency-Key", "k2"}}), 201);
}

TEST_F(FaxRoutesTest, TwoConcurrentTwinsWriteTheBroadcastOnce) {
  auto alice = as(alice_);
  const auto file = upload(alice);
  json to = json::array();
  for (int i = 0; i < 50; ++i) to.push_back("+4930" + std::to_string(2000000 + i));
  for (int round = 0; round < 6; ++round) {
    const httplib::Headers key = {{"Idempotency-Key", "twin-" + std::to_string(round)}};
    const json body = {{"to", to}, {"files", {file}}, {"subject", "round " + std::to_string(round)}};
    Reply a, b;
    std::atomic<int> ready{0};
    auto run = [&](Reply& out) {
      Client c = alice;
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
      out = c.post("/api/v1/faxes", body, key);
    };
    std::thread t1([&] { run(a); }), t2([&] { run(b); });
    t1.join();
    t2.join();
    int created = 0;
    for (const Reply* r : {&a, &b}) {
      ASSERT_TRUE(r->status == 201 || r->status == 409) << r->status << " " << r->body;
      if (r->status == 201) ++created;
      if (r->status == 409) EXPECT_EQ(r->json.value("code", ""), "api.idempotency_in_progress");
    }
    EXPECT_GE(created, 1);
    if (a.status == 201 && b.status == 201) EXPECT_EQ(a.body, b.body) << "the second is the first's replay";
    EXPECT_EQ(count("SELECT count(*) FROM fax_jobs"), 50 * (round + 1)) << "round " << round;
  }
}

// ---- GET /faxes, GET /faxes/{id} ------------------------------------------------------

TEST_F(FaxRoutesTest, TheListPagesNewestFirstByCursorAndShowsOwnFaxesOnly) {
  auto alice = as(alice_);
  auto bob = as(bob_);
  auto admin = as(admin_);
  const auto file = upload(alice);
  std::vector<std::int64_t> alices;
  for (int i = 0; i < 25; ++i) {
    json labels = i % 5 == 0 ? json({"tenth"}) : json::array();
    auto r = expect_json(alice.post("/api/v1/faxes", {{"to", {"+4930" + std::to_string(3000000 + i)}},
                                                      {"files", {file}},
                                                      {"labels", labels},
                                                      {"client_reference", "cr-" + std::to_string(i)}}),
                         201);
    alices.push_back(r["faxes"][0]["id"]);
  }
  for (int i = 0; i < 5; ++i) send_one(bob, "+4930400000" + std::to_string(i));

  std::vector<std::int64_t> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r = expect_json(alice.get("/api/v1/faxes?limit=10" + (cursor.empty() ? "" : "&cursor=" + cursor)), 200);
    for (const auto& f : r["faxes"]) seen.push_back(f["id"]);
    cursor = r["next_cursor"].is_null() ? "" : r["next_cursor"].get<std::string>();
    ++pages;
    // A fax sent meanwhile sorts before the cursor: it neither shifts nor repeats a page.
    if (pages == 1) send_one(alice, "+4930999999");
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  std::vector<std::int64_t> expected(alices.rbegin(), alices.rend());
  EXPECT_EQ(seen, expected);

  // Filters.
  EXPECT_EQ(expect_json(alice.get("/api/v1/faxes?label=tenth"), 200)["faxes"].size(), 5u);
  EXPECT_EQ(expect_json(alice.get("/api/v1/faxes?client_reference=cr-3"), 200)["faxes"].size(), 1u);
  EXPECT_EQ(expect_json(alice.get("/api/v1/faxes?to=%2B49%2030%203000004"), 200)["faxes"][0]["id"], alices[4]);
  EXPECT_EQ(expect_json(alice.get("/api/v1/faxes?status=submitted,queued&limit=200"), 200)["faxes"].size(), 26u);
  EXPECT_EQ(expect_json(alice.get("/api/v1/faxes?status=sent"), 200)["faxes"].size(), 0u);
  EXPECT_EQ(expect_json(alice.get("/api/v1/faxes?created_after=2100-01-01T00:00:00Z"), 200)["faxes"].size(), 0u);
  EXPECT_EQ(expect_json(alice.get("/api/v1/faxes?created_before=2100-01-01T00:00:00Z&limit=200"), 200)["faxes"].size(),
            26u);
  const auto reference = expect_json(alice.get("/api/v1/faxes/" + std::to_string(alices[7])), 200)["reference"];
  auto by_ref = expect_json(alice.get("/api/v1/faxes?reference=" + reference.get<std::string>()), 200);
  ASSERT_EQ(by_ref["faxes"].size(), 1u);
  EXPECT_EQ(by_ref["faxes"][0]["id"], alices[7]);
  // Bob does not find alice's fax by its reference either.
  EXPECT_EQ(expect_json(bob.get("/api/v1/faxes?reference=" + reference.get<std::string>()), 200)["faxes"].size(), 0u);
  EXPECT_EQ(expect_json(bob.get("/api/v1/faxes"), 200)["faxes"].size(), 5u);

  // An administrator sees everybody's, and filters by sender.
  EXPECT_EQ(expect_json(admin.get("/api/v1/faxes?limit=200"), 200)["faxes"].size(), 31u);
  EXPECT_EQ(expect_json(admin.get("/api/v1/faxes?sender=" + std::to_string(bob_)), 200)["faxes"].size(), 5u);
  expect_problem(alice.get("/api/v1/faxes?sender=" + std::to_string(bob_)), 403, "api.forbidden");

  // Bad queries.
  expect_problem(alice.get("/api/v1/faxes?cursor=not-a-cursor"), 400, "api.cursor_invalid");
  expect_problem(alice.get("/api/v1/faxes?cursor=MTIz"), 400, "api.cursor_invalid");  // "123"
  auto p = expect_problem(alice.get("/api/v1/faxes?limit=0"), 422, "api.validation_failed");
  EXPECT_EQ(first_field(p), "limit");
  expect_problem(alice.get("/api/v1/faxes?limit=201"), 422, "api.validation_failed");
  p = expect_problem(alice.get("/api/v1/faxes?stat=sent"), 422, "api.validation_failed");
  EXPECT_EQ(p["errors"][0]["code"], "api.field_unknown");
  expect_problem(alice.get("/api/v1/faxes?status=lost"), 422, "api.validation_failed");
  expect_problem(alice.get("/api/v1/faxes?created_after=yesterday"), 422, "api.validation_failed");
  expect_problem(alice.get("/api/v1/faxes?direction=inbound"), 422, "api.validation_failed");
  Client anonymous(port_);
  expect_problem(anonymous.get("/api/v1/faxes"), 401, "api.unauthenticated");
  auto level0 = as(nobody_);
  expect_problem(level0.get("/api/v1/faxes"), 403, "api.forbidden");
}

TEST_F(FaxRoutesTest, OneFaxShowsItsAttemptsAndItsFailure) {
  auto alice = as(alice_);
  const auto fax = send_one(alice, "+4930123456");
  const std::int64_t id = fax["id"];
  auto attempt = pool_.transact([&](db::Tx& tx) -> Result<std::int64_t> {
    auto a = db::attempts::open(tx, {id, "gw1", std::nullopt, "10.0.0.1", "004930123456"});
    if (!a) return a;
    db::AttemptEnd end;
    end.outcome = db::Outcome::kBusy;
    end.sip_status = 486;
    end.media = "t38";
    end.error_code = "call.busy";
    if (auto c = db::attempts::close(tx, *a, end); !c) return c.error();
    return a;
  });
  ASSERT_TRUE(attempt) << attempt.error().to_string();
  sql("UPDATE fax_jobs SET state = 'failed', error_code = 'call.busy', error_category = 'line', "
      "error_detail = 'The line was busy 5 times.', error_retryable = true, completed_at = now() WHERE id = " +
      std::to_string(id));
  auto f = expect_json(alice.get("/api/v1/faxes/" + std::to_string(id)), 200);
  EXPECT_EQ(f["status"], "failed");
  EXPECT_EQ(f["attempts_count"], 1);
  EXPECT_EQ(f["failure"], json({{"category", "line"},
                                {"code", "call.busy"},
                                {"t30_code", nullptr},
                                {"sip_status", 486},
                                {"retryable", true},
                                {"detail", "The line was busy 5 times."}}));
  ASSERT_EQ(f["attempts"].size(), 1u);
  const auto& a = f["attempts"][0];
  EXPECT_EQ(a["number"], 1);
  EXPECT_EQ(a["outcome"], "busy");
  EXPECT_EQ(a["sip_status"], 486);
  EXPECT_EQ(a["media"], "t38");
  EXPECT_EQ(a["error_code"], "call.busy");
  EXPECT_FALSE(a["ended_at"].is_null());
  EXPECT_FALSE(f["completed_at"].is_null());

  // Another user's fax is a missing fax; an administrator sees it.
  auto bob = as(bob_);
  auto mine = expect_problem(bob.get("/api/v1/faxes/" + std::to_string(id)), 404, "fax.not_found");
  auto none = expect_problem(bob.get("/api/v1/faxes/99999999"), 404, "fax.not_found");
  EXPECT_EQ(mine["title"], none["title"]);
  expect_problem(alice.get("/api/v1/faxes/abc"), 404, "fax.not_found");
  expect_json(as(admin_).get("/api/v1/faxes/" + std::to_string(id)), 200);
  Client anonymous(port_);
  expect_problem(anonymous.get("/api/v1/faxes/" + std::to_string(id)), 401, "api.unauthenticated");
  expect_problem(as(nobody_).get("/api/v1/faxes/" + std::to_string(id)), 403, "api.forbidden");
}

// ---- cancel, resend ---------------------------------------------------------------------

TEST_F(FaxRoutesTest, CancelAFaxAndTellTheGatewayOfACallInProgress) {
  auto alice = as(alice_);
  auto bob = as(bob_);
  const std::int64_t waiting = send_one(alice, "+4930123456")["id"];
  expect_problem(bob.post("/api/v1/faxes/" + std::to_string(waiting) + "/cancel", json::object()), 404, "fax.not_found");
  auto c = expect_json(alice.post("/api/v1/faxes/" + std::to_string(waiting) + "/cancel", json::object()), 200);
  EXPECT_EQ(c["status"], "cancelled");
  EXPECT_EQ(c["failure"]["code"], "call.cancelled");
  expect_problem(alice.post("/api/v1/faxes/" + std::to_string(waiting) + "/cancel", json::object()), 409,
                 "job.not_cancellable");
  EXPECT_EQ(count("SELECT count(*) FROM audit_events WHERE action = 'fax.cancel'"), 1);

  // A fax in a call: flagged, and the gateway that holds it is told.
  const std::int64_t calling = send_one(alice, "+4930123457")["id"];
  sql("UPDATE fax_jobs SET state = 'sending', owner = 'gw-7', lease_until = now() + interval '1 minute' WHERE id = " +
      std::to_string(calling));
  auto requested = expect_json(as(admin_).post("/api/v1/faxes/" + std::to_string(calling) + "/cancel", json::object()), 200);
  EXPECT_EQ(requested["status"], "sending");
  EXPECT_EQ(requested["cancel_requested"], true);
  std::lock_guard<std::mutex> l(announcer_.mutex);
  ASSERT_EQ(announcer_.cancels.size(), 1u);
  EXPECT_EQ(announcer_.cancels[0], std::make_pair(std::string("gw-7"), calling));
  expect_problem(alice.post("/api/v1/faxes/nope/cancel", json::object()), 404, "fax.not_found");
  expect_problem(alice.send("POST", "/api/v1/faxes/" + std::to_string(calling) + "/cancel", std::string(8 << 10, 'x'),
                            "application/json"),
                 413, "api.body_too_large");
}

TEST_F(FaxRoutesTest, ResendAFinishedFaxWithItsDocumentsAndFields) {
  auto alice = as(alice_);
  auto fax = send_one(alice, "+4930123456",
                      {{"subject", "again"}, {"labels", {"l1"}}, {"client_reference", "c1"}, {"send_at", "2027-01-01T00:00:00Z"}});
  const std::int64_t id = fax["id"];
  expect_problem(alice.post("/api/v1/faxes/" + std::to_string(id) + "/resend", json::object()), 409, "fax.not_resendable");
  expect_json(alice.post("/api/v1/faxes/" + std::to_string(id) + "/cancel", json::object()), 200);
  expect_problem(as(bob_).post("/api/v1/faxes/" + std::to_string(id) + "/resend", json::object()), 404, "fax.not_found");
  auto r = expect_json(alice.post("/api/v1/faxes/" + std::to_string(id) + "/resend", json::object()), 201);
  ASSERT_EQ(r["faxes"].size(), 1u);
  const auto& n = r["faxes"][0];
  EXPECT_NE(n["id"], id);
  EXPECT_NE(n["reference"], fax["reference"]);
  EXPECT_EQ(n["status"], "submitted");
  EXPECT_EQ(n["to"], "+4930123456");
  EXPECT_EQ(n["subject"], "again");
  EXPECT_EQ(n["files"], fax["files"]);
  EXPECT_EQ(n["labels"], json({"l1"}));
  EXPECT_EQ(n["client_reference"], "c1");
  EXPECT_TRUE(n["send_at"].is_null()) << "a resend goes now";
  std::lock_guard<std::mutex> l(announcer_.mutex);
  EXPECT_EQ(announcer_.works.back().second, n["id"]);
}

}  // namespace
}  // namespace faxbridge::webapi
