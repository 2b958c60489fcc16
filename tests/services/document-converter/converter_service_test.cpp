// faxbridge-document-converter as a real process against the real Postgres harness and
// bus: submitted jobs become ready with their page count and pages document; a bad
// document fails its own job with its code and sentence and the next job still
// converts; received faxes get their PDF.
#include <gtest/gtest.h>
#include <httplib.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <pqxx/pqxx>

#include "../../libs/document/fixtures.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/document/tiff.hpp"
#include "faxbridge/testing/process.hpp"

namespace faxbridge {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::eventually;

class ConverterService : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = db::testing::migrated_database("conv");
    bus_ = testing::start_bus(FAXBRIDGE_BUS_BIN, ports_);
    char tmpl[] = "/tmp/faxbridge-conv-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    pool_ = std::make_unique<db::Pool>(db::PoolSettings{dsn_, 2});
    auto user = pool_->transact([&](db::Tx& tx) {
      db::User u;
      u.username = "alice";
      u.display_name = "Alice Sender";
      u.fax_number = "+390200000001";
      return db::users::create(tx, u);
    });
    ASSERT_TRUE(user) << user.error().to_string();
    user_id_ = user->id;
  }
  void TearDown() override {
    converter_.reset();
    if (HasFailure()) {
      std::cerr << "converter log kept in " << dir_ << "\n";
    } else {
      std::filesystem::remove_all(dir_);
    }
  }

  void start_converter() {
    std::map<std::string, std::string> env{{"FAXBRIDGE_DB_DSN", dsn_},
                                           {"FAXBRIDGE_INSTANCE_ID", "converter-1"},
                                           {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", ports_.publish_endpoint()},
                                           {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", ports_.subscribe_endpoint()},
                                           {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
                                           {"FAXBRIDGE_HTTP_PORT", std::to_string(http_port_)},
                                           {"FAXBRIDGE_CONVERTER_SWEEP_MS", "200"},
                                           {"FAXBRIDGE_CONVERTER_WORKERS", "1"},
                                           {"FAXBRIDGE_CONVERTER_OFFICE", "false"},
                                           {"FAXBRIDGE_CONVERTER_WORK_DIR", dir_}};
    converter_ = std::make_unique<Child>(FAXBRIDGE_CONVERTER_BIN, std::vector<std::string>{}, env, dir_ + "/converter.log");
  }

  std::int64_t submit(const std::vector<std::pair<std::string, std::string>>& docs,
                      std::optional<std::string> cover = std::nullopt, std::int64_t sender = 0) {
    auto job = pool_->transact([&](db::Tx& tx) -> Result<db::Job> {
      db::NewJob j;
      j.sender_user_id = sender ? sender : user_id_;
      j.recipient_number = "+390212345678";
      j.recipient_canonical = "+390212345678";
      j.recipient_name = "Bob Receiver";
      j.subject = "Invoice 42";
      j.cover_page_name = cover;
      for (const auto& [name, bytes] : docs) {
        db::Document d;
        d.kind = "upload";
        d.media_type = "application/octet-stream";
        d.filename = name;
        d.bytes = bytes;
        auto stored = db::documents::put(tx, d);
        if (!stored) return stored.error();
        j.document_ids.push_back(stored->id);
      }
      return db::jobs::create(tx, j, "test");
    });
    EXPECT_TRUE(job) << job.error().to_string();
    return job ? job->id : 0;
  }

  db::Job job(std::int64_t id) {
    auto j = pool_->transact([&](db::Tx& tx) { return db::jobs::get(tx, id); });
    return j ? *j : db::Job{};
  }

  bool settled(std::int64_t id) {
    const auto s = job(id).state;
    return s == "ready" || s == "failed";
  }

  // A received fax whose TIFF is `tiff`, as the gateway leaves it for the router.
  std::int64_t receive(const std::string& tiff) {
    auto r = pool_->transact([&](db::Tx& tx) -> Result<std::int64_t> {
      db::Document d;
      d.kind = "received_tiff";
      d.media_type = "image/tiff";
      d.bytes = tiff;
      auto stored = db::documents::put(tx, d);
      if (!stored) return stored.error();
      return stored->id;
    });
    EXPECT_TRUE(r) << r.error().to_string();
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    const auto id = w.exec_params("INSERT INTO received_faxes (state, pages, tiff_document_id) "
                                  "VALUES ('received', 1, $1) RETURNING id", r ? *r : 0)[0][0]
                        .as<std::int64_t>();
    w.commit();
    return id;
  }

  // pdf_document_id, pdf_error_code and pdf_error_detail of a received fax ("" when NULL).
  std::array<std::string, 3> pdf_columns(std::int64_t rx) {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    auto row = w.exec_params("SELECT pdf_document_id::text, pdf_error_code, pdf_error_detail FROM received_faxes "
                             "WHERE id = $1", rx)[0];
    return {row[0].is_null() ? "" : row[0].as<std::string>(), row[1].is_null() ? "" : row[1].as<std::string>(),
            row[2].is_null() ? "" : row[2].as<std::string>()};
  }

  // The converter's /metrics, one line for each name{labels} it lists.
  std::map<std::string, std::string> metrics() {
    httplib::Client client("127.0.0.1", http_port_);
    auto res = client.Get("/metrics");
    std::map<std::string, std::string> out;
    if (!res || res->status != 200) return out;
    std::istringstream lines(res->body);
    for (std::string line; std::getline(lines, line);) {
      const auto space = line.rfind(' ');
      if (line.empty() || line[0] == '#' || space == std::string::npos) continue;
      out[line.substr(0, space)] = line.substr(space + 1);
    }
    return out;
  }

  std::string dsn_;
  testing::Ports ports_;
  int http_port_ = testing::free_port();
  std::unique_ptr<Child> bus_;
  std::unique_ptr<Child> converter_;
  std::unique_ptr<db::Pool> pool_;
  std::string dir_;
  std::int64_t user_id_ = 0;
};

TEST_F(ConverterService, JobsBecomeReadyAndBadDocumentsFailOnlyTheirJob) {
  fixtures::PdfPage page;
  page.text = "Dear Bob, please find the invoice attached.";
  const std::string pdf = fixtures::make_pdf({page, page});
  // Queued before the converter starts: its first sweep finds them, in order.
  const auto good = submit({{"invoice.pdf", pdf}, {"note.txt", "Thanks!\n"}});  // default cover + 2 + 1
  const auto encrypted = submit({{"locked.pdf", fixtures::encrypt_pdf(pdf, "pw", "owner")}});
  const auto truncated = submit({{"cut.pdf", pdf.substr(0, pdf.size() / 3)}});
  const auto empty = submit({{"empty.pdf", ""}});
  const auto unknown = submit({{"data.bin", std::string("\x7f\x01\x02\x03\xfe\xff\x00\x10", 8) + std::string(500, '\x01')}});
  const auto huge = submit({{"huge.png", fixtures::make_png_header(60000, 60000)}});
  const auto after = submit({{"later.txt", "still converting\n"}}, std::string(""));  // no cover page
  start_converter();
  for (auto id : {good, encrypted, truncated, empty, unknown, huge, after})
    ASSERT_TRUE(eventually([&] { return settled(id); }, 60s)) << "job " << id << " is " << job(id).state;

  const auto g = job(good);
  EXPECT_EQ(g.state, "ready");
  ASSERT_TRUE(g.page_count.has_value());
  EXPECT_EQ(*g.page_count, 4);
  ASSERT_TRUE(g.pages_document_id.has_value());
  EXPECT_TRUE(g.reference.has_value());
  auto pages = pool_->transact([&](db::Tx& tx) { return db::documents::get(tx, *g.pages_document_id); });
  ASSERT_TRUE(pages);
  EXPECT_EQ(pages->kind, "fax_pages");
  auto info = document::inspect_tiff(pages->bytes);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size(), 4u);
  for (const auto& p : *info) {
    EXPECT_EQ(p.width, 1728);
    EXPECT_EQ(p.compression, 4);
  }

  const std::map<std::int64_t, std::string> expected{{encrypted, "document.encrypted"},
                                                      {truncated, "document.corrupt"},
                                                      {empty, "document.empty"},
                                                      {unknown, "document.unsupported_type"},
                                                      {huge, "document.too_large"}};
  for (const auto& [id, code] : expected) {
    const auto j = job(id);
    EXPECT_EQ(j.state, "failed") << code;
    EXPECT_EQ(j.error_code.value_or(""), code);
    EXPECT_FALSE(j.error_detail.value_or("").empty()) << code;
  }
  const auto a = job(after);
  EXPECT_EQ(a.state, "ready");
  EXPECT_EQ(a.page_count.value_or(0), 1);
  EXPECT_TRUE(converter_->running());

  // The figures on the side port: 2 jobs ready (3 documents, 5 pages with the
  // cover), 5 failed, each under its code; a conversion time for each of the 7.
  auto m = metrics();
  EXPECT_EQ(m["faxbridge_conversion_jobs_total{result=\"ready\"}"], "2");
  EXPECT_EQ(m["faxbridge_conversion_jobs_total{result=\"failed\"}"], "5");
  EXPECT_EQ(m["faxbridge_conversion_documents_total"], "3");
  EXPECT_EQ(m["faxbridge_conversion_pages_total"], "5");
  for (const auto& [id, code] : expected)
    EXPECT_EQ(m["faxbridge_conversion_failures_total{code=\"" + code + "\"}"], "1") << code;
  EXPECT_EQ(m["faxbridge_conversion_seconds_count"], "7");
}

// A job that fails for its document is a final failure, told as the router tells one:
// fax.failed to the webhook endpoints, and the sender a failure_receipt when return
// receipts are on; a mail's sender always (mail-ingest's sender learns it no other way),
// once for the mail, whose jobs share the broken document and fail alike.
TEST_F(ConverterService, AFailedConversionTellsTheSenderOncePerMailAndTheWebhooks) {
  {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    w.exec_params("UPDATE users SET email = 'alice@example.test' WHERE id = $1", user_id_);
    w.exec("INSERT INTO webhook_endpoints (url, secret, events) VALUES ('https://hooks.example.test/f', 'whsec_x', "
           "'{fax.failed}')");
    w.commit();
  }
  // One mail to two numbers: two jobs on one stored (empty) document, and its ledger row.
  auto mailed = pool_->transact([&](db::Tx& tx) -> Result<std::vector<std::int64_t>> {
    db::Document d;
    d.kind = "upload";
    d.media_type = "application/pdf";
    d.filename = "empty.pdf";
    auto stored = db::documents::put(tx, d);
    if (!stored) return stored.error();
    std::vector<std::int64_t> ids;
    for (const char* number : {"401", "402"}) {
      db::NewJob j;
      j.source = "email";
      j.sender_user_id = user_id_;
      j.recipient_number = number;
      j.recipient_canonical = number;
      j.document_ids = {stored->id};
      auto job = db::jobs::create(tx, j, "test");
      if (!job) return job.error();
      ids.push_back(job->id);
    }
    return ids;
  });
  ASSERT_TRUE(mailed) << mailed.error().to_string();
  {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    w.exec_params("INSERT INTO ingested_messages (mailbox, message_id, job_ids, outcome) "
                  "VALUES ('fax@mail.example.test:993/INBOX', '<m1@example.test>', ARRAY[$1, $2]::bigint[], 'faxed')",
                  (*mailed)[0], (*mailed)[1]);
    w.commit();
  }
  const auto by_api = submit({{"cut.pdf", "%PDF-1.4\n"}});
  start_converter();
  for (auto id : {(*mailed)[0], (*mailed)[1], by_api})
    ASSERT_TRUE(eventually([&] { return settled(id); }, 60s)) << "job " << id << " is " << job(id).state;
  // With return receipts off, only the mail's sender is told.
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) {
    return db::settings::set(tx, "receipts.return_enabled", "false", std::nullopt);
  }));
  const auto quiet = submit({{"empty.pdf", ""}});
  ASSERT_TRUE(eventually([&] { return settled(quiet); }, 60s));

  pqxx::connection c(dsn_);
  pqxx::work w(c);
  const auto count = [&](const std::string& where) {
    return w.exec("SELECT count(*) FROM notifications WHERE " + where)[0][0].as<int>();
  };
  const std::string mail_jobs = "job_id IN (" + std::to_string((*mailed)[0]) + ", " + std::to_string((*mailed)[1]) + ")";
  EXPECT_EQ(count("kind = 'failure_receipt' AND " + mail_jobs), 1) << "one receipt for the mail";
  EXPECT_EQ(count("kind = 'failure_receipt' AND recipient = 'alice@example.test' AND job_id = " +
                  std::to_string(by_api)),
            1);
  EXPECT_EQ(count("kind = 'failure_receipt' AND job_id = " + std::to_string(quiet)), 0) << "receipts are off";
  EXPECT_EQ(count("kind = 'webhook' AND payload->>'event' = 'fax.failed'"), 4) << "every failed job, to the endpoint";
  auto receipt = w.exec("SELECT payload->>'reference', payload->'error'->>'code', payload->'error'->>'category' "
                        "FROM notifications WHERE kind = 'failure_receipt' AND " + mail_jobs);
  ASSERT_EQ(receipt.size(), 1u);
  EXPECT_FALSE(receipt[0][0].as<std::string>().empty()) << "the reference number";
  EXPECT_EQ(receipt[0][1].as<std::string>(), "document.empty");
  EXPECT_EQ(receipt[0][2].as<std::string>(), "document");
}

TEST_F(ConverterService, CoverPagesFollowTheSendersLanguageAndStopWhenTheDefaultIsDeleted) {
  // An Italian copy of the default cover: a page that is all black, easy to tell apart.
  auto italian = pool_->transact([&](db::Tx& tx) -> Result<std::int64_t> {
    auto put = db::cover_pages::put(tx, {"it_default",
                                         "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10' "
                                         "preserveAspectRatio='none'><rect width='10' height='10'/></svg>",
                                         false});
    if (!put) return put.error();
    db::User u;
    u.username = "mario";
    u.language = "it";
    auto user = db::users::create(tx, u);
    if (!user) return user.error();
    return user->id;
  });
  ASSERT_TRUE(italian) << italian.error().to_string();
  const auto it_job = submit({{"a.txt", "ciao\n"}}, std::nullopt, *italian);
  const auto en_job = submit({{"b.txt", "hello\n"}});
  start_converter();
  for (auto id : {it_job, en_job}) ASSERT_TRUE(eventually([&] { return settled(id); }, 60s));
  auto first_page_ink = [&](std::int64_t id) {
    const auto j = job(id);
    auto pages = pool_->transact([&](db::Tx& tx) { return db::documents::get(tx, *j.pages_document_id); });
    auto doc = document::read_fax_tiff(pages->bytes);
    const auto& p = doc->pages.at(0);
    return static_cast<double>(p.count_black(0, 100, p.width, p.height - 100)) / (p.width * (p.height - 200.0));
  };
  EXPECT_EQ(job(it_job).page_count.value_or(0), 2);
  EXPECT_GT(first_page_ink(it_job), 0.9);  // the Italian cover
  EXPECT_EQ(job(en_job).page_count.value_or(0), 2);
  EXPECT_LT(first_page_ink(en_job), 0.2);  // the shipped default cover

  // The seed: deleting the default cover page turns cover pages off.
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) { return db::cover_pages::remove(tx, "default"); }));
  const auto none = submit({{"c.txt", "no cover\n"}});
  ASSERT_TRUE(eventually([&] { return settled(none); }, 60s));
  EXPECT_EQ(job(none).state, "ready");
  EXPECT_EQ(job(none).page_count.value_or(0), 1);
}

TEST_F(ConverterService, ReceivedFaxGetsItsPdf) {
  document::FaxDocument fax;
  fax.pages = {document::Bitmap::blank(1728, 2292)};
  const std::int64_t rx = receive(*document::write_fax_tiff(fax));
  start_converter();
  ASSERT_TRUE(eventually([&] {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    return !w.exec_params("SELECT pdf_document_id FROM received_faxes WHERE id = $1", rx)[0][0].is_null();
  }, 30s));
  pqxx::connection c(dsn_);
  pqxx::work w(c);
  auto row = w.exec_params("SELECT d.media_type, d.page_count FROM received_faxes f JOIN documents d "
                           "ON d.id = f.pdf_document_id WHERE f.id = $1", rx)[0];
  EXPECT_EQ(row[0].as<std::string>(), "application/pdf");
  EXPECT_EQ(row[1].as<int>(), 1);
}

TEST_F(ConverterService, AReceivedFaxTheDecoderCannotHoldFailsItsPdfOnceAndTheOthersStillGetTheirs) {
  // Decoding this page needs 5e17 bytes: the decoder gives up in its sandboxed child.
  // Had it run in the converter itself, the failure would take the sweep (and every
  // fax after it in the same pass) down with it, or the service.
  const auto bad = receive(fixtures::make_fax_tiff_header(2'000'000'000u, 2'000'000'000u));
  document::FaxDocument fax;
  fax.pages = {document::Bitmap::blank(1728, 2292)};
  const std::string tiff = *document::write_fax_tiff(fax);
  const auto good = receive(tiff);
  start_converter();
  ASSERT_TRUE(eventually([&] { return !pdf_columns(good)[0].empty(); }, 30s)) << "no PDF for the good fax";
  EXPECT_TRUE(converter_->running());
  auto b = pdf_columns(bad);
  EXPECT_EQ(b[0], "");
  EXPECT_EQ(b[1], "document.too_large");
  EXPECT_FALSE(b[2].empty());

  // A later sweep converts a new fax and leaves the failed one alone.
  const auto later = receive(tiff);
  ASSERT_TRUE(eventually([&] { return !pdf_columns(later)[0].empty(); }, 30s)) << "no PDF for the later fax";
  EXPECT_TRUE(converter_->running());
  std::ifstream log(dir_ + "/converter.log");
  int failures = 0;
  for (std::string line; std::getline(log, line);)
    if (line.find("conversion.pdf_failed") != std::string::npos) ++failures;
  EXPECT_EQ(failures, 1) << "the failed fax was tried again";
  EXPECT_EQ(pdf_columns(bad)[1], "document.too_large");
}

}  // namespace
}  // namespace faxbridge
