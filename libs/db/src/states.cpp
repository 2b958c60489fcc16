// DESIGN: each machine is three constant tables (states in enum order, final states,
// edges with the reason they happen). Everything else is derived from them: the
// enum <-> name mapping, the final-state test that sets completed_at, the checks of
// every move, and the diagram in docs/design.md (states_test compares it, and the
// schema's CHECK lists, with these tables). The job move is one statement: the
// conditional UPDATE and the event INSERT as a data-modifying CTE, so recording the
// event costs no extra round trip.
#include "faxbridge/db/states.hpp"

#include <array>
#include <stdexcept>

#include "faxbridge/core/log.hpp"
#include "states_sql.hpp"

namespace faxbridge::db {
namespace {

using namespace std::string_view_literals;

constexpr std::array kJobStates = {"submitted"sv, "converting"sv, "ready"sv, "routing"sv, "queued"sv, "dialing"sv,
                                   "sending"sv, "retry_wait"sv, "sent"sv, "partially_sent"sv, "failed"sv,
                                   "cancelled"sv};
constexpr std::array kJobFinal = {"sent"sv, "partially_sent"sv, "failed"sv, "cancelled"sv};
constexpr std::array kJobEdges = {
    Edge{"submitted", "converting", "a converter claims it"},
    Edge{"converting", "converting", "its converter's lease expired, another takes it over"},
    Edge{"converting", "submitted", "handed back (database or LibreOffice unavailable)"},
    Edge{"converting", "ready", "pages made"},
    Edge{"converting", "failed", "document refused, or claimed too often"},
    Edge{"submitted", "failed", "claimed too often"},
    Edge{"ready", "routing", "a router claims it"},
    Edge{"routing", "routing", "its router's lease expired, another takes it over"},
    Edge{"routing", "ready", "handed back (database unavailable)"},
    Edge{"routing", "queued", "route, dial number and reference chosen"},
    Edge{"routing", "failed", "not allowed to send, no route, or claimed too often"},
    Edge{"ready", "failed", "claimed too often"},
    Edge{"queued", "dialing", "a gateway claims the call within the limits"},
    Edge{"dialing", "sending", "T.30 phase C, pages on the wire"},
    Edge{"dialing", "sent", "result applied"},
    Edge{"dialing", "partially_sent", "result applied"},
    Edge{"dialing", "retry_wait", "retryable failure, attempts left"},
    Edge{"dialing", "failed", "fatal failure or attempts used up"},
    Edge{"sending", "sent", "every page confirmed"},
    Edge{"sending", "partially_sent", "some pages confirmed"},
    Edge{"sending", "retry_wait", "retryable failure, attempts left"},
    Edge{"sending", "failed", "fatal failure, attempts used up, or outcome unknown"},
    Edge{"retry_wait", "queued", "retry interval over"},
    Edge{"submitted", "cancelled", "cancel"},
    Edge{"converting", "cancelled", "cancel"},
    Edge{"ready", "cancelled", "cancel"},
    Edge{"routing", "cancelled", "cancel seen by the router"},
    Edge{"queued", "cancelled", "cancel"},
    Edge{"dialing", "cancelled", "cancel seen when the result is applied"},
    Edge{"sending", "cancelled", "cancel seen when the result is applied"},
    Edge{"retry_wait", "cancelled", "cancel"},
};

constexpr std::array kAttemptStates = {"open"sv, "closed"sv, "applying"sv, "applied"sv, "failed"sv};
constexpr std::array kAttemptFinal = {"applied"sv, "failed"sv};
constexpr std::array kAttemptEdges = {
    Edge{"open", "closed", "the gateway ended the call, or its lease expired (interrupted)"},
    Edge{"closed", "applying", "a router claims the result"},
    Edge{"applying", "applying", "its router's lease expired, another takes it over"},
    Edge{"applying", "closed", "handed back (database unavailable)"},
    Edge{"applying", "applied", "the job moved per the result"},
    Edge{"closed", "failed", "claimed too often"},
    Edge{"applying", "failed", "claimed too often"},
};

constexpr std::array kNotificationStates = {"pending"sv, "sending"sv, "sent"sv, "failed"sv, "suppressed"sv};
constexpr std::array kNotificationFinal = {"sent"sv, "failed"sv, "suppressed"sv};
constexpr std::array kNotificationEdges = {
    Edge{"pending", "sending", "a notifier claims it"},
    Edge{"sending", "sending", "its notifier's lease expired, another takes it over"},
    Edge{"sending", "pending", "delivery failed for now, retried later"},
    Edge{"sending", "sent", "delivered"},
    Edge{"sending", "failed", "delivery refused for good, or its retry window passed"},
    Edge{"sending", "suppressed", "an alert whose cause was mailed within the interval"},
    Edge{"pending", "failed", "claimed too often"},
};

const StateMachine kJobs{"fax_jobs", kJobStates, kJobFinal, kJobEdges};
const StateMachine kAttempts{"attempts", kAttemptStates, kAttemptFinal, kAttemptEdges};
const StateMachine kNotifications{"notifications", kNotificationStates, kNotificationFinal, kNotificationEdges};

template <typename E>
std::string_view name_in(const StateMachine& m, E s) {
  return m.states[static_cast<std::size_t>(s)];
}

Error not_allowed(const StateMachine& m, std::string_view from, std::string_view to) {
  return Error(Code::k_internal, std::string(m.table) + ": " + std::string(from) + " -> " + std::string(to) +
                                     " is not an allowed move.");
}

}  // namespace

bool StateMachine::has(std::string_view s) const {
  for (auto x : states) {
    if (x == s) return true;
  }
  return false;
}

bool StateMachine::allows(std::string_view from, std::string_view to) const {
  for (const auto& e : edges) {
    if (e.from == from && e.to == to) return true;
  }
  return false;
}

bool StateMachine::is_final(std::string_view s) const {
  for (auto x : final_states) {
    if (x == s) return true;
  }
  return false;
}

const StateMachine& job_machine() { return kJobs; }
const StateMachine& attempt_machine() { return kAttempts; }
const StateMachine& notification_machine() { return kNotifications; }

const StateMachine* machine_of(std::string_view table) {
  for (const StateMachine* m : {&kJobs, &kAttempts, &kNotifications}) {
    if (m->table == table) return m;
  }
  return nullptr;
}

std::string_view state_name(JobState s) { return name_in(kJobs, s); }
std::string_view state_name(AttemptState s) { return name_in(kAttempts, s); }
std::string_view state_name(NotificationState s) { return name_in(kNotifications, s); }

std::optional<JobState> parse_job_state(std::string_view name) {
  for (std::size_t i = 0; i < kJobStates.size(); ++i) {
    if (kJobStates[i] == name) return static_cast<JobState>(i);
  }
  return std::nullopt;
}

bool is_final(JobState s) { return kJobs.is_final(state_name(s)); }

std::string state_diagram(const StateMachine& m) {
  std::string out = "```mermaid\nstateDiagram-v2\n";
  out += "    [*] --> " + std::string(m.states.front()) + "\n";
  for (const auto& e : m.edges) {
    out += "    " + std::string(e.from) + " --> " + std::string(e.to) + " : " + std::string(e.why) + "\n";
  }
  for (auto f : m.final_states) out += "    " + std::string(f) + " --> [*]\n";
  out += "```\n";
  return out;
}

namespace states_sql {

void require_edge(const StateMachine& m, std::string_view from, std::string_view to) {
  if (!m.allows(from, to)) throw std::logic_error(not_allowed(m, from, to).message);
}

std::string job_events_insert(std::string_view moved, std::string_view id_column, std::string_view from_expr,
                              std::string_view to_expr, std::string_view actor_expr, std::string_view code_expr,
                              std::string_view detail_expr) {
  return "INSERT INTO job_events (job_id, from_state, to_state, actor, error_code, detail) SELECT " +
         std::string(id_column) + ", " + std::string(from_expr) + ", " + std::string(to_expr) + ", " +
         std::string(actor_expr) + ", " + std::string(code_expr) + ", " + std::string(detail_expr) + " FROM " +
         std::string(moved);
}

void log_job_state_after_commit(Tx& tx, std::int64_t job, std::optional<std::string> reference,
                                std::string_view from, std::string_view to, std::string actor,
                                std::optional<std::string> code) {
  after_commit(tx, [job, reference = std::move(reference), from = std::string(from), to = std::string(to),
                    actor = std::move(actor), code = std::move(code)] {
    log::info("job.state", {{"job", job},
                            {"reference", reference.value_or("")},
                            {"from", from},
                            {"to", to},
                            {"actor", actor},
                            {"code", code.value_or("")}});
  });
}

}  // namespace states_sql

Result<bool> transition(Tx& tx, std::int64_t job, JobState from, JobState to, const std::string& actor,
                        const std::optional<Error>& error, const JobChange& c) {
  const auto f = state_name(from), t = state_name(to);
  if (!kJobs.allows(f, t)) return not_allowed(kJobs, f, t);
  std::optional<std::string> code, detail;
  if (error) {
    code = std::string(error->name());
    detail = error->message;
  }
  const bool write_error = error.has_value() || c.replace_error;
  std::optional<std::string> wait;
  if (c.not_before_in) wait = std::to_string(c.not_before_in->count()) + " seconds";
  static const std::string stmt =
      "WITH moved AS (UPDATE fax_jobs SET state = $3, updated_at = now(), "
      "owner = CASE WHEN $6 THEN NULL ELSE owner END, "
      "lease_until = CASE WHEN $6 THEN NULL ELSE lease_until END, "
      "claims = CASE WHEN $6 THEN 0 ELSE claims END, "
      "error_code = CASE WHEN $7 THEN $8 ELSE error_code END, "
      "error_detail = CASE WHEN $7 THEN $9 ELSE error_detail END, "
      "error_category = CASE WHEN $7 THEN $10 ELSE error_category END, "
      "error_retryable = CASE WHEN $7 THEN $11::boolean ELSE error_retryable END, "
      "pages_sent = coalesce($12, pages_sent), "
      "not_before = CASE WHEN $13::interval IS NULL THEN not_before ELSE now() + $13::interval END, "
      "completed_at = CASE WHEN $14 THEN now() ELSE completed_at END, "
      "route_id = CASE WHEN $16 THEN $17::bigint ELSE route_id END, "
      "dial_number = CASE WHEN $16 THEN $18::text ELSE dial_number END, "
      "gateway_addresses = CASE WHEN $16 THEN string_to_array($19::text, E'\\n') ELSE gateway_addresses END, "
      "t38_policy = CASE WHEN $16 THEN $20::text ELSE t38_policy END "
      "WHERE id = $1 AND state = $2 AND ($5::text IS NULL OR owner = $5) RETURNING id, reference), "
      "ev AS (" + states_sql::job_events_insert("moved", "id", "$2", "$3", "$4", "$8", "$15") + ") "
      "SELECT reference FROM moved";
  auto r = exec_prepared_text(tx, stmt, job, std::string(f), std::string(t), actor, c.holder, c.release_lease,
                                  write_error, code, detail, c.category, c.retryable, c.pages_sent, wait,
                                  kJobs.is_final(t), detail.value_or(c.detail), c.set_route, c.route_id,
                                  c.dial_number, join_lines(c.gateway_addresses), c.t38_policy);
  if (r.empty()) return false;
  states_sql::log_job_state_after_commit(tx, job, opt<std::string>(r[0][0]), f, t, actor, code);
  return true;
}

Result<bool> transition(Tx& tx, std::int64_t attempt, AttemptState from, AttemptState to) {
  const auto f = state_name(from), t = state_name(to);
  if (!kAttempts.allows(f, t)) return not_allowed(kAttempts, f, t);
  // A closed attempt is the router's work from now on (its not_before).
  return W(tx).exec_params("UPDATE attempts SET state = $3, updated_at = now(), "
                           "not_before = CASE WHEN $3 = 'closed' THEN now() ELSE not_before END "
                           "WHERE id = $1 AND state = $2",
                           attempt, std::string(f), std::string(t)).affected_rows() > 0;
}

Result<bool> transition(Tx& tx, std::int64_t notification, NotificationState from, NotificationState to) {
  const auto f = state_name(from), t = state_name(to);
  if (!kNotifications.allows(f, t)) return not_allowed(kNotifications, f, t);
  return W(tx).exec_params("UPDATE notifications SET state = $3, updated_at = now(), "
                           "sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE sent_at END "
                           "WHERE id = $1 AND state = $2",
                           notification, std::string(f), std::string(t)).affected_rows() > 0;
}

}  // namespace faxbridge::db
