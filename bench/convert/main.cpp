// bench_convert: fax conversion speed and output size, faxbridge against Ghostscript
// measured in the same run (../shared/notes/conversion.md has the reference figures).
//  - faxbridge as the converter service runs it: resident and warm (warm_up() once),
//    every document decoded in its own child forked by the zygote, fine resolution, G4.
//  - Ghostscript the HylaFAX way: one process per document,
//    gs -q -sDEVICE=tiffg4 -dNOPAUSE -dSAFER=true -sPAPERSIZE=a4 -dFIXEDMEDIA -dBATCH -r204x196
// Both run one document at a time, so CPU seconds are per core. Also: bytes per page
// by page type (airtime), Tesseract word recall on the scanned pages, and LibreOffice's
// time per office file, cold (new profile) and warm. Prints figures; no thresholds.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "faxbridge/document/office.hpp"
#include "faxbridge/document/pipeline.hpp"
#include "faxbridge/document/sandbox.hpp"
#include "faxbridge/document/testing/samples.hpp"
#include "faxbridge/document/tiff.hpp"

using namespace faxbridge;
using namespace faxbridge::document;
namespace fs = std::filesystem;

namespace {

double cpu_seconds() {
  rusage self{}, kids{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(self.ru_utime) + s(self.ru_stime) + s(kids.ru_utime) + s(kids.ru_stime);
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Run {
  double wall = 0, cpu = 0;
  int docs = 0, pages = 0;
  std::map<std::string, std::pair<std::size_t, int>> bytes_by_kind;  // total bytes, pages
  std::vector<std::string> tiffs;
};

void count(Run& run, const std::string& kind, const std::string& tiff) {
  auto info = inspect_tiff(tiff);
  if (!info) return;
  for (const auto& p : *info) {
    run.bytes_by_kind[kind].first += p.strip_bytes;
    run.bytes_by_kind[kind].second += 1;
    run.pages += 1;
  }
}

Run run_faxbridge(Pipeline& pipeline, const std::vector<testing::CorpusDocument>& docs) {
  Run r;
  const double w0 = now(), c0 = cpu_seconds() + pipeline.zygote_cpu_seconds();
  for (const auto& d : docs) {
    auto tiff = pipeline.convert_one({d.pdf, d.name + ".pdf"}, Resolution::kFine);
    if (!tiff) {
      std::fprintf(stderr, "faxbridge failed on %s: %s\n", d.name.c_str(), tiff.error().to_string().c_str());
      r.tiffs.emplace_back();
      continue;
    }
    r.tiffs.push_back(std::move(*tiff));
  }
  r.wall = now() - w0;
  r.cpu = cpu_seconds() + pipeline.zygote_cpu_seconds() - c0;
  for (std::size_t i = 0; i < docs.size(); ++i) count(r, docs[i].kind, r.tiffs[i]);
  r.docs = static_cast<int>(docs.size());
  return r;
}

Run run_ghostscript(const fs::path& dir, const std::vector<testing::CorpusDocument>& docs) {
  Run r;
  const double w0 = now(), c0 = cpu_seconds();
  for (const auto& d : docs) {
    const auto in = dir / (d.name + ".pdf");
    const auto out = dir / (d.name + ".gs.tif");
    run({"gs", "-q", "-sDEVICE=tiffg4", "-dNOPAUSE", "-dSAFER=true", "-sPAPERSIZE=a4", "-dFIXEDMEDIA", "-dBATCH",
         "-r204x196", "-sOutputFile=" + out.string(), in.string()});
  }
  r.wall = now() - w0;
  r.cpu = cpu_seconds() - c0;
  for (const auto& d : docs) {
    r.tiffs.push_back(slurp(dir / (d.name + ".gs.tif")));
    count(r, d.kind, r.tiffs.back());
  }
  r.docs = static_cast<int>(docs.size());
  return r;
}

// Tesseract's word recall on the first page of a fax TIFF: the words of page 1 (the
// first 300 of the scan's text).
double ocr_recall(const std::string& tiff, const std::string& expected_text) {
  auto doc = read_fax_tiff(tiff);
  if (!doc || doc->pages.empty()) return 0;
  auto expected = testing::split_words(expected_text);
  if (expected.size() > 300) expected.resize(300);
  return testing::word_recall(expected, testing::ocr_words(doc->pages[0], doc->resolution));
}

void print_corpus(const char* name, const Run& fb, const Run& gs, const Run& inproc) {
  std::printf("\n== corpus %s: %d documents, %d pages (faxbridge) / %d pages (gs)\n", name, fb.docs, fb.pages, gs.pages);
  std::printf("%-34s %8s %8s %14s %10s\n", "method", "wall s", "cpu s", "pages/s/core", "docs/s");
  auto line = [](const char* m, const Run& r) {
    std::printf("%-34s %8.2f %8.2f %14.1f %10.1f\n", m, r.wall, r.cpu, r.pages / r.cpu, r.docs / r.wall);
  };
  line("faxbridge (resident, sandboxed)", fb);
  line("ghostscript (process per doc)", gs);
  line("faxbridge in-process (reference)", inproc);
  std::printf("ratio faxbridge/gs: pages/s per core x%.2f, documents/s x%.2f\n", (fb.pages / fb.cpu) / (gs.pages / gs.cpu),
              (fb.docs / fb.wall) / (gs.docs / gs.wall));
  std::printf("%-10s %16s %16s %8s\n", "page type", "faxbridge B/page", "gs B/page", "ratio");
  for (const auto& [kind, v] : fb.bytes_by_kind) {
    const auto it = gs.bytes_by_kind.find(kind);
    const double f = static_cast<double>(v.first) / v.second;
    const double g = it == gs.bytes_by_kind.end() ? 0 : static_cast<double>(it->second.first) / it->second.second;
    std::printf("%-10s %16.0f %16.0f %8.2f\n", kind.c_str(), f, g, g > 0 ? f / g : 0);
  }
}

std::string make_docx(const fs::path& dir, const std::string& text, const std::string& name) {
  std::ofstream(dir / (name + ".txt")) << text;
  run({"soffice", "-env:UserInstallation=file://" + (dir / "maker").string(), "--headless", "--norestore",
       "--convert-to", "docx", "--outdir", dir.string(), (dir / (name + ".txt")).string()});
  return slurp(dir / (name + ".docx"));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const bool skip_office = mode == "--no-office";
  if (mode == "--profile-b" || mode == "--digests") {
    PipelineSettings unsandboxed;
    unsandboxed.sandbox = false;
    Pipeline inproc(unsandboxed);
    if (mode == "--digests") {
      // One line per document: a digest of the fax TIFF, to compare outputs before and
      // after a change to the pipeline (diff two runs).
      for (const auto& corpus : {testing::typical_traffic(), testing::long_documents()}) {
        const Run r = run_faxbridge(inproc, corpus);
        for (std::size_t i = 0; i < corpus.size(); ++i)
          std::printf("%-12s %016zx %zu\n", corpus[i].name.c_str(), std::hash<std::string>{}(r.tiffs[i]), r.tiffs[i].size());
      }
      return 0;
    }
    // For a profiler (perf record): corpus (b) only, in this process, five times.
    const auto b = testing::long_documents();
    for (int i = 0; i < 5; ++i) {
      const Run r = run_faxbridge(inproc, b);
      std::printf("corpus (b) in-process: %d pages, %.2f cpu s, %.2f ms a page\n", r.pages, r.cpu, 1000 * r.cpu / r.pages);
    }
    return 0;
  }
  // As in the service: warm decoders, and the zygote forked while this process is small.
  warm_up();
  Pipeline pipeline({});
  pipeline.start_zygote();
  const fs::path dir = fs::temp_directory_path() / ("faxbridge-bench-convert-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::printf("generating corpora ...\n");
  const auto a = testing::typical_traffic();
  const auto b = testing::long_documents();
  for (const auto* corpus : {&a, &b})
    for (const auto& d : *corpus) std::ofstream(dir / (d.name + ".pdf"), std::ios::binary) << d.pdf;

  // One document first so the page cache and the dynamic loader are warm for both.
  (void)pipeline.convert_one({a.front().pdf, "warm.pdf"}, Resolution::kFine);
  run_ghostscript(dir, {a.front()});

  // The sandbox's cost, for reference: the same pipeline without child processes.
  PipelineSettings unsandboxed;
  unsandboxed.sandbox = false;
  Pipeline inproc(unsandboxed);
  const Run fa = run_faxbridge(pipeline, a);
  const Run ga = run_ghostscript(dir, a);
  const Run ia = run_faxbridge(inproc, a);
  print_corpus("(a) typical fax traffic", fa, ga, ia);
  const Run fbb = run_faxbridge(pipeline, b);
  const Run gb = run_ghostscript(dir, b);
  const Run ib = run_faxbridge(inproc, b);
  print_corpus("(b) long documents", fbb, gb, ib);

  std::printf("\n== scanned pages: Tesseract word recall on page 1\n%-10s %10s %10s\n", "document", "faxbridge", "gs");
  double sf = 0, sg = 0;
  int n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].kind != "scan") continue;
    const double rf = ocr_recall(fa.tiffs[i], a[i].text);
    const double rg = ocr_recall(ga.tiffs[i], a[i].text);
    std::printf("%-10s %10.3f %10.3f\n", a[i].name.c_str(), rf, rg);
    sf += rf;
    sg += rg;
    ++n;
  }
  if (n) std::printf("%-10s %10.3f %10.3f\n", "mean", sf / n, sg / n);

  if (!skip_office) {
    std::printf("\n== office documents (LibreOffice headless -> PDF -> fax pages), wall seconds per file\n");
    std::vector<std::string> docx;
    for (int i = 0; i < 4; ++i)
      docx.push_back(make_docx(dir, "Letter " + std::to_string(i) + "\n\nThe invoice total is 4200 euros. Please confirm.\n",
                               "office" + std::to_string(i)));
    // The converter's way: one LibreOffice kept running per slot. The first file
    // starts it (cold), the others find it running (warm).
    auto timed = [&](Pipeline& p, const std::string& bytes) {
      const double t = now();
      auto r = p.convert_one({bytes, "letter.docx"}, Resolution::kFine);
      return r ? now() - t : -1.0;
    };
    PipelineSettings ps;
    OfficeSettings os;
    os.work_dir = (dir / "office").string();
    os.max_concurrent = 1;
    ps.office = os;
    {
      Pipeline kept(ps);
      const double cold = timed(kept, docx[0]);
      double warm = 0;
      for (std::size_t i = 1; i < docx.size(); ++i) warm += timed(kept, docx[i]);
      std::printf("kept-running LibreOffice: cold (starts it) %.2f s, warm %.2f s (mean of %zu)\n", cold,
                  warm / static_cast<double>(docx.size() - 1), docx.size() - 1);
    }
    // The reference: a new `soffice --convert-to` per file, its profile kept.
    ps.office->keep_running = false;
    ps.office->work_dir = (dir / "office-cold").string();
    Pipeline per_file(ps);
    double each = 0;
    for (const auto& d : docx) each += timed(per_file, d);
    std::printf("soffice per file (reference): %.2f s (mean of %zu)\n", each / static_cast<double>(docx.size()),
                docx.size());
  }
  fs::remove_all(dir);
  return 0;
}
