// The media decisions of the gateway (media_policy.hpp). Pure functions: the tables in the
// header are the specification, tests/libs/gateway/media_policy_test.cpp checks each row.
#include "faxbridge/gateway/media_policy.hpp"

#include "faxbridge/core/station_id.hpp"

namespace faxbridge::gateway {

namespace {

std::string ident(std::string_view text) { return std::string(text.substr(0, station::kMaxIdent)); }

}  // namespace

std::optional<T38Policy> parse_t38_policy(std::string_view text) {
  if (text == "auto") return T38Policy::kAuto;
  if (text == "require") return T38Policy::kRequire;
  if (text == "off") return T38Policy::kOff;
  return std::nullopt;
}

std::string_view t38_policy_name(T38Policy policy) {
  switch (policy) {
    case T38Policy::kAuto: return "auto";
    case T38Policy::kRequire: return "require";
    case T38Policy::kOff: return "off";
  }
  return "auto";
}

OutboundMediaPlan decide_outbound(const OutboundMediaInput& in) {
  OutboundMediaPlan p;
  switch (in.route_policy) {
    case T38Policy::kRequire:
      p.offer = FirstOffer::kT38;
      p.why = "the route requires T.38";
      return p;
    case T38Policy::kOff:
      p.offer = FirstOffer::kAudio;
      p.audio_allowed = true;
      p.why = "T.38 is off on the route";
      return p;
    case T38Policy::kAuto:
      break;
  }
  if (!in.allow_g711) {
    p.offer = FirstOffer::kT38;
    p.why = "G.711 is not allowed for outgoing faxes";
    return p;
  }
  p.offer = FirstOffer::kAudio;
  p.audio_allowed = true;
  p.accept_remote_t38 = true;
  if (in.number_prefers_g711) {
    p.why = "T.38 failed with this number before";
  } else {
    p.reinvite_on_tone = true;
    p.why = "audio first, T.38 on the fax tones";
  }
  return p;
}

InboundMediaPlan decide_inbound(const InboundMediaInput& in) {
  InboundMediaPlan p;
  if (in.disable_t38) {
    if (in.offered_audio) {
      p.answer = InboundAnswer::kAudio;
      return p;
    }
    p.refuse_status = 488;
    p.refuse_reason = "T.38 is disabled for incoming faxes and the call offered no G.711 audio";
    return p;
  }
  if (in.offered_t38) {
    p.answer = InboundAnswer::kT38;
    return p;
  }
  if (in.offered_audio) {
    p.answer = InboundAnswer::kAudio;
    p.reinvite_on_tone = true;
    p.accept_remote_t38 = true;
    return p;
  }
  p.refuse_status = 488;
  p.refuse_reason = "The call offered neither T.38 nor G.711 audio";
  return p;
}

ReinviteRefusal classify_reinvite_refusal(int sip_status) {
  switch (sip_status) {
    case 491: return ReinviteRefusal::kGlare;
    case 408:
    case 481: return ReinviteRefusal::kDialogGone;
    case 403:
    case 415:
    case 488:
    case 501:
    case 603:
    case 606: return ReinviteRefusal::kT38Refused;
    default: return ReinviteRefusal::kKeepMedia;
  }
}

bool is_t38_offer_refused(int sip_status) {
  return sip_status == 488 || sip_status == 606 || sip_status == 415;
}

std::chrono::milliseconds glare_retry_delay(bool owns_call_id, std::uint32_t random) {
  if (owns_call_id) return std::chrono::milliseconds(2100 + 10 * (random % 190));  // 2.10 .. 3.99 s
  return std::chrono::milliseconds(10 * (random % 201));                            // 0 .. 2.00 s
}

CallerIdentity caller_identity(std::string_view company_tsid, std::string_view sender_fax,
                               std::string_view company_fax, std::string_view fallback_ident) {
  CallerIdentity id;
  id.from_user = station::calling_number(sender_fax, company_fax);
  id.tsid = station::tsid(company_tsid, sender_fax, company_fax, fallback_ident);
  return id;
}

std::string receiving_ident(std::string_view called_number, std::string_view fallback_ident) {
  return ident(called_number.empty() ? fallback_ident : called_number);
}

}  // namespace faxbridge::gateway
