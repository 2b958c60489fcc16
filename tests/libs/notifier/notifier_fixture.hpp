#pragma once
// The notifier's integration world: a migrated database and the bus (BusAndDatabaseTest),
// a real Postfix on loopback delivering every mail into one maildir (mail_servers.hpp),
// the SMTP settings pointing at it, and helpers that write the rows the router and the
// gateway write (users, received faxes with a real fax TIFF and PDF, jobs with attempts,
// notifications) and read the delivered mails back as a mail client would (mime_dump.py).
#include <tiffio.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/notifications.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/document/page.hpp"
#include "faxbridge/document/export.hpp"
#include "faxbridge/document/tiff.hpp"
#include "faxbridge/notifier/notifier.hpp"
#include "faxbridge/testing/bus_database_test.hpp"
#include "faxbridge/testing/mail_servers.hpp"
#include "mime_reader.hpp"

namespace faxbridge::notifier::testing_support {

using namespace std::chrono_literals;
using faxbridge::testing::eventually;
using nlohmann::json;

// A fax TIFF of `pages` fine pages, page i with a black bar of i+1 hundred rows.
inline std::string fax_tiff(int pages) {
  document::FaxDocument doc;
  doc.resolution = document::Resolution::kFine;
  const int rows = document::page_rows(doc.resolution);
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

// Pages of a TIFF file that libtiff decodes whole (every strip of every page), and
// -1 when any does not.
inline int tiff_pages_decoded(const std::string& path) {
  TIFF* t = TIFFOpen(path.c_str(), "r");
  if (!t) return -1;
  int pages = 0;
  bool good = true;
  do {
    std::vector<unsigned char> strip(TIFFStripSize(t));
    for (tstrip_t s = 0; s < TIFFNumberOfStrips(t); ++s) {
      if (TIFFReadEncodedStrip(t, s, strip.data(), static_cast<tmsize_t>(strip.size())) < 0) good = false;
    }
    ++pages;
  } while (TIFFReadDirectory(t));
  TIFFClose(t);
  return good ? pages : -1;
}

struct Mail {
  json parsed;       // mime_dump.py's view: headers, structure, parts
  std::string dir;   // the decoded parts, as files 0, 1, ...
  std::string header(const std::string& name) const {
    return parsed["headers"].contains(name) ? parsed["headers"][name].get<std::string>() : std::string();
  }
  const json* part(const std::string& type) const {
    for (const auto& p : parsed["parts"])
      if (p["type"] == type) return &p;
    return nullptr;
  }
  std::string text() const {
    const json* p = part("text/plain");
    return p ? (*p)["text"].get<std::string>() : std::string();
  }
  std::string part_file(const json& p) const {
    int i = 0;
    for (const auto& q : parsed["parts"]) {
      if (&q == &p || q == p) return dir + "/" + std::to_string(i);
      ++i;
    }
    return {};
  }
};

class NotifierWorld : public faxbridge::testing::BusAndDatabaseTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(start_bus_and_database("notifier", FAXBRIDGE_BUS_BIN));
    dir_ = std::filesystem::temp_directory_path() / ("notifier-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    faxbridge::testing::Postfix::Options o;
    o.refuse = {"nobody@example.test"};
    o.defer = {"busy@example.test"};
    postfix_ = std::make_unique<faxbridge::testing::Postfix>(dir_ / "postfix", o);
    ASSERT_TRUE(postfix_->ready()) << postfix_->log();
    set("smtp.host", "\"127.0.0.1\"");
    set("smtp.port", std::to_string(postfix_->plain_port()));
    set("smtp.security", "\"none\"");
    set("smtp.from_address", "\"fax@faxbridge.example.test\"");
    set("company.admin_email", "\"fax-admin@example.test\"");
    set("company.name", "\"ACME Fax & Co\"");
  }
  void TearDown() override {
    notifier_.reset();
    postfix_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void set(const std::string& key, const std::string& value_json) {
    auto r = pool_->transact([&](db::Tx& tx) { return db::settings::set(tx, key, value_json); });
    ASSERT_TRUE(r) << key << ": " << r.error().to_string();
  }

  Notifier& start_notifier(NotifierSettings s = {}) {
    s.instance = "notifier-test";
    s.sweep_interval = 200ms;
    s.retry.first = 100ms;
    s.retry.max = 400ms;
    s.retry.waiting_first = 100ms;
    s.retry.waiting_max = 200ms;
    notifier_ = std::make_unique<Notifier>(*pool_, *publisher_, ports_.subscribe_endpoint(), s);
    notifier_->start();
    return *notifier_;
  }

  std::int64_t user(const std::string& name, const std::string& email, const std::string& language = "en") {
    db::User u;
    u.username = name;
    u.display_name = name;
    u.email = email;
    u.language = language;
    u.enable_fax_to_email = true;
    u.fax_to_email_address = email;
    auto r = pool_->transact([&](db::Tx& tx) { return db::users::create(tx, u); });
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? r->id : 0;
  }

  struct Received {
    std::int64_t id = 0;
    std::string reference, tiff, pdf;
    std::int64_t tiff_id = 0, pdf_id = 0;
  };
  // A received fax as the gateway stores it and the router routes it; with_pdf: the
  // converter's PDF is there too.
  Received received(int pages, bool with_pdf) {
    Received out;
    out.tiff = fax_tiff(pages);
    if (with_pdf) {
      auto pdf = document::fax_to_pdf(out.tiff);
      EXPECT_TRUE(pdf) << pdf.error().to_string();
      out.pdf = pdf ? *pdf : std::string();
    }
    auto id = pool_->transact([&](db::Tx& tx) -> Result<std::int64_t> {
      db::ReceivedFax f;
      f.call_id = "call-" + std::to_string(++calls_);
      f.gateway_instance = "gw-1";
      f.caller_number = "+4930123456";
      f.called_number = "+390297865403";
      f.remote_station_id = "SENDER TSI";
      f.pages = pages;
      f.media = "t38";
      db::Document d;
      d.kind = "received_tiff";
      d.media_type = "image/tiff";
      d.page_count = pages;
      d.bytes = out.tiff;
      auto stored = db::documents::put(tx, d);
      if (!stored) return stored.error();
      f.tiff_document_id = stored->id;
      out.tiff_id = stored->id;
      f.started_at = std::chrono::system_clock::now() - 2min;
      f.ended_at = std::chrono::system_clock::now() - 2min + 65s;
      return db::received::create(tx, f);
    });
    EXPECT_TRUE(id) << id.error().to_string();
    out.id = id ? *id : 0;
    sql("UPDATE received_faxes SET reference = faxbridge_next_reference(2026), state = 'routed' WHERE id = " +
        std::to_string(out.id));
    out.reference = sql("SELECT reference FROM received_faxes WHERE id = " + std::to_string(out.id))[0][0].c_str();
    if (with_pdf) add_pdf(out);
    return out;
  }
  void add_pdf(Received& fax) {
    if (fax.pdf.empty()) fax.pdf = *document::fax_to_pdf(fax.tiff);
    auto id = pool_->transact([&](db::Tx& tx) -> Result<std::int64_t> {
      db::Document d;
      d.kind = "pdf";
      d.media_type = "application/pdf";
      d.bytes = fax.pdf;
      auto stored = db::documents::put(tx, d);
      if (!stored) return stored.error();
      return stored->id;
    });
    ASSERT_TRUE(id);
    fax.pdf_id = *id;
    sql("UPDATE received_faxes SET pdf_document_id = " + std::to_string(*id) + " WHERE id = " + std::to_string(fax.id));
  }

  // A job as the router leaves it, with its attempts (outcome, pages, SIP status).
  struct AttemptSpec {
    std::string outcome;
    int pages = 0;
    std::optional<int> sip_status;
    std::string error_code;
  };
  std::int64_t job(std::int64_t sender, const std::string& state, int pages, std::vector<AttemptSpec> attempts,
                   const std::string& subject = "Quarterly report") {
    auto j = pool_->transact([&](db::Tx& tx) {
      db::NewJob n;
      n.recipient_number = "+390212345678";
      n.recipient_canonical = "+390212345678";
      n.recipient_name = "Mario Rossi";
      n.subject = subject;
      n.sender_user_id = sender;
      return db::jobs::create(tx, n, "test");
    });
    EXPECT_TRUE(j);
    const std::string id = std::to_string(j->id);
    int sent = 0;
    int no = 0;
    for (const auto& a : attempts) {
      ++no;
      sent = std::max(sent, a.pages);
      sql("INSERT INTO attempts (job_id, attempt_no, gateway_instance, dialled_number, state, outcome, pages_sent, "
          "sip_status, error_code, started_at, ended_at) VALUES (" + id + ", " + std::to_string(no) +
          ", 'gw-1', '0212345678', 'applied', '" + a.outcome + "', " + std::to_string(a.pages) + ", " +
          (a.sip_status ? std::to_string(*a.sip_status) : "NULL") + ", " +
          (a.error_code.empty() ? "NULL" : "'" + a.error_code + "'") + ", now() - interval '" +
          std::to_string(10 * (static_cast<int>(attempts.size()) - no + 1)) + " minutes', now())");
    }
    sql("UPDATE fax_jobs SET state = '" + state + "', page_count = " + std::to_string(pages) + ", pages_sent = " +
        std::to_string(sent) + ", attempts = " + std::to_string(attempts.size()) +
        (state == "sent" || state == "failed" || state == "partially_sent" ? ", completed_at = now()" : "") +
        " WHERE id = " + id);
    return j->id;
  }

  std::int64_t enqueue(const std::string& kind, const std::string& recipient, std::optional<std::int64_t> job_id,
                       std::optional<std::int64_t> fax_id, std::optional<std::int64_t> user_id,
                       const json& payload = json::object()) {
    db::NewNotification n;
    n.kind = kind;
    n.channel = "email";
    n.recipient = recipient;
    n.job_id = job_id;
    n.received_fax_id = fax_id;
    n.user_id = user_id;
    n.payload_json = payload.dump();
    auto id = pool_->transact([&](db::Tx& tx) { return db::notifications::enqueue(tx, n); });
    EXPECT_TRUE(id) << id.error().to_string();
    (void)bus::announce_work(*publisher_, db::notification_queue().stage(), id ? *id : 0);
    return id ? *id : 0;
  }

  std::string field(std::int64_t id, const std::string& column) {
    auto f = sql("SELECT " + column + "::text FROM notifications WHERE id = " + std::to_string(id))[0][0];
    return f.is_null() ? "(null)" : f.as<std::string>();
  }
  bool reaches(std::int64_t id, const std::string& state, std::chrono::seconds limit = 30s) {
    return eventually([&] { return field(id, "state") == state; }, limit);
  }

  // The mails delivered so far to `address` (every mail when empty), read as a client.
  std::vector<Mail> mails(const std::string& address = {}) {
    std::vector<Mail> out;
    int n = 0;
    for (const auto& raw : postfix_->messages()) {
      Mail m;
      m.dir = (dir_ / ("parts-" + std::to_string(++parts_) + "-" + std::to_string(++n))).string();
      std::filesystem::create_directories(m.dir);
      m.parsed = mail::testing::read_as_client(raw, m.dir);
      if (!address.empty() && m.header("to").find(address) == std::string::npos) continue;
      out.push_back(std::move(m));
    }
    return out;
  }
  // Waits until `count` mails reached `address`, then returns them.
  std::vector<Mail> wait_for_mails(const std::string& address, std::size_t count, std::chrono::seconds limit = 30s) {
    std::vector<Mail> got;
    eventually([&] {
      got = mails(address);
      return got.size() >= count;
    }, limit);
    return got;
  }

  std::filesystem::path dir_;
  std::unique_ptr<faxbridge::testing::Postfix> postfix_;
  std::unique_ptr<Notifier> notifier_;
  int calls_ = 0;
  int parts_ = 0;
};

}  // namespace faxbridge::notifier::testing_support
