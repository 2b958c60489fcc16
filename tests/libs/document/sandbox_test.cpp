// The sandbox and the job pipeline: crashes and hangs fail one document with a code;
// a job gets its cover first, every document in order, and the header on each page.
#include <gtest/gtest.h>
#include <signal.h>

#include "faxbridge/core/metrics.hpp"
#include "faxbridge/document/pipeline.hpp"
#include "faxbridge/document/sandbox.hpp"
#include "faxbridge/document/tiff.hpp"
#include "fixtures.hpp"

using namespace faxbridge;
using namespace faxbridge::document;

TEST(Sandbox, ResultComesBackFromTheChild) {
  auto r = run_sandboxed({}, [] { return Result<std::string>(std::string(300000, 'x')); });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 300000u);
}

TEST(Sandbox, ErrorsKeepTheirCodeAndContext) {
  auto r = run_sandboxed({}, [] {
    return Result<std::string>(Error(Code::k_document_encrypted, "locked").with("page", "3"));
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.encrypted");
  EXPECT_EQ(r.error().message, "locked");
  ASSERT_EQ(r.error().context.size(), 1u);
}

TEST(Sandbox, ACrashingDecoderIsACorruptDocument) {
  auto r = run_sandboxed({}, []() -> Result<std::string> {
    raise(SIGSEGV);
    return std::string();
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.corrupt");
}

TEST(Sandbox, ASpinningDecoderHitsItsCpuLimit) {
  SandboxLimits l;
  l.cpu_seconds = 1;
  auto r = run_sandboxed(l, []() -> Result<std::string> {
    volatile unsigned long n = 0;
    for (;;) n = n + 1;
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.timeout");
}

TEST(Sandbox, ASleepingDecoderHitsItsWallClockLimit) {
  SandboxLimits l;
  l.timeout_ms = 300;
  auto r = run_sandboxed(l, []() -> Result<std::string> {
    pause();
    return std::string();
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.timeout");
}

TEST(Sandbox, RunawayAllocationIsTooLarge) {
  SandboxLimits l;
  l.memory_bytes = std::size_t{256} << 20;
  auto r = run_sandboxed(l, []() -> Result<std::string> {
    std::string big(std::size_t{1} << 30, 'x');
    return big.substr(0, 1);
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.too_large");
}

TEST(Pipeline, CoverFirstThenDocumentsInOrderWithHeaderOnEveryPage) {
  Pipeline pipeline({});
  JobSpec job;
  fixtures::PdfPage p1;
  p1.marks = {{72, 72, 72, 72}};
  job.documents.push_back({fixtures::make_pdf({p1, p1}), "two.pdf"});
  job.documents.push_back({"hello\n", "hello.txt"});
  job.cover_svg = builtin_covers().at("default");
  job.cover_fields.values["subject"] = "Test";
  job.header = HeaderInfo{"2026.00000001", "2026-11-25 08:00", "ACME", "+39021234567"};
  auto r = pipeline.run(job);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->page_count, 4);
  auto doc = read_fax_tiff(r->tiff);
  ASSERT_TRUE(doc);
  ASSERT_EQ(doc->pages.size(), 4u);
  const int band = header_band_rows(Resolution::kFine);
  for (const auto& page : doc->pages) EXPECT_GT(page.count_black(0, 0, 1728, band), 300);
  // Pages 2 and 3 are the PDF: its mark sits below the band.
  const int y = band + static_cast<int>(72 * 196.0 / 72);
  EXPECT_GT(doc->pages[1].count_black(300, y + 5, 400, y + 60), 5000);
}

TEST(Pipeline, ABadDocumentIsNamedInTheError) {
  Pipeline pipeline({});
  JobSpec job;
  job.documents.push_back({"fine text\n", "ok.txt"});
  job.documents.push_back({fixtures::encrypt_pdf(fixtures::make_pdf({{}}), "pw", "owner"), "secret.pdf"});
  auto r = pipeline.run(job);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.encrypted");
  EXPECT_NE(r.error().message.find("secret.pdf"), std::string::npos);
}

TEST(Pipeline, StandardResolutionThroughout) {
  Pipeline pipeline({});
  JobSpec job;
  job.resolution = Resolution::kStandard;
  job.documents.push_back({"x\n", "x.txt"});
  job.header = HeaderInfo{"2026.00000001", "now", "ACME", "Bob"};
  auto r = pipeline.run(job);
  ASSERT_TRUE(r);
  auto info = inspect_tiff(r->tiff);
  EXPECT_FLOAT_EQ((*info)[0].y_dpi, 98);
}

TEST(Zygote, ChildrenForkedByTheZygoteAnswerCrashAndTimeOut) {
  auto z = Zygote::start([](std::string_view req) -> Result<std::string> {
    if (req == "crash") raise(SIGSEGV);
    if (req == "hang") pause();
    if (req == "spin") {
      volatile unsigned long n = 0;
      for (;;) n = n + 1UL;
    }
    return "echo:" + std::string(req);
  });
  ASSERT_NE(z, nullptr);
  auto r = z->run({}, std::string(200000, 'y'));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->size(), 200005u);
  auto crash = z->run({}, "crash");
  ASSERT_FALSE(crash);
  EXPECT_EQ(crash.error().name(), "document.corrupt");
  SandboxLimits wall;
  wall.timeout_ms = 300;
  auto hang = z->run(wall, "hang");
  ASSERT_FALSE(hang);
  EXPECT_EQ(hang.error().name(), "document.timeout");
  SandboxLimits cpu;
  cpu.cpu_seconds = 1;
  auto spin = z->run(cpu, "spin");
  ASSERT_FALSE(spin);
  EXPECT_EQ(spin.error().name(), "document.timeout");
  // Still serving after all that.
  auto again = z->run({}, "x");
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, "echo:x");
}

TEST(Zygote, PipelineThroughTheZygoteMatchesTheDirectOne) {
  JobSpec job;
  job.documents.push_back({"hello zygote\n", "a.txt"});
  job.cover_svg = builtin_covers().at("urgent");
  job.header = HeaderInfo{"2026.00000009", "2026-11-25 09:00", "ACME", "Bob"};
  Pipeline direct({});
  Pipeline forked({});
  ASSERT_TRUE(forked.start_zygote());
  auto a = direct.run(job);
  auto b = forked.run(job);
  ASSERT_TRUE(a) << a.error().to_string();
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_EQ(a->page_count, 2);
  EXPECT_EQ(b->page_count, 2);
  EXPECT_EQ(read_fax_tiff(a->tiff)->pages[1].bits, read_fax_tiff(b->tiff)->pages[1].bits);
  JobSpec bad;
  bad.documents.push_back({fixtures::encrypt_pdf(fixtures::make_pdf({{}}), "pw", "o"), "locked.pdf"});
  auto e = forked.run(bad);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().name(), "document.encrypted");
}

namespace {
std::int64_t zygote_restarts(metrics::Registry& registry) {
  return registry.counter("faxbridge_conversion_zygote_restarts_total", "").value();
}
}  // namespace

TEST(Zygote, AKilledZygoteIsReplacedAndTheNextConversionWorks) {
  metrics::Registry registry;
  PipelineSettings settings;
  settings.metrics = &registry;
  Pipeline pipeline(settings);
  ASSERT_TRUE(pipeline.start_zygote());
  ASSERT_TRUE(pipeline.convert_one({"before\n", "a.txt"}, Resolution::kFine));
  const int first = pipeline.zygote_pid();
  ASSERT_GT(first, 0);
  ASSERT_EQ(kill(first, SIGKILL), 0);
  auto after = pipeline.convert_one({"after\n", "b.txt"}, Resolution::kFine);
  ASSERT_TRUE(after) << after.error().to_string();
  EXPECT_EQ(read_fax_tiff(*after)->pages.size(), 1u);
  EXPECT_GT(pipeline.zygote_pid(), 0) << "no zygote after the restart";
  EXPECT_NE(pipeline.zygote_pid(), first);
  EXPECT_EQ(pipeline.zygote_restarts(), 1);
  EXPECT_EQ(zygote_restarts(registry), 1);
}

TEST(Zygote, TwoPipelinesCountTheirRestartsInTheirOwnRegistries) {
  // One pipeline at a time: a zygote forked while another lives inherits that one's
  // control socket (fork, no exec), so only one per process is ever used (the service's).
  metrics::Registry a_registry, b_registry;
  const auto restart_once = [](metrics::Registry* registry) {
    PipelineSettings settings;
    settings.metrics = registry;
    Pipeline pipeline(settings);
    ASSERT_TRUE(pipeline.start_zygote());
    ASSERT_EQ(kill(pipeline.zygote_pid(), SIGKILL), 0);
    ASSERT_TRUE(pipeline.convert_one({"page\n", "a.txt"}, Resolution::kFine));
    EXPECT_EQ(pipeline.zygote_restarts(), 1);
  };
  restart_once(&a_registry);
  EXPECT_EQ(zygote_restarts(a_registry), 1);
  EXPECT_EQ(zygote_restarts(b_registry), 0);
  restart_once(&b_registry);
  EXPECT_EQ(zygote_restarts(a_registry), 1);  // a process-wide counter would read 2 here
  EXPECT_EQ(zygote_restarts(b_registry), 1);
  restart_once(nullptr);  // a restart without a registry is counted nowhere
  EXPECT_EQ(zygote_restarts(a_registry), 1);
  EXPECT_EQ(zygote_restarts(b_registry), 1);
}

TEST(Zygote, AZygoteThatDiedAnswersSandboxLostSoTheCallerCanReplaceIt) {
  auto z = Zygote::start([](std::string_view) -> Result<std::string> { return std::string("ok"); });
  ASSERT_NE(z, nullptr);
  ASSERT_TRUE(z->run({}, "x"));
  ASSERT_EQ(kill(z->pid(), SIGKILL), 0);
  auto r = z->run({}, "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.sandbox_lost") << r.error().to_string();
}

TEST(Pipeline, AJobWithNothingToSendIsMissingItsDocument) {
  Pipeline pipeline({});
  JobSpec job;  // every document gone (deleted with the job's links) and no cover page
  auto r = pipeline.run(job);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "document.missing");
  EXPECT_EQ(r.error().kind(), ErrorKind::kFailedPrecondition);
}

TEST(Pipeline, AReceivedFaxBecomesAPdfInAChild) {
  FaxDocument fax;
  fax.pages = {Bitmap::blank(1728, 2292), Bitmap::blank(1728, 2292)};
  Pipeline pipeline({});
  auto r = pipeline.fax_to_pdf(*write_fax_tiff(fax));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->page_count, 2);
  EXPECT_EQ(r->pdf.rfind("%PDF-", 0), 0u);
}

TEST(Pipeline, AReceivedFaxTheDecoderCannotHoldFailsInItsChildAndTheNextStillConverts) {
  // A page of 2e9 x 2e9 pixels: decoding it needs 5e17 bytes. In the parent that
  // allocation would throw through the caller; the child answers with a code.
  Pipeline pipeline({});
  ASSERT_TRUE(pipeline.start_zygote());
  auto bad = pipeline.fax_to_pdf(fixtures::make_fax_tiff_header(2'000'000'000u, 2'000'000'000u));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().name(), "document.too_large") << bad.error().to_string();
  FaxDocument fax;
  fax.pages = {Bitmap::blank(1728, 1000)};
  auto good = pipeline.fax_to_pdf(*write_fax_tiff(fax));
  ASSERT_TRUE(good) << good.error().to_string();
  EXPECT_EQ(good->page_count, 1);
}
