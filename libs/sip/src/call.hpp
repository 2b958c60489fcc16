#pragma once
// One INVITE session of the agent (placed or answered) and the states it goes through.
// Private to libs/sip. No sofia here beyond the handle's name, so the state table and
// set_state can be tested without a stack. Owned and changed on the loop thread only.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/sip/sdp.hpp"
#include "faxbridge/sip/user_agent.hpp"

struct nua_handle_s;

namespace faxbridge::sip::detail {

// The life cycle of an INVITE session (RFC 3261 sections 13-15), as the agent sees it.
enum class CallState {
  kNew,         // created; no INVITE sent or read yet
  kCalling,     // outbound: our INVITE is out, no 180/183 yet
  kEarly,       // outbound: 180 or 183 received
  kRinging,     // inbound: the INVITE is ours to answer (the user decides, or 180 sent)
  kAnswering,   // inbound: our 200 is out, its ACK is awaited (nua's "ready")
  kConfirmed,   // the session is up: their 200 received, or our 200 acknowledged
  kReinviting,  // our re-INVITE is out (RFC 3261 section 14.1), its final response awaited
  kCancelling,  // outbound: our CANCEL is out, the INVITE's final response awaited
  kEnding,      // BYE sent, or a final failure sent or received: nua's end awaited
  kEnded,       // nua reported the session terminated (or it was dropped by force)
};
inline constexpr std::size_t kCallStateCount = 10;

std::string_view call_state_name(CallState state);

// One allowed change and when it happens.
struct CallEdge {
  CallState from;
  CallState to;
  std::string_view when;
};
// Every allowed change; anything else is a programming error (set_state refuses it).
std::span<const CallEdge> call_edges();
bool allowed(CallState from, CallState to);

// The 200 is out (ours or theirs): hang_up sends BYE, the no-answer watchdog is over.
bool is_answered(CallState state);
// A CANCEL, BYE or final failure is out: only the stack's end of the session is awaited.
bool is_ending(CallState state);

// Why we cancelled an outbound call; it decides the failure reported.
enum class CancelCause { kNone, kUser, kNoAnswer, kWatchdog };

struct Call {
  using Clock = std::chrono::steady_clock;

  CallId id = 0;
  nua_handle_s* nh = nullptr;
  bool outbound = false;
  CallState state = CallState::kNew;  // changed only by set_state
  Clock::time_point started{};
  // Set by set_state: when the call first entered an ending state (the forced-end timer).
  Clock::time_point ending_since{};

  // Facts about the call, not phases of it.
  bool surfaced = false;       // the user has heard of it: on_ended is owed
  bool answered = false;       // it reached kConfirmed once (set_state): CallEnded::was_answered
  bool got_response = false;   // a provisional response came from the network: the address is alive
  CancelCause cancel_cause = CancelCause::kNone;
  std::optional<EndReason> end_reason;
  Party end_by = Party::kLocal;
  std::string warning;  // the Warning text of the last final response, if any

  std::string target;
  MediaOffer local_media;
  std::string local_sdp;
  std::uint64_t session_id = 0;
  std::uint64_t sdp_version = 1;
  SessionDescription remote_sdp;
  NegotiatedMedia media;
  // What a refused re-INVITE of ours falls back to (RFC 3261 section 14.1).
  MediaOffer previous_media;
  std::string previous_sdp;
  std::optional<Credentials> credentials;  // for a challenged INVITE
  int auth_tries = 0;
  // The first lines of its SIP messages and its state changes, in order (diagnosis).
  std::vector<std::string> trace;
};

// The one way a call's state changes: checked against call_edges(), appended to the
// call's trace ("state: calling -> early (18x received)") and logged (sip.call_state).
// A change the table lacks is logged at error and not made; false then.
bool set_state(Call& call, CallState to, const char* why);

}  // namespace faxbridge::sip::detail
