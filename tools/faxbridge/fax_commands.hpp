#pragma once
// `faxbridge send` and `faxbridge faxes list|show|cancel`: faxes through the REST API
// (api_client.hpp), apart from argument parsing so that tests run them against a real
// WebApi and read what they print. The pieces that are logic (recipients, the status
// line, the live board, exit codes) are declared here for the unit tests.
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api_client.hpp"

namespace faxbridge::cli {

// Exit statuses of the API commands (documented in `faxbridge send --help` and docs/api.md).
inline constexpr int kExitOk = 0;           // done; with --wait: every fax sent
inline constexpr int kExitNotSent = 1;      // --wait: a fax ended failed, partially sent or cancelled
inline constexpr int kExitUsage = 2;        // bad command line (no token, unreadable file, bad URL)
inline constexpr int kExitRefused = 3;      // the API answered with a problem (printed with its code)
inline constexpr int kExitUnreachable = 4;  // no answer from the API, or not the API answering

struct SendArgs {
  std::vector<std::string> files;
  std::vector<std::string> to;  // as typed: each may hold several numbers, comma-separated
  std::string cover;            // cover page name; empty: the API's default
  std::string subject;
  std::string note;
  bool wait = false;
  std::chrono::milliseconds poll_interval{1000};
  std::string idempotency_key;  // empty: a fresh one (tests fix it)
};

struct ListArgs {
  std::string status;
  int limit = 20;
  std::string cursor;
  bool json = false;
};

// `--to` values as typed ("+4930 1,+4940 2" and repeated flags): one entry per number,
// trimmed, empty pieces dropped.
std::vector<std::string> split_recipients(const std::vector<std::string>& typed);
// The media type sent with a file part, from its name (the API checks the bytes anyway).
std::string media_type_for(const std::string& filename);
bool is_final_status(std::string_view status);
// "2026.00000012  +4930123456  sending  pages 1/3  attempt 1" (and the failure's code
// and sentence once the fax failed).
std::string status_line(const nlohmann::json& fax);
// The problem, or the unreachable URL with the variable to set, as printed on stderr;
// the exit status that goes with it.
std::string failure_text(const ApiFailure& f, const ApiArgs& api);
int failure_exit(const ApiFailure& f);

// Lines redrawn in place on a terminal (cursor up, clear line); elsewhere (a pipe, a
// log) each line is printed again only when it changed.
class StatusBoard final {
 public:
  StatusBoard(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}
  void show(const std::vector<std::string>& lines);

 private:
  std::ostream& out_;
  bool terminal_;
  std::vector<std::string> shown_;
};

int fax_send(const ApiArgs& api, const SendArgs& args, std::ostream& out, std::ostream& err, bool out_is_terminal);
int faxes_list(const ApiArgs& api, const ListArgs& args, std::ostream& out, std::ostream& err);
int faxes_show(const ApiArgs& api, std::int64_t id, bool json, std::ostream& out, std::ostream& err);
int faxes_cancel(const ApiArgs& api, std::int64_t id, std::ostream& out, std::ostream& err);

}  // namespace faxbridge::cli
