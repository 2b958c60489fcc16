// The journal's files: "<sequence>.json" (zero-padded so a directory listing sorts
// them), "<sequence>.json.tmp" while one is being written, "<sequence>.json.failed"
// for an entry set aside, and ".lock" held by the owning process.
#include "journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "faxbridge/core/log.hpp"

namespace faxbridge::gateway {

namespace {

constexpr const char* kSuffix = ".json";

Error io_error(const std::string& what, const std::filesystem::path& path) {
  return Error(Code::k_io_failed, what).with("path", path.string()).with("reason", std::strerror(errno));
}

Result<void> sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("Cannot open the journal folder.", folder);
  const int r = ::fsync(fd);
  ::close(fd);
  if (r != 0) return io_error("Cannot sync the journal folder.", folder);
  return ok();
}

// The sequence of a committed entry's file name, 0 for anything else.
std::uint64_t sequence_of(const std::filesystem::path& p) {
  const std::string name = p.filename().string();
  if (name.size() <= std::strlen(kSuffix) || !name.ends_with(kSuffix)) return 0;
  const std::string digits = name.substr(0, name.size() - std::strlen(kSuffix));
  if (digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoull(digits);
}

}  // namespace

Result<void> sync_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("Cannot open the spool file to sync it.", path);
  const int r = ::fsync(fd);
  ::close(fd);
  if (r != 0) return io_error("Cannot sync the spool file.", path);
  return ok();
}

Result<Journal> Journal::open(const std::filesystem::path& folder) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return Error(Code::k_io_failed, "Cannot create the journal folder.").with("path", folder.string());
  const auto lock_path = folder / ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("Cannot open the journal's lock file.", lock_path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Error(Code::k_config_invalid,
                 "Another media gateway uses this spool folder's journal; give each gateway its own "
                 "FAXBRIDGE_GATEWAY_SPOOL_DIR or SIP port.")
        .with("path", folder.string());
  }
  // Numbers continue after every file here, set-aside ones included (a new entry never
  // takes the name of an old one); a ".tmp" is an entry a crash cut short: never durable,
  // never reported, so it goes.
  std::uint64_t highest = 0;
  for (const auto& e : std::filesystem::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".json.tmp")) {
      std::error_code ignored;
      std::filesystem::remove(e.path(), ignored);
      continue;
    }
    const auto dot = name.find(".json");
    if (dot != std::string::npos) highest = std::max(highest, sequence_of(e.path().parent_path() / name.substr(0, dot + 5)));
  }
  return Journal(folder, fd, highest + 1);
}

Journal::Journal(Journal&& other) noexcept
    : folder_(std::move(other.folder_)), lock_fd_(other.lock_fd_), next_(other.next_) {
  other.lock_fd_ = -1;
}

Journal::~Journal() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

std::filesystem::path Journal::path_of(std::uint64_t sequence) const {
  char name[32];
  std::snprintf(name, sizeof name, "%012llu", static_cast<unsigned long long>(sequence));
  return folder_ / (std::string(name) + kSuffix);
}

Result<std::uint64_t> Journal::append(const nlohmann::json& entry) {
  const std::uint64_t sequence = next_++;
  const auto final_path = path_of(sequence);
  auto tmp = final_path;
  tmp += ".tmp";
  const std::string text = entry.dump();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("Cannot create a journal entry.", tmp);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return io_error("Cannot write a journal entry.", tmp);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return io_error("Cannot sync a journal entry.", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) return io_error("Cannot put a journal entry in place.", final_path);
  if (auto s = sync_folder(folder_); !s) return s.error();
  return sequence;
}

void Journal::remove(std::uint64_t sequence) {
  std::error_code ec;
  std::filesystem::remove(path_of(sequence), ec);
  if (ec) log::warn("gateway.journal_remove_failed", {{"sequence", static_cast<std::int64_t>(sequence)}, {"reason", ec.message()}});
}

void Journal::set_aside(std::uint64_t sequence, const std::string& why) {
  const auto from = path_of(sequence);
  auto to = from;
  to += ".failed";
  std::error_code ec;
  std::filesystem::rename(from, to, ec);
  std::ofstream reason(to.string() + ".why");
  reason << why << '\n';
  log::error("gateway.journal_set_aside", {{"path", to.string()}, {"why", why}});
}

std::vector<std::pair<std::uint64_t, nlohmann::json>> Journal::pending() {
  std::map<std::uint64_t, std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(folder_, ec)) {
    if (const auto s = sequence_of(e.path()); s != 0) files[s] = e.path();
  }
  std::vector<std::pair<std::uint64_t, nlohmann::json>> out;
  for (const auto& [sequence, path] : files) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      set_aside(sequence, "not a journal entry (unreadable JSON)");
      continue;
    }
    out.emplace_back(sequence, std::move(parsed));
  }
  return out;
}

}  // namespace faxbridge::gateway
