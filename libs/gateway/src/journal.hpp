#pragma once
// DESIGN: the gateway's local journal, what makes a call's outcome durable before
// Postgres has it. Private to libs/gateway.
//
// A finished call's outcome, a received fax, phase C reached and the pages confirmed are
// facts the far end already acted on: losing them (a database outage, a crash before
// the commit) loses a fax or sends it twice. So each is first an entry here: one small
// JSON file per entry, written to a temporary name, fsynced, renamed to its sequence
// number and the folder fsynced (a file that exists is complete). The call store
// (call_store.hpp) writes each entry to Postgres until it commits, and only then removes
// it, with the spool files it names. A gateway that starts replays what it finds.
//
// One process owns a journal at a time: the folder is locked with flock(2), so a
// second gateway given the same folder by mistake is refused at start instead of
// replaying entries under a live one.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "faxbridge/core/result.hpp"

namespace faxbridge::gateway {

class Journal final {
 public:
  // Creates the folder when missing and locks it; config.invalid when another process
  // holds it.
  static Result<Journal> open(const std::filesystem::path& folder);
  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&&) = delete;
  Journal(const Journal&) = delete;
  ~Journal();

  // Durable once this returns: the entry survives a crash or a power cut.
  Result<std::uint64_t> append(const nlohmann::json& entry);
  // The entry committed: forget it (a crash before this replays it; replays are idempotent).
  void remove(std::uint64_t sequence);
  // Kept for the operator when it can never be written (the error goes beside it).
  void set_aside(std::uint64_t sequence, const std::string& why);
  // Every entry on disk, oldest first (replay at start). Unreadable files are set aside.
  std::vector<std::pair<std::uint64_t, nlohmann::json>> pending();

  const std::filesystem::path& folder() const { return folder_; }

 private:
  Journal(std::filesystem::path folder, int lock_fd, std::uint64_t next)
      : folder_(std::move(folder)), lock_fd_(lock_fd), next_(next) {}
  std::filesystem::path path_of(std::uint64_t sequence) const;

  std::filesystem::path folder_;
  int lock_fd_ = -1;
  std::uint64_t next_ = 1;
};

// Makes a file's contents durable (fsync), e.g. a received fax before its journal entry
// names it. io.failed when the file cannot be opened or synced.
Result<void> sync_file(const std::filesystem::path& path);

}  // namespace faxbridge::gateway
