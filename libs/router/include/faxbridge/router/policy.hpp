#pragma once
// The router's decisions as pure functions, so every rule has a unit test:
//  - what a call's outcome does to a job (sent, partially_sent, retry_wait, failed,
//    cancelled), with the failure's category, code and retry class;
//  - how long to wait before the next attempt, per cause, as HylaFAX operators know it;
//  - the number the gateway dials (global prefix for off-net numbers).
#include <chrono>
#include <optional>
#include <string>

#include "faxbridge/core/error.hpp"
#include "faxbridge/core/phone.hpp"
#include "faxbridge/core/result.hpp"

namespace faxbridge::db {
struct SettingsSnapshot;
}

namespace faxbridge::router {

enum class Outcome { kSent, kPartiallySent, kBusy, kNoAnswer, kRejected, kFailed, kCancelled, kInterrupted };
Result<Outcome> parse_outcome(const std::string& text);
std::string_view outcome_name(Outcome o);

enum class Category { kDocument, kLine, kProtocol, kPolicy, kInternal };
std::string_view category_name(Category c);

// What the gateway reported for one attempt.
struct CallReport {
  Outcome outcome = Outcome::kFailed;
  std::optional<std::string> error_code;  // dotted code from the gateway, if any
  int pages_sent = 0;                      // pages the receiver confirmed
  std::optional<int> page_count;           // pages in the job
  std::optional<int> sip_status;
  std::optional<std::string> phase_reached;  // T.30 phase "A".."E"
};

struct RetrySettings {
  int max_attempts = 3;
  std::chrono::seconds busy{180};
  std::chrono::seconds no_answer{300};
  std::chrono::seconds failure{600};

  static RetrySettings from(const db::SettingsSnapshot& settings);
};

// Per-job overrides (within the schema's limits: 1-100 attempts, 10 s - 1 day).
struct JobOverrides {
  std::optional<int> max_attempts;
  std::optional<int> retry_interval_s;
};

struct Decision {
  std::string next_state;  // sent | partially_sent | retry_wait | failed | cancelled
  std::chrono::seconds retry_after{0};
  std::optional<Error> error;  // with code and a sentence for the sender
  std::optional<Category> category;
  bool retryable = false;  // the failure class, even when attempts are exhausted
  bool final() const { return next_state != "retry_wait"; }
};

Decision decide(const CallReport& report, int attempts_done, const RetrySettings& settings,
                const JobOverrides& overrides);

// A call that ended without a result (the gateway died): past phase C the pages may
// have arrived, so it is never resent automatically (ARCHITECTURE.md section 3).
bool may_have_been_delivered(const std::optional<std::string>& phase_reached);

struct DialSettings {
  std::string global_prefix;                   // added to off-net numbers
  std::string network_type = "external_only";  // or internal_and_external
  std::size_t internal_max_digits = 5;         // local numbers up to this long are internal
  DialPlan plan;

  static DialSettings from(const db::SettingsSnapshot& settings);
};

// The number to dial for a normalised recipient number.
std::string dial_number(const PhoneNumber& number, const DialSettings& settings);

}  // namespace faxbridge::router
