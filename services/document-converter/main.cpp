// faxbridge-document-converter: claims submitted fax jobs and turns their documents
// into fax pages (document::JobConverter), and makes PDFs of received faxes.
#include <cstdio>
#include <string_view>
#include <thread>

#include "faxbridge/bus/consumer.hpp"
#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/db/queue.hpp"
#include "faxbridge/db/routing.hpp"
#include "faxbridge/document/job_converter.hpp"
#include "faxbridge/document/sandbox.hpp"
#include "faxbridge/service/runtime.hpp"

using namespace faxbridge;
using namespace std::chrono_literals;

constexpr const char* kUsage = R"(usage: faxbridge-document-converter [--help]
Converts fax job documents to fax pages and received faxes to PDF. Environment: the
common FAXBRIDGE_* variables (docs/configuration.md) and FAXBRIDGE_CONVERTER_*:
  FAXBRIDGE_CONVERTER_WORKERS, _MAX_PAGES, _CPU_SECONDS, _MEMORY_MB, _TIMEOUT_MS,
  _OFFICE (true|false), _OFFICE_MAX_CONCURRENT, _OFFICE_TIMEOUT_MS, _WORK_DIR, _SWEEP_MS
)";

int main(int argc, char** argv) {
  if (argc > 1) {
    const bool help = std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h";
    std::fputs(kUsage, help ? stdout : stderr);
    return help ? 0 : 2;
  }
  config::ConfigReader cfg(config::process_env());
  auto settings = service::read_settings(cfg, "document-converter", 9104);
  bus::ConsumerSettings cs;
  cs.name = "conversion";
  cs.workers = static_cast<int>(cfg.integer("FAXBRIDGE_CONVERTER_WORKERS", 2, 1, 64));
  cs.sweep_interval = cfg.duration_ms("FAXBRIDGE_CONVERTER_SWEEP_MS", 5000ms, 50ms, 3600000ms);
  document::PipelineSettings ps;
  ps.limits.max_pages = static_cast<int>(cfg.integer("FAXBRIDGE_CONVERTER_MAX_PAGES", 300, 1, 10000));
  ps.limits.cpu_seconds = static_cast<int>(cfg.integer("FAXBRIDGE_CONVERTER_CPU_SECONDS", 60, 1, 3600));
  ps.limits.memory_bytes = static_cast<std::size_t>(cfg.integer("FAXBRIDGE_CONVERTER_MEMORY_MB", 2048, 64, 65536)) << 20;
  ps.limits.timeout_ms = static_cast<int>(cfg.duration_ms("FAXBRIDGE_CONVERTER_TIMEOUT_MS", 120000ms, 100ms, 3600000ms).count());
  const std::string work_dir = cfg.string("FAXBRIDGE_CONVERTER_WORK_DIR", "/tmp/faxbridge-converter", "a writable folder");
  if (cfg.boolean("FAXBRIDGE_CONVERTER_OFFICE", true)) {
    document::OfficeSettings os;
    os.work_dir = work_dir + "/office";
    os.max_concurrent = static_cast<int>(cfg.integer("FAXBRIDGE_CONVERTER_OFFICE_MAX_CONCURRENT", 2, 1, 64));
    os.timeout_ms = static_cast<int>(cfg.duration_ms("FAXBRIDGE_CONVERTER_OFFICE_TIMEOUT_MS", 120000ms, 1000ms, 3600000ms).count());
    ps.office = os;
  }
  if (auto r = cfg.finish(); !r) {
    std::fprintf(stderr, "faxbridge-document-converter: %s\n", r.error().to_string().c_str());
    return 2;
  }
  document::warm_up();  // before any thread: forked decoders start warm
  // The zygote is forked now, while this process is small and single-threaded.
  document::Pipeline pipeline(ps);
  if (!pipeline.start_zygote()) log::warn("conversion.no_zygote", {{"fallback", "fork per document from the service"}});
  service::Runtime rt(settings);
  service::log_effective_config(cfg);
  if (auto r = rt.start(); !r) {
    log::write_error(log::Level::kError, "service.start_failed", r.error());
    return r.error().code == Code::k_service_stopping ? 0 : 1;
  }
  auto spec = db::conversion_queue();
  cs.lease = spec.lease;
  db::Queue queue(rt.pool(), spec, settings.instance);
  document::JobConverter converter(rt.pool(), queue, pipeline, settings.instance);
  bus::Consumer consumer(queue, cs, [&](const Claim& c, const bus::LeaseToken& lease) -> Result<void> {
    auto r = converter.convert_job(c.id, [&] { return lease.lost(); });
    if (r && converter.last().ready) (void)bus::announce_work(rt.publisher(), db::routing::routing_queue().stage(), c.id);
    return r;
  });
  bus::WorkFeed feed(settings.bus.subscribe, spec.stage(), consumer);
  rt.add_health_check("work_feed", [&](std::string& detail) {
    detail = feed.connected() ? "subscribed" : "not connected";
    return feed.connected();
  });
  consumer.start();
  feed.start();
  // Received faxes -> PDF: cheap (no decoding), so a sweep on this thread suffices.
  std::thread pdfs([&] {
    while (!rt.stopping()) {
      if (auto n = converter.convert_received_pdfs(20); !n)
        log::write_error(log::Level::kWarn, "conversion.pdf_sweep_failed", n.error());
      for (int i = 0; i < 50 && !rt.stopping(); ++i) std::this_thread::sleep_for(100ms);
    }
  });
  rt.wait();
  feed.stop();
  consumer.stop();
  pdfs.join();
  return 0;
}
