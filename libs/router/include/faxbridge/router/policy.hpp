#pragma once
// The router's decisions as pure functions, so every rule has a unit test:
//  - what a call's outcome does to a job (sent, partially_sent, retry_wait, failed,
//    cancelled), with the failure's category, code and retry class;
//  - how long to wait before the next attempt, per cause, as HylaFAX operators know it;
//  - the number the gateway dials (global prefix for off-net numbers);
//  - whether a job may go out at all (cancel, the sender's right to send, a route with
//    an address to dial) and who receives an inbound fax (user, group, default user);
//  - the sentence a sender reads for each failure code.
// The router (router.cpp) only loads the facts these take and stores what they decide.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/error.hpp"
#include "faxbridge/core/phone.hpp"
#include "faxbridge/core/result.hpp"

#include "faxbridge/db/outcome.hpp"
#include "faxbridge/db/states.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::db {
struct SettingsSnapshot;
}

namespace faxbridge::router {

// The gateway records an attempt's outcome with this type (libs/db); the router reads it.
using db::Outcome;

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
  bool final() const {
    const auto s = db::parse_job_state(next_state);
    return s && db::is_final(*s);
  }
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

// The sentence a sender reads when a call failed with `code`: what happened and what to
// change. sip_status, when known, is quoted where it helps (call.rejected).
std::string failure_sentence(Code code, std::optional<int> sip_status = std::nullopt);

// ready -> routing -> queued, or why not.
struct RoutingFacts {
  bool cancel_requested = false;
  std::optional<db::User> sender;  // unset: the job has no sender (API without a user)
  bool route_found = false;        // a route matches the number, or a default route exists
  std::size_t gateway_addresses = 0;  // the matched route's and the default route's, together
  std::string recipient;
};
struct RoutingDecision {
  db::JobState next = db::JobState::kQueued;  // queued | failed | cancelled
  std::optional<Error> error;
  std::optional<Category> category;
  bool tell_sender_refused = false;  // the send_refused notification to the sender
  bool alert_admin = false;          // an admin alert: the configuration must change
};
RoutingDecision decide_routing(const RoutingFacts& facts);

// Who receives a fax to a number: the number's user if receive is enabled, else (no
// such user) a group's members who receive, else the default user, also for unknown
// numbers unless they are refused. A call without a page reaches nobody.
struct InboundFacts {
  std::string called_number;
  int pages = 0;
  std::optional<db::User> owner;        // the user whose fax number it is
  std::optional<std::int64_t> group_id;  // the group whose number it is (only without owner)
  std::vector<db::User> group_members;
  std::optional<db::User> default_user;  // incoming.default_user, when set and found
  bool refuse_unknown = false;           // incoming.unknown_number = refuse
  bool notify_failed_calls = false;      // incoming.notify_failed_calls
};
struct InboundDecision {
  struct Recipient {
    db::User user;
    std::optional<std::int64_t> via_group;
  };
  std::vector<Recipient> recipients;
  bool failed = false;                   // received_faxes: failed instead of routed
  std::optional<Error> error;            // inbound.no_recipient
  bool alert_admin = false;
  bool tell_owner_failed_call = false;   // failed_incoming_call to the number's user
};
InboundDecision decide_inbound(const InboundFacts& facts);

}  // namespace faxbridge::router
