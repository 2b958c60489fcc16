// bench/mail: mails ingested per second by mail-ingest's real poll (mailingest::Poller
// over a real IMAP or POP3 session into PostgreSQL with fsync on: each mail fetched, read
// by libs/ingest, its sender checked, its job and stored document committed with its
// ledger row, then moved to the processed folder or deleted), from a mailbox of 1,000
// mails with one PDF each, beside curl fetching the same 1,000 mails from the same
// Dovecot in the same run: the ceiling of fetching on this machine, with no parsing, no
// database and no moves. Ratio = ingest / curl.
//
// Fairness: both read the mailbox sequentially over ONE kept-open connection, as the
// poll does (curl: one invocation, a URL range, connection reused, no --parallel), and
// both find the mailbox indexed by Dovecot and its files in the page cache: an untimed
// curl pass over every mail precedes the two timed ones. Each run gets a fresh mailbox
// (its own Dovecot user), so UIDs and POP3 numbers are 1..n for both readers.
// Plain IMAP and POP3 on loopback (no TLS): the cost measured is the protocol and the
// ingest, not the cipher, which both would pay alike.
//
// Usage: bench_mail [mails=1000] [repeats=3] [--smoke] [--only=imap|pop3] [--pdf=debian|generated] [--cold-db]
// (--only and --pdf narrow a run down for profiling; --cold-db skips warm_database.)
#include <cairo-pdf.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "../support/bare_claim.hpp"
#include "../support/sql.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/mail/message.hpp"
#include "faxbridge/mailingest/poller.hpp"
#include "faxbridge/testing/mailbox_server.hpp"

using namespace faxbridge;
namespace fs = std::filesystem;

namespace {

constexpr int kSenders = 10;  // the mails come from ten users in turn, each looked up by address
constexpr const char* kPassword = "bench-pw";

using bench::Seconds;

[[noreturn]] void fail(const std::string& why) { throw std::runtime_error(why); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The PDF that bench/notifier draws from, as Debian ships it; else the smallest PDF of a
// Debian package's documentation over 20 KB.
std::pair<std::string, std::string> debian_pdf() {
  const fs::path preferred = "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf";
  std::error_code ec;
  if (fs::is_regular_file(preferred, ec)) return {preferred.filename().string(), read_file(preferred)};
  fs::path best;
  std::uintmax_t best_size = 0;
  for (auto it = fs::recursive_directory_iterator("/usr/share/doc", ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec || !it->is_regular_file(ec) || it->path().extension() != ".pdf") continue;
    const auto size = it->file_size(ec);
    if (!ec && size >= 20000 && (best.empty() || size < best_size)) best = it->path(), best_size = size;
  }
  if (best.empty()) return {};
  return {best.filename().string(), read_file(best)};
}

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// A one-page A4 letter drawn by cairo: a heading, thirty lines of text, a rule.
std::string generated_pdf() {
  std::string out;
  cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(append_to_string, &out, 595, 842);
  cairo_t* cr = cairo_create(surface);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, 16);
  cairo_move_to(cr, 72, 90);
  cairo_show_text(cr, "Order 7 - please sign and fax back");
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 11);
  for (int line = 0; line < 30; ++line) {
    cairo_move_to(cr, 72, 130 + line * 18);
    cairo_show_text(cr, ("Item " + std::to_string(line + 1) + ": 12 units of part 4711-" + std::to_string(line) +
                         " at 3.20 EUR, delivery within two weeks.")
                            .c_str());
  }
  cairo_move_to(cr, 72, 700);
  cairo_line_to(cr, 300, 700);
  cairo_stroke(cr);
  cairo_show_page(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  cairo_surface_destroy(surface);
  return out;
}

std::string sender_address(int k) { return "sender" + std::to_string(k) + "@corp.example"; }

// The i-th mail of a mailbox as a mail client sends it (vmime's composition): a short
// text, the PDF attached, one fax recipient, a Message-ID of its own.
std::string fax_mail(const std::string& mailbox, int i, const std::string& pdf) {
  mail::OutgoingMessage m;
  m.from = {sender_address(i % kSenders), "Sender " + std::to_string(i % kSenders)};
  m.to = {{"+41445551234@fax.example.com", "Studio"}};
  m.subject = "Order " + std::to_string(i);
  m.text = "Please sign and fax back.\r\n\r\nRegards\r\n";
  m.attachments.push_back({"order.pdf", "application/pdf", pdf, ""});
  m.message_id = mailbox + "-" + std::to_string(i) + "@corp.example";
  m.auto_submitted.clear();  // a person's mail: "auto-generated" would be recorded and never faxed
  auto bytes = mail::compose(m);
  if (!bytes) fail(bytes.error().to_string());
  return *bytes;
}

// One curl invocation fetching mails 1..n in turn over one connection (a URL range is
// fetched sequentially, the connection kept); mails per second. Every mail must arrive:
// each transfer's exit code is counted (not its size_download, which curl 7.88 reports
// short for POP3 although the whole message is written).
double curl_rate(const std::string& url_range, const std::string& user, int n) {
  const std::string cmd = "curl -s -S --user " + user + ":" + kPassword + " -o /dev/null -w '%{exitcode}\\n' '" +
                          url_range + "'";
  const auto start = std::chrono::steady_clock::now();
  FILE* out = ::popen(cmd.c_str(), "r");
  if (!out) fail("cannot run curl");
  int fetched = 0;
  char line[64];
  while (std::fgets(line, sizeof line, out))
    if (line[0] == '0' && line[1] == '\n') ++fetched;
  const int rc = ::pclose(out);
  const double s = Seconds(std::chrono::steady_clock::now() - start).count();
  if (rc != 0 || fetched != n)
    fail("curl fetched " + std::to_string(fetched) + " of " + std::to_string(n) + " mails (exit " + std::to_string(rc) +
         "): " + cmd);
  return n / s;
}

struct Bench {
  bench::BenchDatabase db;
  std::unique_ptr<testing::DovecotMailbox> dovecot;
  fs::path dir;
};

mailingest::MailIngestConfig ingest_config(const Bench& b, const std::string& user, bool pop3) {
  mailingest::MailIngestConfig c;
  c.enabled = true;
  c.mailbox.host = "127.0.0.1";
  c.mailbox.port = pop3 ? b.dovecot->pop3_port() : b.dovecot->imap_port();
  c.mailbox.protocol = pop3 ? mail::MailboxProtocol::kPop3 : mail::MailboxProtocol::kImap;
  c.mailbox.tls = mail::TlsMode::kNone;
  c.mailbox.username = user;
  c.mailbox.password = kPassword;
  c.mailbox.timeout = std::chrono::seconds(60);
  c.mailbox_name = user + "@127.0.0.1/INBOX";
  c.ingest.fax_domains = {"fax.example.com"};
  c.ingest.own_addresses = {"faxbridge@example.com"};
  return c;
}

// One poll over the mailbox, as the service runs it; mails per second. Every mail must
// become its job with its stored document, and leave the inbox.
double ingest_rate(Bench& b, const std::string& user, bool pop3, int n) {
  bench::exec(b.db.dsn, "TRUNCATE fax_jobs, documents, ingested_messages, notifications CASCADE");
  db::Pool pool(db::PoolSettings{b.db.dsn, 2});
  // The connection is opened before the clock starts, as a running service has it.
  auto warm = pool.transact([](db::Tx& tx) { return db::users::by_email(tx, sender_address(0)); });
  if (!warm) fail(warm.error().to_string());
  metrics::Registry registry;
  // The service publishes each job on the bus here; the converter's sweep finds it anyway.
  mailingest::Poller poller(pool, [](std::int64_t) {}, &registry);
  const auto config = ingest_config(b, user, pop3);
  // On stderr, so a profiler can be started for the ingest alone (README.md).
  std::fprintf(stderr, "bench_mail: ingest of %s starts\n", user.c_str());
  const auto start = std::chrono::steady_clock::now();
  auto report = poller.poll(config);
  const double s = Seconds(std::chrono::steady_clock::now() - start).count();
  if (!report) fail(report.error().to_string() + "\n" + b.dovecot->log());
  pqxx::connection c(b.db.dsn);
  const auto jobs = bench::count(c, "SELECT count(*) FROM fax_jobs WHERE source = 'email' AND state = 'submitted'");
  const auto documents = bench::count(c, "SELECT count(*) FROM documents WHERE kind = 'upload'");
  if (report->faxed != n || report->jobs != n || jobs != n || documents != n ||
      !b.dovecot->messages(user).empty())
    fail("the poll of " + user + " faxed " + std::to_string(report->faxed) + " of " + std::to_string(n) + " mails (" +
         std::to_string(jobs) + " jobs, " + std::to_string(documents) + " documents, " +
         std::to_string(report->failed) + " failed, " + std::to_string(b.dovecot->messages(user).size()) +
         " left in the inbox)");
  return n / s;
}

// A running server's PostgreSQL rather than a freshly made one, as curl finds Dovecot's
// index and the page cache warm: a new cluster zero-fills each 16 MB WAL segment the
// first time it reaches it (PostgreSQL's wal_init_zero; a running server recycles the
// segments its checkpoints free) and takes a page fault on the first touch of each page
// of its shared buffers. In a first profile of this bench those two were half of
// PostgreSQL's CPU with the Debian PDF. So before the first run, 320 MB of bytes (more
// than the WAL of any run here) go through a table that is dropped again,
// and a checkpoint recycles their segments for the runs. --cold-db leaves it out.
void warm_database(const std::string& dsn) {
  bench::exec(dsn, "CREATE TABLE bench_warmup (b bytea)");
  bench::exec(dsn, "ALTER TABLE bench_warmup ALTER COLUMN b SET STORAGE EXTERNAL");
  // STORAGE EXTERNAL (as documents.bytes): stored as written, never compressed, so
  // repeated bytes cost the WAL what a PDF's do.
  for (int i = 0; i < 20; ++i)  // 20 transactions of 16 MB
    bench::exec(dsn, "INSERT INTO bench_warmup SELECT convert_to(repeat('x', 131072), 'UTF8') "
                     "FROM generate_series(1, 128)");
  bench::exec(dsn, "DROP TABLE bench_warmup");
  bench::exec(dsn, "CHECKPOINT");
}

struct Figures {
  std::vector<double> curl, ingest;
};

// Fills a fresh mailbox with n mails, then times curl and the ingest over it.
void run_once(Bench& b, const std::string& user, bool pop3, const std::string& pdf, int n, Figures& f) {
  for (int i = 0; i < n; ++i) b.dovecot->deliver(user, fax_mail(user, i, pdf));
  const std::string base = std::string(pop3 ? "pop3" : "imap") + "://127.0.0.1:" +
                           std::to_string(pop3 ? b.dovecot->pop3_port() : b.dovecot->imap_port());
  const std::string range = "[1-" + std::to_string(n) + "]";
  const std::string urls = pop3 ? base + "/" + range : base + "/INBOX;UID=" + range;
  (void)curl_rate(urls, user, n);  // untimed: Dovecot indexes the new mails, the page cache holds them
  f.curl.push_back(curl_rate(urls, user, n));
  f.ingest.push_back(ingest_rate(b, user, pop3, n));
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false, cold_db = false;
  std::string only, only_pdf;
  std::vector<int> numbers;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--smoke") smoke = true;
    else if (a == "--cold-db") cold_db = true;
    else if (a.rfind("--only=", 0) == 0) only = a.substr(7);
    else if (a.rfind("--pdf=", 0) == 0) only_pdf = a.substr(6);
    else numbers.push_back(std::atoi(argv[i]));
  }
  const int mails = numbers.size() > 0 ? numbers[0] : (smoke ? 20 : 1000);
  const int repeats = numbers.size() > 1 ? numbers[1] : (smoke ? 1 : 3);
  log::init("bench_mail", log::Level::kError);

  int rc = 0;
  Bench b;
  try {
    std::vector<std::pair<std::string, std::string>> corpora;
    auto [debian_name, debian_bytes] = debian_pdf();
    if (only_pdf != "generated") {
      if (!debian_bytes.empty()) corpora.push_back({"Debian's " + debian_name, debian_bytes});
      else std::printf("(no PDF over 20 KB under /usr/share/doc: the Debian row is left out)\n");
    }
    if (only_pdf != "debian") corpora.push_back({"a generated 1-page PDF (cairo)", generated_pdf()});

    // One Dovecot user per (protocol, PDF, run): every run starts from a fresh mailbox.
    std::map<std::string, std::string> users;
    const auto user_of = [](bool pop3, std::size_t corpus, int run) {
      return std::string(pop3 ? "pop" : "imap") + "-" + std::to_string(corpus) + "-" + std::to_string(run);
    };
    for (bool pop3 : {false, true})
      for (std::size_t c = 0; c < corpora.size(); ++c)
        for (int r = 0; r < repeats; ++r) users[user_of(pop3, c, r)] = kPassword;
    b.dir = fs::temp_directory_path() / ("bench-mail-" + std::to_string(::getpid()));
    fs::remove_all(b.dir);
    fs::create_directories(b.dir);
    b.dovecot = std::make_unique<testing::DovecotMailbox>(b.dir / "dovecot", users);
    if (!b.dovecot->ready()) fail("Dovecot did not start: " + b.dovecot->log());
    b.db = bench::durable_database();
    {
      db::Pool pool(db::PoolSettings{b.db.dsn, 1});
      for (int k = 0; k < kSenders; ++k) {
        db::User u;
        u.username = "sender" + std::to_string(k);
        u.email = sender_address(k);
        auto created = pool.transact([&](db::Tx& tx) { return db::users::create(tx, u); });
        if (!created) fail(created.error().to_string());
      }
    }

    if (!cold_db && !smoke) warm_database(b.db.dsn);
    std::printf("bench/mail: %d mails per mailbox, median of %d runs; Dovecot on 127.0.0.1 (plain, no TLS); "
                "PostgreSQL with fsync on, %s\n",
                mails, repeats, cold_db || smoke ? "fresh (--cold-db)" : "warmed (WAL segments recycled)");
    std::printf("%-8s %-42s %10s %12s %14s %7s\n", "protocol", "attachment", "mail bytes", "curl mails/s",
                "ingest mails/s", "ratio");  // ratio: of the two medians
    for (bool pop3 : {false, true}) {
      if (!only.empty() && only != (pop3 ? "pop3" : "imap")) continue;
      for (std::size_t c = 0; c < corpora.size(); ++c) {
        const auto& [name, pdf] = corpora[c];
        Figures f;
        for (int r = 0; r < repeats; ++r) run_once(b, user_of(pop3, c, r), pop3, pdf, mails, f);
        const double curl = bench::median(f.curl), ingest = bench::median(f.ingest);
        std::printf("%-8s %-42s %10zu %12.0f %14.0f %6.0f%%", pop3 ? "POP3" : "IMAP", name.c_str(),
                    fax_mail("imap-0-0", 0, pdf).size(), curl, ingest, 100.0 * ingest / curl);
        // Each run's own pair too: the machine's load moves both from run to run.
        std::printf("   (runs: curl");
        for (double v : f.curl) std::printf(" %.0f", v);
        std::printf("; ingest");
        for (double v : f.ingest) std::printf(" %.0f", v);
        std::printf("; ratio");
        for (std::size_t r = 0; r < f.curl.size(); ++r) std::printf(" %.1f%%", 100.0 * f.ingest[r] / f.curl[r]);
        std::printf(")\n");
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mail: %s\n", e.what());
    rc = 1;
  }
  b.dovecot.reset();
  std::error_code ec;
  fs::remove_all(b.dir, ec);
  return rc;
}
