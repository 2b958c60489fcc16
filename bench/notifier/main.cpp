// bench/notifier: fax-to-email mails per second, each with a 2-page PDF attached, from
// the notifications outbox into Postfix's smtp-sink (which accepts and discards), beside
// Postfix's smtp-source sending messages of the same size to the same sink over the
// same number of kept-open sessions in the same run: the ceiling of SMTP on this
// machine, with no database, no MIME and no templates. Then the drain of a 10,000-row
// backlog, tenth by tenth, to show whether the outbox's claim slows down as it empties.
// PostgreSQL with fsync on; no bus (the notifier finds its work by sweeping, every 50 ms).
// Usage: bench_notifier [mails_per_run=1000] [repeats=3] [backlog=10000] [--smoke]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cairo-pdf.h>
#include <poppler.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../support/sql.hpp"
#include "../support/bare_claim.hpp"
#include "faxbridge/bus/bus.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/document/export.hpp"
#include "faxbridge/document/page.hpp"
#include "faxbridge/document/tiff.hpp"
#include "faxbridge/mail/message.hpp"
#include "faxbridge/notifier/notifier.hpp"

using namespace faxbridge;
namespace fs = std::filesystem;

namespace {

constexpr int kBatch = 8;     // mails per read and outcome transaction (the service's default is 1)
constexpr int kSessions = 4;  // the notifier's default workers; smtp-source gets as many sessions

using bench::count;
using bench::exec;

bool listening(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

pid_t sink_pid = -1;  // killed on any exit, so no smtp-sink outlives the run

// Postfix's smtp-sink on a loopback port: every mail accepted and dropped.
struct Sink {
  pid_t pid = -1;
  int port = 0;
  Sink() {
    port = db::testing::free_port();
    pid = ::fork();
    if (pid == 0) {
      // Its counts stay off our output (a pipe it held would outlive us), and it dies with us.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      const int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      const std::string where = "127.0.0.1:" + std::to_string(port);
      // -u: smtp-sink refuses to run as root; it drops to this user.
      ::execl("/usr/sbin/smtp-sink", "smtp-sink", "-u", "nobody", "-c", where.c_str(), "256",
              static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    sink_pid = pid;
    std::atexit([] {
      if (sink_pid > 0) ::kill(sink_pid, SIGTERM);
    });
    for (int i = 0; i < 200 && !listening(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~Sink() {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    sink_pid = -1;
  }
};

// smtp-source: `mails` messages of `length` payload bytes over kSessions kept-open
// sessions; mails per second.
double smtp_source_rate(int port, int mails, std::size_t length) {
  const std::string cmd = "/usr/sbin/smtp-source -d -s " + std::to_string(kSessions) + " -m " +
                          std::to_string(mails) + " -l " + std::to_string(length) +
                          " -f fax@faxbridge.example.test -t alice@example.test 127.0.0.1:" + std::to_string(port);
  const auto start = std::chrono::steady_clock::now();
  const int rc = std::system(cmd.c_str());
  const double s = bench::Seconds(std::chrono::steady_clock::now() - start).count();
  if (rc != 0) {
    std::fprintf(stderr, "smtp-source failed (%d)\n", rc);
    std::exit(1);
  }
  return mails / s;
}

int pdf_pages(const std::string& bytes) {
  GError* error = nullptr;
  GBytes* b = g_bytes_new(bytes.data(), bytes.size());
  PopplerDocument* doc = poppler_document_new_from_bytes(b, nullptr, &error);
  g_bytes_unref(b);
  if (!doc) {
    if (error) g_error_free(error);
    return -1;
  }
  const int n = poppler_document_get_n_pages(doc);
  g_object_unref(doc);
  return n;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// The first two pages of `bytes`, drawn by Poppler onto a cairo PDF surface: the text,
// fonts and drawings of a document nobody here made, in a PDF of two pages.
std::string first_two_pages(const std::string& bytes) {
  GError* error = nullptr;
  GBytes* b = g_bytes_new(bytes.data(), bytes.size());
  PopplerDocument* doc = poppler_document_new_from_bytes(b, nullptr, &error);
  g_bytes_unref(b);
  if (!doc) {
    if (error) g_error_free(error);
    return {};
  }
  std::string out;
  cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(append_to_string, &out, 595, 842);
  cairo_t* cr = cairo_create(surface);
  for (int i = 0; i < 2 && i < poppler_document_get_n_pages(doc); ++i) {
    PopplerPage* page = poppler_document_get_page(doc, i);
    double width = 0, height = 0;
    poppler_page_get_size(page, &width, &height);
    cairo_pdf_surface_set_size(surface, width, height);
    poppler_page_render_for_printing(page, cr);
    cairo_show_page(cr);
    g_object_unref(page);
  }
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  cairo_surface_destroy(surface);
  g_object_unref(doc);
  return out;
}

// A 2-page PDF of a Debian package's own: the smallest one with two pages as it is, or
// else the first two pages of the smallest with more (this machine's Debian ships few).
std::pair<std::string, std::string> debian_two_page_pdf() {
  std::pair<std::string, std::string> exact, longer;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator("/usr/share/doc", ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec || !it->is_regular_file(ec) || it->path().extension() != ".pdf") continue;
    const auto size = it->file_size(ec);
    if (ec || size < 20000) continue;
    auto bytes = read_file(it->path());
    const int pages = pdf_pages(bytes);
    if (pages == 2 && (exact.second.empty() || size < exact.second.size())) exact = {it->path().string(), std::move(bytes)};
    else if (pages > 2 && (longer.second.empty() || size < longer.second.size())) longer = {it->path().string(), std::move(bytes)};
  }
  if (!exact.second.empty()) return {fs::path(exact.first).filename().string(), exact.second};
  if (longer.second.empty()) return {};
  auto cut = first_two_pages(longer.second);
  if (pdf_pages(cut) != 2) return {};
  return {fs::path(longer.first).filename().string() + " p.1-2", cut};
}

// The PDF the converter makes of a 2-page received fax (black bars on white).
std::string generated_fax_pdf() {
  document::FaxDocument doc;
  doc.resolution = document::Resolution::kFine;
  const int rows = document::page_rows(doc.resolution);
  for (int p = 0; p < 2; ++p) {
    auto b = document::Bitmap::blank(document::kFaxWidth, rows);
    for (int y = 100; y < rows - 100; y += 40)
      for (int x = 150; x < 1550; ++x) b.set_black(x, y);
    doc.pages.push_back(std::move(b));
  }
  auto tiff = document::write_fax_tiff(doc);
  auto pdf = tiff ? document::fax_to_pdf(*tiff) : Result<std::string>(tiff.error());
  if (!pdf) {
    std::fprintf(stderr, "%s\n", pdf.error().to_string().c_str());
    std::exit(1);
  }
  return *pdf;
}

struct World {
  bench::BenchDatabase db;
  std::int64_t user_id = 0;
};

void set(db::Pool& pool, const std::string& key, const std::string& value) {
  auto r = pool.transact([&](db::Tx& tx) { return db::settings::set(tx, key, value); });
  if (!r) {
    std::fprintf(stderr, "%s: %s\n", key.c_str(), r.error().to_string().c_str());
    std::exit(1);
  }
}

// The received faxes the mails attach, each with its own copy of `pdf` as the converter's
// PDF (a mail reads its own document, as in a real inbox, not one cached row for all). The
// first-page thumbnail is off, so their TIFFs are only read, never drawn.
void store_faxes(World& w, const std::string& pdf, int faxes) {
  exec(w.db.dsn, "TRUNCATE notifications, received_faxes, documents, alert_causes CASCADE");
  db::Pool pool(db::PoolSettings{w.db.dsn, 1});
  auto stored = pool.transact([&](db::Tx& tx) -> Result<void> {
    for (int i = 0; i < faxes; ++i) {
      db::Document d;
      d.kind = "pdf";
      d.media_type = "application/pdf";
      d.page_count = 2;
      d.bytes = pdf;
      auto document = db::documents::put(tx, d);
      if (!document) return document.error();
      db::ReceivedFax f;
      f.call_id = "bench-" + std::to_string(i);
      f.gateway_instance = "gw";
      f.caller_number = "+4930123456";
      f.called_number = "+390297865403";
      f.remote_station_id = "BENCH";
      f.pages = 2;
      auto fax = db::received::create(tx, f);
      if (!fax) return fax.error();
    }
    return {};
  });
  if (!stored) {
    std::fprintf(stderr, "%s\n", stored.error().to_string().c_str());
    std::exit(1);
  }
  // The n-th fax gets the n-th document (both made in that order above).
  exec(w.db.dsn,
       "UPDATE received_faxes r SET state = 'routed', reference = '2026.' || lpad(r.id::text, 8, '0'), "
       "pdf_document_id = d.id "
       "FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM received_faxes) rf "
       "JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k FROM documents) d ON d.k = rf.k "
       "WHERE r.id = rf.id");
}

// `mails` pending fax-to-email rows, spread over the stored faxes in turn.
void fill(World& w, int mails) {
  exec(w.db.dsn, "DELETE FROM notifications");
  exec(w.db.dsn, "INSERT INTO notifications (kind, channel, recipient, received_fax_id, user_id, payload) "
                 "SELECT 'fax_to_email', 'email', 'alice@example.test', f.id, " + std::to_string(w.user_id) +
                 ", '{\"attach\": true, \"format\": \"pdf\"}' "
                 "FROM generate_series(0, " + std::to_string(mails - 1) + ") g "
                 "JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM received_faxes) f "
                 "ON f.k = g % (SELECT count(*) FROM received_faxes) ORDER BY g");
  pqxx::connection c(w.db.dsn);
  pqxx::nontransaction(c).exec("VACUUM ANALYZE notifications");  // VACUUM refuses a transaction block
}

// Drains `mails` pending rows; mails per second, and the rate of each tenth.
std::pair<double, std::vector<double>> drain(World& w, int mails, int batch) {
  db::Pool pool(db::PoolSettings{w.db.dsn, kSessions + 2});
  bus::Publisher publisher("tcp://127.0.0.1:1", "bench", "bench", nullptr);
  notifier::NotifierSettings s;
  s.instance = "bench";
  s.workers = kSessions;
  s.batch = batch;
  s.sweep_interval = std::chrono::milliseconds(50);
  // Progress from the notifier's own counter of recorded outcomes: a count(*) on the
  // table every few milliseconds was 5% of PostgreSQL's time, charged to the notifier.
  metrics::Registry registry;
  s.metrics = &registry;
  notifier::Notifier n(pool, publisher, "tcp://127.0.0.1:1", s);
  const char* help = "Notifications by the outcome of a try";
  std::vector<metrics::Counter*> outcomes;
  for (const char* o : {"sent", "retry", "failed", "suppressed"})
    outcomes.push_back(&registry.counter("faxbridge_notifications_total", help, {{"outcome", o}}));
  const auto recorded = [&] {
    std::int64_t sum = 0;
    for (auto* c : outcomes) sum += c->value();
    return sum;
  };
  pqxx::connection poll(w.db.dsn);
  const auto start = std::chrono::steady_clock::now();
  n.start();
  std::vector<double> tenths;
  auto last = start;
  for (int tenth = 1; tenth <= 10; ++tenth) {
    const int target = mails * tenth / 10;
    while (recorded() < target) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto now = std::chrono::steady_clock::now();
    tenths.push_back((mails / 10.0) / bench::Seconds(now - last).count());
    last = now;
  }
  const double rate = mails / bench::Seconds(last - start).count();
  n.stop();
  if (auto failed = count(poll, "SELECT count(*) FROM notifications WHERE state <> 'sent'"); failed > 0) {
    std::fprintf(stderr, "%lld mails were not sent: %s\n", static_cast<long long>(failed),
                 pqxx::nontransaction(poll)
                     .exec("SELECT coalesce(max(last_error), '') FROM notifications WHERE state <> 'sent'")[0][0]
                     .c_str());
    std::exit(1);
  }
  return {rate, tenths};
}

// The size of the mail the notifier sends for this fax, so smtp-source sends as much.
std::size_t mail_size(const std::string& pdf) {
  mail::OutgoingMessage m;
  m.from = {"fax@faxbridge.example.test", "Faxbridge"};
  m.to = {{"alice@example.test", ""}};
  m.subject = "Fax from +4930123456 (BENCH), 2 page(s), 2026.00000001";
  m.text = std::string(700, 'x');
  m.html = std::string(1800, 'x');
  m.attachments.push_back({"fax.pdf", "application/pdf", pdf, ""});
  m.message_id = "notification-1@faxbridge.example.test";
  auto bytes = mail::compose(m);
  return bytes ? bytes->size() : pdf.size();
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  std::vector<int> numbers;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--smoke") smoke = true;
    else numbers.push_back(std::atoi(argv[i]));
  }
  const int mails = numbers.size() > 0 ? numbers[0] : (smoke ? 40 : 1000);
  const int repeats = numbers.size() > 1 ? numbers[1] : (smoke ? 1 : 3);
  const int backlog = numbers.size() > 2 ? numbers[2] : (smoke ? 100 : 10000);
  log::init("bench_notifier", log::Level::kError);

  World w;
  w.db = bench::durable_database();
  Sink sink;
  {
    db::Pool pool(db::PoolSettings{w.db.dsn, 1});
    set(pool, "smtp.host", "\"127.0.0.1\"");
    set(pool, "smtp.port", std::to_string(sink.port));
    set(pool, "smtp.security", "\"none\"");
    set(pool, "smtp.from_address", "\"fax@faxbridge.example.test\"");
    set(pool, "incoming.attach_thumbnail", "false");
    set(pool, "incoming.attachment_format", "\"pdf\"");
  }
  exec(w.db.dsn, "INSERT INTO users (username, email, language) VALUES ('alice', 'alice@example.test', 'en')");
  {
    pqxx::connection c(w.db.dsn);
    w.user_id = pqxx::nontransaction(c).exec("SELECT id FROM users WHERE username = 'alice'")[0][0].as<std::int64_t>();
  }

  auto [debian_path, debian_pdf] = debian_two_page_pdf();
  std::vector<std::pair<std::string, std::string>> corpora;
  if (!debian_pdf.empty()) corpora.push_back({"Debian's " + debian_path, debian_pdf});
  else std::printf("(no PDF of two pages or more under /usr/share/doc: the Debian row is left out)\n");
  corpora.push_back({"a generated 2-page fax PDF", generated_fax_pdf()});

  std::printf("bench/notifier: %d mails per run, median of %d, %d sessions / workers, smtp-sink on 127.0.0.1:%d\n",
              mails, repeats, kSessions, sink.port);
  std::printf("%-44s %10s %14s %14s %7s %16s\n", "attachment", "mail bytes", "smtp-source/s", "notifier/s", "ratio",
              "batch of 1: /s");
  for (const auto& [name, pdf] : corpora) {
    store_faxes(w, pdf, std::min(mails, 1000));
    const std::size_t size = mail_size(pdf);
    std::vector<double> ceiling, ours, single;
    for (int r = 0; r < repeats; ++r) {
      ceiling.push_back(smtp_source_rate(sink.port, mails, size));
      fill(w, mails);
      ours.push_back(drain(w, mails, kBatch).first);
      // The same with one mail per read transaction: what batching the reads buys.
      fill(w, mails);
      single.push_back(drain(w, mails, 1).first);
    }
    const double c = bench::median(ceiling), o = bench::median(ours);
    std::printf("%-44s %10zu %14.0f %14.0f %6.0f%% %16.0f\n", name.c_str(), size, c, o, 100.0 * o / c,
                bench::median(single));
  }

  // The backlog: `backlog` mails over up to 1,000 faxes, drained; each tenth's rate.
  store_faxes(w, corpora.back().second, std::min(backlog, 1000));
  fill(w, backlog);
  auto [rate, tenths] = drain(w, backlog, kBatch);
  std::printf("\n%d pending drained at %.0f mails/s; by tenth (first to last):", backlog, rate);
  for (double t : tenths) std::printf(" %.0f", t);
  std::printf("\n");
  return 0;
}
