// faxbridge-document-converter: claims submitted fax jobs and turns their documents
// into fax pages (document::JobConverter), and makes PDFs of received faxes.
#include <cstdio>
#include <string_view>
#include <thread>

#include "faxbridge/bus/consumer.hpp"
#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/core/metrics.hpp"
#include "faxbridge/db/queue.hpp"
#include "faxbridge/db/routing.hpp"
#include "faxbridge/document/converter_settings.hpp"
#include "faxbridge/document/job_converter.hpp"
#include "faxbridge/document/sandbox.hpp"
#include "faxbridge/service/runtime.hpp"

using namespace faxbridge;
using namespace std::chrono_literals;

constexpr const char* kUsage = R"(usage: faxbridge-document-converter [--help]
Converts fax job documents to fax pages and received faxes to PDF. Environment: the
common FAXBRIDGE_* variables (docs/configuration.md) and FAXBRIDGE_CONVERTER_*:
  FAXBRIDGE_CONVERTER_WORKERS, _MAX_PAGES, _CPU_SECONDS, _MEMORY_MB, _TIMEOUT_MS,
  _OFFICE (true|false), _OFFICE_MAX_CONCURRENT, _OFFICE_TIMEOUT_MS, _OFFICE_KEEP_RUNNING,
  _OFFICE_PYTHON, _WORK_DIR, _SWEEP_MS
)";

int main(int argc, char** argv) {
  if (auto exit_code = service::handle_arguments(argc, argv, kUsage)) return *exit_code;
  config::ConfigReader cfg(config::process_env());
  auto settings = service::read_settings(cfg, "document-converter", 9104);
  const auto conversion = document::read_converter_settings(cfg);
  if (auto r = cfg.finish(); !r) {
    std::fprintf(stderr, "faxbridge-document-converter: %s\n", r.error().to_string().c_str());
    return 2;
  }
  document::warm_up();  // before any thread: forked decoders start warm
  // The pipeline is built before the runtime, so the registry the runtime shows comes first.
  metrics::Registry registry;
  auto pipeline_settings = conversion.pipeline;
  pipeline_settings.metrics = &registry;
  // The zygote is forked now, while this process is small and single-threaded.
  document::Pipeline pipeline(pipeline_settings);
  if (!pipeline.start_zygote()) log::warn("conversion.no_zygote", {{"fallback", "fork per document from the service"}});
  service::Runtime rt(settings, registry);
  return service::run_main([&] {
    service::log_effective_config(cfg);
    if (auto exit_status = rt.start_or_exit_status()) return *exit_status;
    auto spec = db::conversion_queue();
    bus::ConsumerSettings cs;
    cs.name = "conversion";
    cs.workers = conversion.workers;
    cs.sweep_interval = conversion.sweep_interval;
    cs.lease = spec.lease;
    cs.metrics = &rt.metrics();
    db::Queue queue(rt.pool(), spec, settings.instance);
    document::JobConverter converter(rt.pool(), queue, pipeline, settings.instance, &rt.metrics());
    bus::Consumer consumer(queue, cs, [&](const Claim& c, const bus::LeaseToken& lease) -> Result<void> {
      auto outcome = converter.convert_job(c.id, [&] { return lease.lost(); });
      if (!outcome) return outcome.error();
      if (outcome->ready) (void)bus::announce_work(rt.publisher(), db::routing::routing_queue().stage(), c.id);
      for (const auto id : outcome->notifications)
        (void)bus::announce_work(rt.publisher(), db::notification_queue().stage(), id);
      return ok();
    });
    bus::WorkFeed feed(settings.bus.subscribe, spec.stage(), consumer, &rt.metrics());
    rt.add_connection_check("work_feed", [&] { return feed.connected(); });
    consumer.start();
    feed.start();
    std::thread pdfs([&] { converter.sweep_received_pdfs([&] { return rt.stopping(); }); });
    rt.wait();
    feed.stop();
    consumer.stop();
    pdfs.join();
    return 0;
  });
}
