#include "faxbridge/document/converter_settings.hpp"

namespace faxbridge::document {

using namespace std::chrono_literals;

ConverterSettings read_converter_settings(config::ConfigReader& cfg) {
  ConverterSettings s;
  s.workers = static_cast<int>(cfg.integer("FAXBRIDGE_CONVERTER_WORKERS", 2, 1, 64));
  s.sweep_interval = cfg.duration_ms("FAXBRIDGE_CONVERTER_SWEEP_MS", 5000ms, 50ms, 3600000ms);
  Limits& l = s.pipeline.limits;
  l.max_pages = static_cast<int>(cfg.integer("FAXBRIDGE_CONVERTER_MAX_PAGES", 300, 1, 10000));
  l.cpu_seconds = static_cast<int>(cfg.integer("FAXBRIDGE_CONVERTER_CPU_SECONDS", 60, 1, 3600));
  l.memory_bytes = static_cast<std::size_t>(cfg.integer("FAXBRIDGE_CONVERTER_MEMORY_MB", 2048, 64, 65536)) << 20;
  l.timeout_ms = static_cast<int>(cfg.duration_ms("FAXBRIDGE_CONVERTER_TIMEOUT_MS", 120000ms, 100ms, 3600000ms).count());
  const std::string work_dir = cfg.string("FAXBRIDGE_CONVERTER_WORK_DIR", "/tmp/faxbridge-converter", "a writable folder");
  if (cfg.boolean("FAXBRIDGE_CONVERTER_OFFICE", true)) {
    OfficeSettings os;
    os.work_dir = work_dir + "/office";
    os.max_concurrent = static_cast<int>(cfg.integer("FAXBRIDGE_CONVERTER_OFFICE_MAX_CONCURRENT", 2, 1, 64));
    os.timeout_ms =
        static_cast<int>(cfg.duration_ms("FAXBRIDGE_CONVERTER_OFFICE_TIMEOUT_MS", 120000ms, 1000ms, 3600000ms).count());
    os.keep_running = cfg.boolean("FAXBRIDGE_CONVERTER_OFFICE_KEEP_RUNNING", true);
    os.python = cfg.string("FAXBRIDGE_CONVERTER_OFFICE_PYTHON", "/usr/bin/python3", "a Python 3 with python3-uno");
    s.pipeline.office = os;
  }
  return s;
}

}  // namespace faxbridge::document
