#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "faxbridge/document/export.hpp"
#include "faxbridge/document/pipeline.hpp"
#include "faxbridge/document/sandbox.hpp"

namespace faxbridge::cli {

int convert(const ConvertArgs& args, std::ostream& out, std::ostream& err) {
  using namespace document;
  namespace fs = std::filesystem;
  JobSpec job;
  job.resolution = args.standard ? Resolution::kStandard : Resolution::kFine;
  for (const auto& path : args.inputs) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
      err << "faxbridge: " << Error(Code::k_io_not_found, "Cannot read " + path + ".").to_string() << "\n";
      return 2;
    }
    std::ostringstream ss;
    ss << f.rdbuf();
    job.documents.push_back({ss.str(), fs::path(path).filename().string()});
  }
  for (const auto& kv : args.fields) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) {
      err << "faxbridge: " << Error(Code::k_config_invalid, "--field takes key=value, not \"" + kv + "\".").to_string()
          << "\n";
      return 2;
    }
    job.cover_fields.values[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto field = [&](const std::string& k) {
    auto it = job.cover_fields.values.find(k);
    return it == job.cover_fields.values.end() ? std::string() : it->second;
  };
  if (!args.cover.empty()) {
    if (field("date").empty()) {
      char today[32];
      const std::time_t now = std::time(nullptr);
      std::tm day{};
      gmtime_r(&now, &day);
      std::strftime(today, sizeof today, "%Y-%m-%d", &day);
      job.cover_fields.values["date"] = today;
    }
    const auto& shipped = builtin_covers();
    if (auto it = shipped.find(args.cover); it != shipped.end()) {
      job.cover_svg = it->second;
    } else if (std::ifstream f(args.cover); f) {
      std::ostringstream ss;
      ss << f.rdbuf();
      job.cover_svg = ss.str();
    } else {
      err << "faxbridge: "
          << Error(Code::k_io_not_found,
                   "No cover page \"" + args.cover + "\": give default, urgent, confidential or an .svg file.")
                 .to_string()
          << "\n";
      return 2;
    }
  }
  if (args.header) {
    char date[32];
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
    job.header = HeaderInfo{field("reference"), date, field("tsid"),
                            field("recipient_name").empty() ? field("recipient_number") : field("recipient_name")};
  }
  PipelineSettings ps;
  ps.sandbox = args.sandbox;
  if (args.office) {
    OfficeSettings os;
    os.work_dir = (fs::temp_directory_path() / ("faxbridge-convert-" + std::to_string(getuid()))).string();
    os.max_concurrent = 1;
    ps.office = os;
  }
  warm_up();
  Pipeline pipeline(ps);
  pipeline.start_zygote();
  const auto start = std::chrono::steady_clock::now();
  auto r = pipeline.run(job);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r) {
    err << "faxbridge: " << r.error().to_string() << "\n";
    return r.error().kind() == ErrorKind::kInvalidArgument ? 2 : 1;
  }
  std::string bytes = std::move(r->tiff);
  if (fs::path(args.output).extension() == ".pdf") {
    auto pdf = fax_to_pdf(bytes);
    if (!pdf) {
      err << "faxbridge: " << pdf.error().to_string() << "\n";
      return 1;
    }
    bytes = std::move(*pdf);
  }
  // Written beside the target and renamed, so a reader never sees half a file.
  const std::string tmp = args.output + ".part";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
      err << "faxbridge: " << Error(Code::k_io_failed, "Cannot write " + args.output + ".").to_string() << "\n";
      return 1;
    }
  }
  fs::rename(tmp, args.output);
  out << args.output << ": " << r->page_count << " pages, " << bytes.size() << " bytes, "
      << resolution_name(job.resolution) << ", " << static_cast<int>(secs * 1000) << " ms\n";
  return 0;
}

}  // namespace faxbridge::cli
