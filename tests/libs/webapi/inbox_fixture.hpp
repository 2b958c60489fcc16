#pragma once
// The world of the inbox, document, preference and stats tests, over WebApiFixture (the
// real WebApi on a loopback port over a real Postgres): four callers (two fax users, an
// administrator, a level-0 account) each with an API token and an ApiClient (every reply
// checked against docs/api/openapi.yaml), received faxes written the way the gateway and the
// router write them (db::received::create with a real fax TIFF, db::inbox::deliver),
// and outbound jobs with their converted pages (db::jobs::create plus a fax_pages
// document, as the converter leaves them).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/document/page.hpp"
#include "faxbridge/document/tiff.hpp"
#include "webapi_fixture.hpp"

namespace faxbridge::webapi::testing_support {

using namespace std::chrono_literals;
using faxbridge::testing::ApiClient;
using faxbridge::testing::ApiReply;
using faxbridge::testing::expect_problem;
using nlohmann::json;

// A fax TIFF of `pages` fine pages, page i with a black bar of i+1 hundred rows at
// the top (so pages differ and a preview has black in it).
inline std::string fax_tiff(int pages, document::Resolution resolution = document::Resolution::kFine) {
  document::FaxDocument doc;
  doc.resolution = resolution;
  const int rows = document::page_rows(resolution);
  for (int p = 0; p < pages; ++p) {
    auto b = document::Bitmap::blank(document::kFaxWidth, rows);
    for (int y = 50; y < 50 + 100 * (p + 1) && y < rows; ++y)
      for (int x = 100; x < 1600; ++x) b.set_black(x, y);
    doc.pages.push_back(std::move(b));
  }
  auto tiff = document::write_fax_tiff(doc);
  EXPECT_TRUE(tiff) << tiff.error().to_string();
  return tiff ? *tiff : std::string();
}

// How a test's received fax differs from the usual one.
struct ReceivedOptions {
  int pages = 2;
  std::string from = "+4930123456";
  std::string to = "+390297865403";
  std::chrono::minutes ago{10};
  std::optional<std::string> error_code{};
  std::optional<std::string> t30_text{};
  bool with_tiff = true;
};

struct Caller {
  std::int64_t id = 0;
  std::string token;
  std::unique_ptr<ApiClient> api;
};

class InboxWorld : public WebApiFixture {
 protected:
  InboxWorld() : WebApiFixture("inbox") {}

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(start_api());
    alice_ = make_caller("alice", std::nullopt, "+390297865403");
    bob_ = make_caller("bob", std::nullopt, "+390297865404");
    admin_ = make_caller("root", 10, std::nullopt);
    zero_ = make_caller("zero", 0, std::nullopt);
  }

  // A token-only account (no password), its token and a client holding it.
  Caller make_caller(const std::string& name, std::optional<int> level, std::optional<std::string> number) {
    Caller c;
    c.id = make_user(name, level, {.password = std::nullopt, .fax_number = number});
    if (c.id == 0) return c;
    c.token = token_for(c.id);
    c.api = std::make_unique<ApiClient>(port_);
    c.api->bearer(c.token);
    return c;
  }

  struct Received {
    std::int64_t id = 0;
    std::string reference;
    std::string tiff;
  };

  // A received fax as the gateway stores it, delivered to `users` as the router does.
  Received receive(std::initializer_list<std::int64_t> users, ReceivedOptions o = {},
                   std::optional<std::int64_t> via_group = std::nullopt) {
    Received out;
    if (o.with_tiff) out.tiff = fax_tiff(o.pages);
    auto id = pool_.transact([&](db::Tx& tx) -> Result<std::int64_t> {
      db::ReceivedFax f;
      f.call_id = "call-" + std::to_string(++calls_);
      f.gateway_instance = "gw-1";
      f.caller_number = o.from;
      f.called_number = o.to;
      f.remote_station_id = "SENDER TSI";
      f.pages = o.with_tiff ? o.pages : 0;
      f.media = "t38";
      f.error_code = o.error_code;
      f.t30_text = o.t30_text;
      if (o.with_tiff) {
        db::Document d;
        d.kind = "received_tiff";
        d.media_type = "image/tiff";
        d.page_count = o.pages;
        d.bytes = out.tiff;
        auto stored = db::documents::put(tx, d);
        if (!stored) return stored.error();
        f.tiff_document_id = stored->id;
      }
      f.started_at = clock_.now() - o.ago;
      f.ended_at = clock_.now() - o.ago + 1min;
      auto made = db::received::create(tx, f);
      if (!made) return made;
      for (auto u : users) {
        auto d = db::inbox::deliver(tx, *made, u, via_group);
        if (!d) return d.error();
      }
      return made;
    });
    EXPECT_TRUE(id) << id.error().to_string();
    if (!id) return out;
    out.id = *id;
    // The router draws the reference when it routes the fax.
    sql("UPDATE received_faxes SET reference = faxbridge_next_reference(2026), state = 'routed' WHERE id = " +
        std::to_string(*id));
    out.reference = sql_value("SELECT reference FROM received_faxes WHERE id = " + std::to_string(*id));
    return out;
  }

  struct Outbound {
    std::int64_t id = 0;
    std::string reference;
    std::string tiff;
  };
  // A fax job of `sender`; with `pages`, converted (its fax_pages document stored).
  Outbound send_job(std::int64_t sender, std::optional<int> pages = 3) {
    Outbound out;
    if (pages) out.tiff = fax_tiff(*pages);
    auto job = pool_.transact([&](db::Tx& tx) -> Result<db::Job> {
      db::NewJob n;
      n.sender_user_id = sender;
      n.recipient_number = "+4930999";
      n.recipient_canonical = "+4930999";
      auto j = db::jobs::create(tx, n, "test");
      if (!j) return j;
      if (pages) {
        db::Document d;
        d.kind = "fax_pages";
        d.media_type = "image/tiff";
        d.page_count = *pages;
        d.owner_user_id = sender;
        d.bytes = out.tiff;
        auto stored = db::documents::put(tx, d);
        if (!stored) return stored.error();
        j->pages_document_id = stored->id;
      }
      return j;
    });
    EXPECT_TRUE(job) << job.error().to_string();
    if (!job) return out;
    out.id = job->id;
    out.reference = job->reference.value_or("");
    if (pages) {
      sql("UPDATE fax_jobs SET state = 'ready', pages_document_id = " + std::to_string(*job->pages_document_id) +
          ", page_count = " + std::to_string(*pages) + " WHERE id = " + std::to_string(job->id));
    }
    return out;
  }

  int calls_ = 0;
  Caller alice_, bob_, admin_, zero_;
};

// PDF pages: "/Type /Page" objects (not /Pages), as qpdf writes them uncompressed.
inline int pdf_page_count(const std::string& pdf) {
  int n = 0;
  for (std::size_t at = pdf.find("/Type /Page"); at != std::string::npos; at = pdf.find("/Type /Page", at + 1)) {
    if (at + 11 >= pdf.size() || pdf[at + 11] != 's') ++n;
  }
  return n;
}

// The PNG's width and height from its IHDR chunk; {0, 0} when it is not a PNG.
inline std::pair<int, int> png_size(const std::string& png) {
  static const std::string kSignature("\x89PNG\r\n\x1a\n", 8);
  if (png.size() < 24 || png.compare(0, 8, kSignature) != 0 || png.compare(12, 4, "IHDR") != 0) return {0, 0};
  auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned char>(png[at]) << 24) | (static_cast<unsigned char>(png[at + 1]) << 16) |
           (static_cast<unsigned char>(png[at + 2]) << 8) | static_cast<unsigned char>(png[at + 3]);
  };
  return {static_cast<int>(be32(16)), static_cast<int>(be32(20))};
}

}  // namespace faxbridge::webapi::testing_support
