#pragma once
// Which media a fax call uses: pure decisions, no SIP, no sockets, no database.
// The gateway reads the inputs per call (the route's t38_policy, the versioned settings,
// the remote number's remembered preference) and follows the plan these functions make.
//
// Outbound, by the route's T.38 policy:
//   require  T.38 offer only; an answer without T.38 fails the call (call.media_refused).
//   off      G.711 audio only; the far end's re-INVITE to T.38 is refused.
//   auto     without "Allow G.711 for outgoing faxes": T.38 offer only, as require.
//            with it: an audio offer, then our re-INVITE to T.38 when the far end's fax
//            answer tone (CED) or V.21 preamble is heard, or the far end's re-INVITE
//            accepted; a refused T.38 (488/606, an answer without T.38) carries on over
//            G.711 on the same call and is remembered for the number, whose next calls
//            then stay on G.711 without trying T.38 again (the far end may still ask).
// Inbound ("Disable T.38 for incoming faxes"):
//   off  a T.38 offer is answered with T.38; an audio-only offer with audio, switched to
//        T.38 by our re-INVITE when the caller's CNG or V.21 preamble is heard (or by
//        the caller's re-INVITE); a refused switch stays on G.711.
//   on   audio is answered and stays audio (the caller's re-INVITE to T.38 gets 488);
//        a T.38-only offer is refused with 488 and a Warning saying why.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace faxbridge::gateway {

enum class T38Policy { kAuto, kRequire, kOff };
// "auto" | "require" | "off" (routes.t38_policy); nullopt for anything else.
std::optional<T38Policy> parse_t38_policy(std::string_view text);
std::string_view t38_policy_name(T38Policy policy);

struct OutboundMediaInput {
  T38Policy route_policy = T38Policy::kAuto;
  bool allow_g711 = false;           // sip.allow_g711_outgoing
  bool number_prefers_g711 = false;  // remote_capabilities: T.38 failed with it before
};

enum class FirstOffer { kT38, kAudio };

struct OutboundMediaPlan {
  FirstOffer offer = FirstOffer::kT38;
  bool audio_allowed = false;      // the fax may run over G.711 (answered on audio, T.38 refused)
  bool reinvite_on_tone = false;   // our re-INVITE to T.38 on CED / V.21 preamble
  bool accept_remote_t38 = false;  // the far end's re-INVITE to T.38 is answered
  std::string_view why;            // one line for the log
};
OutboundMediaPlan decide_outbound(const OutboundMediaInput& in);

struct InboundMediaInput {
  bool disable_t38 = false;  // sip.disable_t38_incoming
  bool offered_t38 = false;  // the INVITE has a usable m=image udptl t38 stream
  bool offered_audio = false;  // ... a usable PCMA or PCMU stream
};

enum class InboundAnswer { kT38, kAudio, kRefuse };

struct InboundMediaPlan {
  InboundAnswer answer = InboundAnswer::kRefuse;
  int refuse_status = 0;           // kRefuse: the SIP status
  std::string refuse_reason;       // kRefuse: the Warning text (RFC 3261 section 20.43)
  bool reinvite_on_tone = false;   // our re-INVITE to T.38 on CNG / V.21 preamble
  bool accept_remote_t38 = false;  // the caller's re-INVITE to T.38 is answered
};
InboundMediaPlan decide_inbound(const InboundMediaInput& in);

// What a refused re-INVITE to T.38 means (RFC 3261 section 14.1).
enum class ReinviteRefusal {
  kGlare,       // 491: both sides re-INVITEd at once; try again after glare_retry_delay
  kT38Refused,  // the far end will not do T.38 (488, 606, 415, 501, 403, 603): remember it
  kDialogGone,  // 408, 481: the call no longer exists on the far end; hang up
  kKeepMedia,   // anything else (a transient 5xx...): carry on as we were, remember nothing
};
ReinviteRefusal classify_reinvite_refusal(int sip_status);

// Whether the final status of an INVITE that offered T.38 alone says the far end will not
// do T.38 (as opposed to busy, no answer, ...): remembered for the number.
bool is_t38_offer_refused(int sip_status);

// RFC 3261 section 14.1: after a 491 the side that owns the Call-ID (placed the call)
// waits 2.1-4 s, the other 0-2 s, both in units of 10 ms, so the retries do not meet again.
std::chrono::milliseconds glare_retry_delay(bool owns_call_id, std::uint32_t random);
// Backstop: re-INVITEs we send to switch one call to T.38 (glare retries included).
inline constexpr int kMaxT38Reinvites = 3;

// Who we say we are on an outbound call: the From user (caller id) and the TSID.
struct CallerIdentity {
  std::string from_user;  // "" lets the SIP agent use its contact user
  std::string tsid;       // at most 20 characters (T.30 section 5.3.6.2.4)
};
// The rule is core's station_id.hpp (the page header uses the same): the calling number
// is the sender's own fax number, else "company.fax"; company.tsid overrides it as the
// TSID; `fallback_ident` (the gateway's configured ident) when nothing is set.
CallerIdentity caller_identity(std::string_view company_tsid, std::string_view sender_fax,
                               std::string_view company_fax, std::string_view fallback_ident);
// The CSID we answer with: the number the caller dialled (the user's DID), so the sending
// machine shows the fax number it reached; `fallback_ident` when that is empty.
std::string receiving_ident(std::string_view called_number, std::string_view fallback_ident);

}  // namespace faxbridge::gateway
