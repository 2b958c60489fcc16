// DESIGN: LibreOffice headless as an office -> PDF converter. A call takes one of
// max_concurrent slots (a condition variable bounds the concurrency: each soffice
// takes ~0.8 s of CPU to start and hundreds of MB). Each slot has a private profile
// folder (-env:UserInstallation) kept across calls: instances sharing a profile lock
// each other up, and a kept profile saves the ~2 s of creating it again ("warm").
// soffice runs in its own process group with an address-space limit and is killed as
// a group at the deadline. The input is written to a scratch folder of the slot,
// named with the original extension (LibreOffice's filters use it as a hint).
#include "faxbridge/document/office.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#include <zip.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace faxbridge::document {
namespace fs = std::filesystem;

Result<void> check_office_container(std::string_view bytes) {
  if (bytes.size() < 4 || bytes.substr(0, 4) != std::string_view("PK\x03\x04", 4)) return ok();
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!src) return Error(Code::k_internal, "Could not read the office document's container.");
  zip_t* archive = zip_open_from_source(src, ZIP_RDONLY, &error);
  if (!archive) {
    zip_source_free(src);
    zip_error_fini(&error);
    return Error(Code::k_document_corrupt, "The office document is damaged (its zip container does not open).");
  }
  std::uint64_t inflated = 0, packed = 0;
  const zip_int64_t entries = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < entries; ++i) {
    zip_stat_t st;
    if (zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st) != 0) continue;
    if (st.valid & ZIP_STAT_SIZE) inflated += st.size;
    if (st.valid & ZIP_STAT_COMP_SIZE) packed += st.comp_size;
  }
  zip_close(archive);  // also frees the source
  zip_error_fini(&error);
  // Real documents compress text and XML about 5-20 to 1; a bomb does 1000 to 1.
  const bool bomb = inflated > kMaxInflatedBytes || entries > 100000 ||
                    (inflated > (64u << 20) && packed > 0 && inflated / packed > 200);
  if (bomb)
    return Error(Code::k_document_too_large,
                 "The office document expands to far more data than any document holds; please send it as PDF.")
        .with("inflated_bytes", std::to_string(inflated));
  return ok();
}

OfficeConverter::OfficeConverter(OfficeSettings settings)
    : settings_(std::move(settings)), busy_(static_cast<std::size_t>(std::max(1, settings_.max_concurrent)), false) {
  if (settings_.work_dir.empty()) settings_.work_dir = (fs::temp_directory_path() / "faxbridge-office").string();
}

int OfficeConverter::acquire() {
  std::unique_lock lock(mutex_);
  for (;;) {
    for (std::size_t i = 0; i < busy_.size(); ++i)
      if (!busy_[i]) {
        busy_[i] = true;
        return static_cast<int>(i);
      }
    cv_.wait(lock);
  }
}

void OfficeConverter::release(int slot) {
  {
    std::lock_guard lock(mutex_);
    busy_[static_cast<std::size_t>(slot)] = false;
  }
  cv_.notify_one();
}

Result<std::string> OfficeConverter::to_pdf(std::string_view bytes, std::string_view filename) {
  if (auto c = check_office_container(bytes); !c) return c.error();
  const int slot = acquire();
  struct Release {
    OfficeConverter* self;
    int slot;
    ~Release() { self->release(slot); }
  } release_guard{this, slot};

  std::string ext = fs::path(std::string(filename)).extension().string();
  if (ext.size() > 1) ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext.empty() || ext.size() > 5 || !std::all_of(ext.begin(), ext.end(), [](unsigned char c) { return std::isalnum(c); }))
    ext = "bin";
  std::error_code ec;
  const fs::path base = fs::path(settings_.work_dir);
  const fs::path profile = base / ("profile-" + std::to_string(slot));
  const fs::path scratch = base / ("scratch-" + std::to_string(slot) + "-" + std::to_string(getpid()));
  fs::remove_all(scratch, ec);
  fs::create_directories(scratch, ec);
  fs::create_directories(profile, ec);
  if (ec) return Error(Code::k_io_failed, "Could not create LibreOffice's work folder.").with("path", scratch.string());
  const fs::path in = scratch / ("document." + ext);
  {
    std::ofstream f(in, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) return Error(Code::k_io_failed, "Could not write the document for LibreOffice.");
  }
  const std::string profile_url = "-env:UserInstallation=file://" + fs::absolute(profile).string();
  const std::string outdir = scratch.string();
  const std::string in_path = in.string();
  const std::string home = "HOME=" + fs::absolute(profile).string();
  std::vector<std::string> args = {settings_.soffice, profile_url, "--headless", "--invisible", "--nologo",
                                   "--norestore", "--nolockcheck", "--convert-to", "pdf", "--outdir", outdir, in_path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // The environment is built before fork: the child of a threaded parent only makes
  // system calls until exec.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string_view(*e).rfind("HOME=", 0) != 0) env_strings.emplace_back(*e);
  env_strings.push_back(home);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return Error(Code::k_document_office_unavailable, "LibreOffice could not be started.");
  if (pid == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);
    rlimit as{static_cast<rlim_t>(settings_.memory_bytes), static_cast<rlim_t>(settings_.memory_bytes)};
    setrlimit(RLIMIT_AS, &as);
    const int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  setpgid(pid, pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(settings_.timeout_ms);
  int status = 0;
  bool timed_out = false;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Whatever LibreOffice left running in its group goes too.
  kill(-pid, SIGKILL);
  const fs::path out = scratch / "document.pdf";
  std::string pdf;
  if (!timed_out) {
    std::ifstream f(out, std::ios::binary);
    if (f) {
      std::ostringstream ss;
      ss << f.rdbuf();
      pdf = ss.str();
    }
  }
  fs::remove_all(scratch, ec);
  if (timed_out)
    return Error(Code::k_document_timeout, "Converting the office document took too long; please send it as PDF.")
        .with("limit_ms", std::to_string(settings_.timeout_ms));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return Error(Code::k_document_office_unavailable, "LibreOffice is not installed on the converter.");
  if (pdf.empty())
    return Error(Code::k_document_corrupt, "The office document could not be opened; please send it as PDF.")
        .with("status", std::to_string(status));
  return pdf;
}

}  // namespace faxbridge::document
