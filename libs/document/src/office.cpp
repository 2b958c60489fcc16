// DESIGN: LibreOffice headless as an office -> PDF converter. A call takes one of
// max_concurrent slots (a condition variable bounds the concurrency: each LibreOffice
// takes hundreds of MB). Each slot keeps one LibreOffice running with a private
// profile folder (-env:UserInstallation; instances sharing a profile lock each other
// up), driven over UNO by a small Python worker (office/uno_worker.py, embedded at
// build time): starting LibreOffice costs ~1 s of CPU, so only a slot's first
// document pays for it ("cold"), the others only for their load and export ("warm").
// The worker leads its own process group, which LibreOffice joins, so a conversion
// past its deadline kills both at once; so does a worker that stops answering. A slot
// whose instance died starts a new one with its next document. The worker also
// kills the group when its stdin closes, so instances never outlive the converter.
// keep_running=false runs one `soffice --convert-to` per document instead.
// Either way the input is written to a scratch folder of the slot, named with the
// original extension (LibreOffice's filters use it as a hint).
#include "faxbridge/document/office.hpp"

#include "office_worker.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#include <zip.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
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

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Spawned {
  pid_t pid = -1;
  int to_child = -1;    // the child's stdin, when asked for
  int from_child = -1;  // the child's stdout, when asked for
};

// Starts `args` as the leader of a new process group, HOME set to `home` (LibreOffice
// writes there), under an address-space limit, stdin/stdout on pipes when `pipes`,
// else /dev/null; stderr always /dev/null. Everything is built before fork: the child
// of a threaded parent only makes system calls until exec.
Spawned spawn(std::vector<std::string> args, const std::string& home, std::size_t memory_bytes, bool pipes) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string_view(*e).rfind("HOME=", 0) != 0) env_strings.emplace_back(*e);
  env_strings.push_back("HOME=" + home);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  int in[2] = {-1, -1}, out[2] = {-1, -1};
  // stdin is a socket: a request to a worker that died fails with EPIPE (send with
  // MSG_NOSIGNAL), where a pipe would raise SIGPIPE in the converter.
  if (pipes && (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 || pipe2(out, O_CLOEXEC) != 0)) {
    for (int fd : {in[0], in[1], out[0], out[1]})
      if (fd >= 0) close(fd);
    return {};
  }
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);
    rlimit as{static_cast<rlim_t>(memory_bytes), static_cast<rlim_t>(memory_bytes)};
    setrlimit(RLIMIT_AS, &as);
    const int devnull = open("/dev/null", O_RDWR);
    dup2(pipes ? in[0] : devnull, 0);
    dup2(pipes ? out[1] : devnull, 1);
    dup2(devnull, 2);
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  Spawned s;
  if (pid > 0) {
    setpgid(pid, pid);  // also here: no window in which a kill(-pid) misses the child
    s.pid = pid;
  }
  if (pipes) {
    close(in[0]);
    close(out[1]);
    s.to_child = pid > 0 ? in[1] : (close(in[1]), -1);
    s.from_child = pid > 0 ? out[0] : (close(out[0]), -1);
  }
  return s;
}

void kill_group(pid_t pid) {
  if (pid <= 0) return;
  kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

enum class LineResult { kLine, kClosed, kTimedOut };

// One line from fd before the deadline (without its newline); bytes past it stay in
// `pending`.
LineResult read_line(int fd, std::string& pending, std::string& line, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (const auto nl = pending.find('\n'); nl != std::string::npos) {
      line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      return LineResult::kLine;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return LineResult::kTimedOut;
    pollfd p{fd, POLLIN, 0};
    const int pr = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (pr < 0 && errno != EINTR) return LineResult::kClosed;
    if (pr <= 0) continue;
    char buf[4096];
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return LineResult::kClosed;
    pending.append(buf, static_cast<std::size_t>(n));
  }
}

Error timeout_error(int timeout_ms) {
  return Error(Code::k_document_timeout, "Converting the office document took too long; please send it as PDF.")
      .with("limit_ms", std::to_string(timeout_ms));
}

}  // namespace

OfficeConverter::OfficeConverter(OfficeSettings settings)
    : settings_(std::move(settings)),
      busy_(static_cast<std::size_t>(std::max(1, settings_.max_concurrent)), false),
      instances_(busy_.size()) {
  if (settings_.work_dir.empty()) settings_.work_dir = (fs::temp_directory_path() / "faxbridge-office").string();
}

OfficeConverter::~OfficeConverter() {
  for (auto& instance : instances_) stop(instance);
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

int OfficeConverter::instance_pid(int slot) const {
  std::lock_guard lock(mutex_);
  return instances_.at(static_cast<std::size_t>(slot)).pid;
}

Result<void> OfficeConverter::start(Instance& instance, int slot, std::chrono::steady_clock::time_point deadline) {
  const fs::path profile = fs::absolute(fs::path(settings_.work_dir) / ("profile-" + std::to_string(slot)));
  std::error_code ec;
  fs::create_directories(profile, ec);
  // The pipe LibreOffice listens on is named after the profile (a converter's work
  // folder and the slot), so two converters on one machine never meet, and a restart
  // reuses the socket file a killed LibreOffice left in /tmp instead of adding one.
  const std::string pipe = "faxbridge-office-" + std::to_string(std::hash<std::string>{}(profile.string()));
  Spawned s = spawn({settings_.python, "-c", std::string(detail::office_worker_script()), settings_.soffice,
                     "file://" + profile.string(), pipe},
                    profile.string(), settings_.memory_bytes, true);
  if (s.pid < 0) return Error(Code::k_document_office_unavailable, "LibreOffice could not be started.");
  {
    std::lock_guard lock(mutex_);
    instance = Instance{s.pid, s.to_child, s.from_child, ""};
  }
  std::string line;
  const LineResult r = read_line(instance.answers, instance.pending, line, deadline);
  if (r == LineResult::kLine && line == "ready") return ok();
  stop(instance);
  if (r == LineResult::kTimedOut) return timeout_error(settings_.timeout_ms);
  return Error(Code::k_document_office_unavailable,
               "LibreOffice could not be started on the converter (are LibreOffice and python3-uno installed?).")
      .with("python", settings_.python)
      .with("soffice", settings_.soffice);
}

void OfficeConverter::stop(Instance& instance) {
  if (instance.requests >= 0) close(instance.requests);
  if (instance.answers >= 0) close(instance.answers);
  kill_group(instance.pid);
  std::lock_guard lock(mutex_);
  instance = Instance{};
}

Result<void> OfficeConverter::convert_warm(int slot, const std::string& in, const std::string& out) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(settings_.timeout_ms);
  Instance& instance = instances_[static_cast<std::size_t>(slot)];
  // An instance killed while idle: its worker has exited (LibreOffice may linger in
  // the group); one whose LibreOffice alone died answers "gone". Either way a new one
  // is started and asked once more: LibreOffice dying on the document a second time
  // means the document makes it crash.
  for (int attempt = 0;; ++attempt) {
    if (instance.pid > 0 && waitpid(instance.pid, nullptr, WNOHANG) == instance.pid) {
      kill(-instance.pid, SIGKILL);
      instance.pid = -1;  // reaped
      stop(instance);
    }
    if (instance.pid < 0)
      if (auto started = start(instance, slot, deadline); !started) return started.error();
    const std::string request = in + "\t" + out + "\n";
    std::string line;
    LineResult r = LineResult::kClosed;
    const bool sent = send(instance.requests, request.data(), request.size(), MSG_NOSIGNAL) ==
                      static_cast<ssize_t>(request.size());
    if (sent) r = read_line(instance.answers, instance.pending, line, deadline);
    if (r == LineResult::kTimedOut) {
      stop(instance);
      return timeout_error(settings_.timeout_ms);
    }
    if (r == LineResult::kLine && line == "ok") return ok();
    if (r == LineResult::kLine && line.rfind("error", 0) == 0)
      return Error(Code::k_document_corrupt, "The office document could not be opened; please send it as PDF.")
          .with("reason", line.substr(0, 200));
    stop(instance);  // "gone", or the worker died without an answer
    if (attempt > 0)
      return Error(Code::k_document_corrupt, "LibreOffice failed on the office document; please send it as PDF.");
  }
}

Result<void> OfficeConverter::convert_cold(int slot, const std::string& in, const std::string& outdir) {
  const fs::path profile = fs::absolute(fs::path(settings_.work_dir) / ("profile-" + std::to_string(slot)));
  std::error_code ec;
  fs::create_directories(profile, ec);
  Spawned s = spawn({settings_.soffice, "-env:UserInstallation=file://" + profile.string(), "--headless",
                     "--invisible", "--nologo", "--norestore", "--nolockcheck", "--convert-to", "pdf", "--outdir",
                     outdir, in},
                    profile.string(), settings_.memory_bytes, false);
  if (s.pid < 0) return Error(Code::k_document_office_unavailable, "LibreOffice could not be started.");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(settings_.timeout_ms);
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(s.pid, &status, WNOHANG);
    if (r == s.pid || (r < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill_group(s.pid);
      return timeout_error(settings_.timeout_ms);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-s.pid, SIGKILL);  // whatever LibreOffice left running in its group goes too
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return Error(Code::k_document_office_unavailable, "LibreOffice is not installed on the converter.");
  return ok();
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
  const fs::path scratch =
      fs::absolute(fs::path(settings_.work_dir) / ("scratch-" + std::to_string(slot) + "-" + std::to_string(getpid())));
  fs::remove_all(scratch, ec);
  fs::create_directories(scratch, ec);
  if (ec) return Error(Code::k_io_failed, "Could not create LibreOffice's work folder.").with("path", scratch.string());
  const fs::path in = scratch / ("document." + ext);
  const fs::path out = scratch / "document.pdf";
  {
    std::ofstream f(in, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) return Error(Code::k_io_failed, "Could not write the document for LibreOffice.");
  }
  auto converted = settings_.keep_running ? convert_warm(slot, in.string(), out.string())
                                          : convert_cold(slot, in.string(), scratch.string());
  std::string pdf = converted ? read_file(out) : std::string();
  fs::remove_all(scratch, ec);
  if (!converted) return converted.error();
  if (pdf.empty())
    return Error(Code::k_document_corrupt, "The office document could not be opened; please send it as PDF.");
  return pdf;
}

}  // namespace faxbridge::document
