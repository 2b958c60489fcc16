// DESIGN: a call's phase is one CallState, changed in one place, set_state, the way
// spandsp's T.30 engine changes its state: every change is checked against one table of
// edges (with when each happens), appended to the call's trace, which ends up in an
// attempt's diagnostics, and logged as sip.call_state. A change the table lacks is a
// programming error: logged at error with the call, both states and the reason, and not
// made, so the call goes on in a state the rest of the agent understands.
// - Outbound: new -> calling -> (early) -> confirmed; before the answer, a hang-up or a
//   watchdog cancels (cancelling), and the INVITE's final response then ends it.
// - Inbound: new -> ringing -> answering (200 sent) -> confirmed (the ACK came); a
//   refusal is a final failure sent (ending).
// - Confirmed <-> reinviting while our re-INVITE is out; the far end's re-INVITEs are
//   answered at once and change no state.
// - Every live state ends in ended when nua reports the session terminated (a far end's
//   BYE or CANCEL goes there directly); ending is the wait for that after we acted.
// What is not a phase (the user was told of the call, a provisional came, why we
// cancelled, how it ended) stays a plain fact on the Call.
#include "call.hpp"

#include <array>

#include "faxbridge/core/error.hpp"
#include "faxbridge/core/log.hpp"

namespace faxbridge::sip::detail {
namespace {

using S = CallState;
using namespace std::string_view_literals;

// In enum order.
constexpr std::array<std::string_view, kCallStateCount> kNames = {
    "new"sv,       "calling"sv,    "early"sv,      "ringing"sv, "answering"sv,
    "confirmed"sv, "reinviting"sv, "cancelling"sv, "ending"sv,  "ended"sv,
};

constexpr std::array kEdges = {
    CallEdge{S::kNew, S::kCalling, "our INVITE sent"},
    CallEdge{S::kNew, S::kRinging, "an INVITE received"},

    CallEdge{S::kCalling, S::kEarly, "180 or 183 received"},
    CallEdge{S::kCalling, S::kConfirmed, "200 with a usable answer received"},
    CallEdge{S::kCalling, S::kCancelling, "CANCEL sent: hung up, or the no-answer or duration watchdog"},
    CallEdge{S::kCalling, S::kEnding, "a final failure received, or a 200 we cannot use (BYE sent)"},
    CallEdge{S::kCalling, S::kEnded, "the stack ended the session (the agent stopping)"},
    CallEdge{S::kEarly, S::kConfirmed, "200 with a usable answer received"},
    CallEdge{S::kEarly, S::kCancelling, "CANCEL sent: hung up, or the no-answer or duration watchdog"},
    CallEdge{S::kEarly, S::kEnding, "a final failure received, or a 200 we cannot use (BYE sent)"},
    CallEdge{S::kEarly, S::kEnded, "the stack ended the session (the agent stopping)"},

    CallEdge{S::kRinging, S::kAnswering, "our 200 sent"},
    CallEdge{S::kRinging, S::kEnding, "refused with a final status (the user, an unusable offer, the watchdog)"},
    CallEdge{S::kRinging, S::kEnded, "the caller's CANCEL (the stack answers 487), or the agent stopping"},
    CallEdge{S::kAnswering, S::kConfirmed, "the ACK came"},
    CallEdge{S::kAnswering, S::kEnding, "BYE sent before the ACK came (hung up, the duration watchdog)"},
    CallEdge{S::kAnswering, S::kEnded, "the caller's BYE, or no ACK ever came"},

    CallEdge{S::kConfirmed, S::kReinviting, "our re-INVITE sent"},
    CallEdge{S::kConfirmed, S::kEnding, "BYE sent (hung up, the duration watchdog)"},
    CallEdge{S::kConfirmed, S::kEnded, "the far end's BYE, or the agent stopping"},
    CallEdge{S::kReinviting, S::kConfirmed, "the re-INVITE's final response: a usable 200, or a refusal"},
    CallEdge{S::kReinviting, S::kEnding, "BYE sent (hung up, a 200 without a usable answer)"},
    CallEdge{S::kReinviting, S::kEnded, "the far end's BYE, or the agent stopping"},

    CallEdge{S::kCancelling, S::kEnding, "the INVITE's final response: 487, or a 200 that crossed the CANCEL (BYE sent)"},
    CallEdge{S::kCancelling, S::kEnded, "the stack ended the session, or it never did (forced)"},
    CallEdge{S::kEnding, S::kEnded, "the stack ended the session, or it never did (forced)"},
};

}  // namespace

std::string_view call_state_name(CallState state) {
  const auto i = static_cast<std::size_t>(state);
  return i < kNames.size() ? kNames[i] : "unknown"sv;
}

std::span<const CallEdge> call_edges() { return kEdges; }

bool allowed(CallState from, CallState to) {
  for (const auto& e : kEdges) {
    if (e.from == from && e.to == to) return true;
  }
  return false;
}

bool is_answered(CallState state) {
  return state == S::kAnswering || state == S::kConfirmed || state == S::kReinviting;
}

bool is_ending(CallState state) {
  return state == S::kCancelling || state == S::kEnding || state == S::kEnded;
}

bool set_state(Call& c, CallState to, const char* why) {
  const CallState from = c.state;
  const std::string_view reason = why == nullptr ? std::string_view() : std::string_view(why);
  if (!allowed(from, to)) {
    log::write_error(log::Level::kError, "sip.call_state.not_allowed",
                     Error(Code::k_internal, "A SIP call state change is not in the table; the state stays."),
                     {{"call", static_cast<std::int64_t>(c.id)},
                      {"from", call_state_name(from)},
                      {"to", call_state_name(to)},
                      {"why", reason}});
    return false;
  }
  c.state = to;
  if (to == S::kConfirmed) c.answered = true;
  if (is_ending(to) && !is_ending(from)) c.ending_since = Call::Clock::now();
  c.trace.push_back("state: " + std::string(call_state_name(from)) + " -> " + std::string(call_state_name(to)) +
                    " (" + std::string(reason) + ")");
  log::info("sip.call_state", {{"call", static_cast<std::int64_t>(c.id)},
                               {"from", call_state_name(from)},
                               {"to", call_state_name(to)},
                               {"why", reason}});
  return true;
}

}  // namespace faxbridge::sip::detail
