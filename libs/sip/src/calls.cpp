// DESIGN: every INVITE session of the agent, ours and theirs, from the first INVITE to
// nua's report that the session is over; the loop (user_agent.cpp) hands it the API
// requests and the stack's INVITE, BYE and CANCEL events, on the loop thread.
// - A Call (call.hpp) is created for every INVITE session (ours or theirs) and lives
//   until nua reports the session terminated (nua_i_state, nua_callstate_terminated);
//   then the handle is destroyed and its trace moves to a bounded history. That is also
//   where on_ended fires, exactly once per call the user saw. Its phase is one CallState,
//   changed only through set_state (call.cpp), and every decision here reads it.
// - Media handling in nua is off (NUTAG_MEDIA_ENABLE(0)): its SDP engine does not know
//   T.38, so SDP goes in and out as plain bodies and sdp.cpp does offer/answer. Our
//   description is made in one place (set_local), a received one read in one (body_of),
//   sent in INVITEs by one (send_invite) and in responses by one (respond).
// - Outbound: responses to our INVITE (1xx, 2xx, failures classified by status.cpp, a
//   401/407 answered once with digest credentials); inbound: the offer read, the user
//   asked (answer, refuse or ring); re-INVITEs both ways; BYE and CANCEL.
// - User callbacks go through the agent's guard (CallContext::guarded) and are not
//   called once the agent is stopping. A callback may call the agent back, so after one
//   the call is looked up again before it is used.
// - The agent's 200 ms tick runs the watchdogs (no-answer, max duration, a session stuck
//   while ending), so no call stays pending forever.
#include "calls.hpp"

#include <random>

#include "faxbridge/core/log.hpp"
#include "faxbridge/core/phone.hpp"
#include "target.hpp"

// sofia's tag macros expand to C casts at every use site (as in user_agent.cpp).
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <sofia-sip/nta.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>

#include "sofia_support.hpp"

namespace faxbridge::sip {

std::string_view end_reason_name(EndReason reason) {
  switch (reason) {
    case EndReason::kBye: return "bye";
    case EndReason::kCancelled: return "cancelled";
    case EndReason::kFailed: return "failed";
    case EndReason::kRefused: return "refused";
    case EndReason::kWatchdog: return "watchdog";
    case EndReason::kShutdown: return "shutdown";
    default: return "unknown";
  }
}

namespace detail {
namespace {

using namespace std::chrono_literals;

// A session that is ending (BYE or CANCEL sent) gets two transaction timeouts plus this
// before it is dropped by force: the stack itself gives up after one.
constexpr auto kEndingGrace = 1s;
std::string_view view(const char* s) { return s == nullptr ? std::string_view() : std::string_view(s); }

std::string strip_quotes(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

std::string user_of(const url_t* url) {
  if (url == nullptr || url->url_user == nullptr) return {};
  std::string_view u(url->url_user);
  return std::string(u.substr(0, u.find(';')));  // user parameters (";phone-context=...")
}

// RFC 3261 section 20.43: warn-code, warn-agent, quoted text (quotes and control
// characters taken out). 305: "incompatible media format".
std::string warning_header(int status, std::string_view text) {
  std::string clean;
  for (const char ch : text.substr(0, 200)) {
    if (ch != '"' && ch != '\\' && static_cast<unsigned char>(ch) >= 0x20) clean += ch;
  }
  const char* code = (status == 488 || status == 606) ? "305" : "399";
  return std::string(code) + " faxbridge \"" + clean + "\"";
}

// The text of a received Warning header, for traces and errors; empty when none.
std::string warning_text(const sip_t* sip) {
  if (sip == nullptr || sip->sip_warning == nullptr || sip->sip_warning->w_text == nullptr) return {};
  std::string text;
  // sofia keeps the quotes of the quoted-string.
  for (const char ch : strip_quotes(std::string_view(sip->sip_warning->w_text).substr(0, 200))) {
    if (static_cast<unsigned char>(ch) >= 0x20) text += ch;
  }
  return text;
}

// The message body (an SDP offer or answer, for the requests and responses we handle);
// empty when there is none.
std::string_view body_of(const sip_t* sip) {
  if (sip == nullptr || sip->sip_payload == nullptr || sip->sip_payload->pl_data == nullptr) return {};
  return std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

// The stream to run from the far end's answer to our offer: T.38 first when we offered it.
std::optional<NegotiatedMedia> usable_answer(const Result<SessionDescription>& answer, const MediaOffer& ours) {
  if (!answer) return std::nullopt;
  return select_media(*answer, ours.t38.has_value());
}

bool same_kind_family(MediaKind a, MediaKind b) {
  return (a == MediaKind::kT38) == (b == MediaKind::kT38);
}

std::string url_as_string_c(const sip_t* sip) {
  const url_t* u = sip->sip_request->rq_url;
  if (u == nullptr) return {};
  std::string s = "sip:";
  if (u->url_user != nullptr) s += std::string(u->url_user) + "@";
  if (u->url_host != nullptr) s += u->url_host;
  if (u->url_port != nullptr) s += std::string(":") + u->url_port;
  return s;
}

// A call we cancelled failed because of why we cancelled it, whatever the status.
FailureClass cancelled_class(const Call& c) {
  return c.cancel_cause == CancelCause::kUser ? FailureClass{Code::k_call_cancelled, false}
                                              : FailureClass{Code::k_call_no_answer, false};
}

Error not_found(CallId id) {
  return Error(Code::k_sip_call_not_found, "No such call in progress.").with("call", std::to_string(id));
}

}  // namespace

Calls::Calls(CallContext context) : ctx_(std::move(context)) {
  std::random_device rd;
  session_base_ = (static_cast<std::uint64_t>(rd()) << 16) % 1000000000ULL + 1;
}

// ---- the API, on the loop thread --------------------------------------------------

Result<CallId> Calls::place_call(const std::string& uri, const CallRequest& req) {
  const CallId id = next_id_++;
  std::string display = req.caller_display.empty() ? ctx_.settings.display_name : req.caller_display;
  if (!safe_header_text(display)) display = ctx_.settings.display_name;
  const std::string user = valid_number(req.caller_number) ? req.caller_number : ctx_.settings.contact_user;
  const std::string from = "\"" + display + "\" <sip:" + user + "@" + ctx_.settings.bind_address +
                           ":" + std::to_string(ctx_.settings.port) + ">";
  // In angle brackets: bare, a ";transport=tcp" would be a parameter of the To header
  // instead of the URI, and the request would go out over UDP.
  const std::string to = "<" + uri + ">";
  nua_handle_t* nh = nua_handle(ctx_.nua, nullptr, SIPTAG_TO_STR(to.c_str()),
                                SIPTAG_FROM_STR(from.c_str()), TAG_END());
  if (nh == nullptr) {
    return Error(Code::k_sip_invalid_target, "The SIP stack refused the target.").with("target", uri);
  }
  Call& c = add_call(id, nh, true);
  c.target = uri;
  c.credentials = req.credentials;
  set_local(c, req.offer);
  send_invite(c, "-> INVITE " + uri);
  set_state(c, CallState::kCalling, "our INVITE sent");
  log::info("sip.call.placed", {{"call", static_cast<std::int64_t>(id)},
                                {"t38", req.offer.t38.has_value()},
                                {"audio", req.offer.audio.has_value()}});
  return id;
}

Result<void> Calls::hang_up(CallId id) {
  Call* c = find(id);
  if (c == nullptr) return not_found(id);
  if (is_ending(c->state)) return ok();
  if (is_answered(c->state)) {
    end_session(*c, EndReason::kBye, "hung up");
  } else if (c->outbound) {
    cancel(*c, CancelCause::kUser, "hung up");
  } else {
    refuse_invite(*c, 480, EndReason::kRefused, {}, "hung up while ringing");
  }
  return ok();
}

Result<void> Calls::reinvite_t38(CallId id, const T38Offer& offer) {
  Call* c = find(id);
  if (c == nullptr) return not_found(id);
  if (c->state != CallState::kConfirmed) {
    return Error(Code::k_sip_invalid_state,
                 "A re-INVITE needs an answered call with no other re-INVITE pending.")
        .with("call", std::to_string(id))
        .with("state", std::string(detail::call_state_name(c->state)));
  }
  c->previous_media = c->local_media;
  c->previous_sdp = c->local_sdp;
  MediaOffer m;
  m.t38 = offer;
  set_local(*c, m);
  send_invite(*c, "-> INVITE (re-INVITE to T.38)");
  set_state(*c, CallState::kReinviting, "our re-INVITE sent");
  return ok();
}

Result<void> Calls::answer(CallId id, const MediaOffer& media) {
  Call* c = find(id);
  if (c == nullptr) return not_found(id);
  if (c->state != CallState::kRinging) {
    return Error(Code::k_sip_invalid_state, "Only a ringing inbound call can be answered.")
        .with("call", std::to_string(id));
  }
  if (!media.t38 && !media.audio) {
    return Error(Code::k_sip_invalid_state, "An answer needs T.38 or audio media.");
  }
  accept_invite(*c, media);
  return ok();
}

Result<void> Calls::refuse(CallId id, int status, std::string_view warning) {
  Call* c = find(id);
  if (c == nullptr) return not_found(id);
  if (c->state != CallState::kRinging) {
    return Error(Code::k_sip_invalid_state, "Only a ringing inbound call can be refused.")
        .with("call", std::to_string(id));
  }
  if (status < 300 || status > 699) status = 480;
  refuse_invite(*c, status, EndReason::kRefused, warning, "refused");
  return ok();
}

Result<std::vector<std::string>> Calls::trace(CallId id) const {
  if (auto it = calls_.find(id); it != calls_.end()) return it->second.trace;
  for (const auto& [hid, lines] : history_) {
    if (hid == id) return lines;
  }
  return not_found(id);
}

// ---- inbound ------------------------------------------------------------------

void Calls::on_invite(nua_handle_t* nh, const sip_t* sip) {
  if (Call* existing = find(nh)) {
    on_reinvite(*existing, sip);
    return;
  }
  const CallId id = next_id_++;
  Call& c = add_call(id, nh, false);
  const std::string ruri = sip != nullptr && sip->sip_request != nullptr
                               ? url_as_string_c(sip)
                               : std::string();
  c.trace.push_back("<- INVITE " + ruri);
  set_state(c, CallState::kRinging, "an INVITE received");

  const std::string_view body = body_of(sip);
  if (body.empty()) {
    // A late offer would need our offer in the 200 and the answer in the ACK; no fax
    // gateway we target sends one, so it is refused plainly.
    refuse_unusable(c, "INVITE without SDP offer");
    return;
  }
  auto offer = parse_sdp(body);
  if (!offer) {
    refuse_unusable(c, offer.error().message);
    return;
  }
  auto preferred = select_media(*offer, true);
  if (!preferred) {
    refuse_unusable(c, "no T.38 or G.711 stream offered");
    return;
  }
  IncomingCall in;
  in.call = id;
  in.request_user = user_of(sip->sip_request != nullptr ? sip->sip_request->rq_url : nullptr);
  if (in.request_user.empty() && sip->sip_to != nullptr) in.request_user = user_of(sip->sip_to->a_url);
  auto normalised = normalize_phone(in.request_user, ctx_.settings.dial_plan);
  in.called_number = normalised ? normalised->canonical : in.request_user;
  if (sip->sip_from != nullptr) {
    in.caller_id = user_of(sip->sip_from->a_url);
    in.caller_display = strip_quotes(view(sip->sip_from->a_display));
  }
  if (sip->sip_via != nullptr) {
    const char* host = sip->sip_via->v_received != nullptr ? sip->sip_via->v_received
                                                           : sip->sip_via->v_host;
    in.source = std::string(view(host));
    if (sip->sip_via->v_port != nullptr) in.source += ":" + std::string(sip->sip_via->v_port);
    const std::string_view protocol = view(sip->sip_via->v_protocol);  // "SIP/2.0/TCP"
    in.transport = std::string(protocol.substr(protocol.rfind('/') == std::string_view::npos ? 0 : protocol.rfind('/') + 1));
  }
  in.offer = *offer;
  in.offered = *preferred;
  c.remote_sdp = *offer;
  c.media = *preferred;
  c.surfaced = true;
  log::info("sip.call.incoming", {{"call", static_cast<std::int64_t>(id)},
                                  {"called", log::mask_number(in.called_number)},
                                  {"media", media_kind_name(preferred->kind)}});
  InboundDecision decision = InboundDecision::refuse(480);
  if (ctx_.handlers.on_incoming && !ctx_.stopping) ctx_.guarded("on_incoming", [&] { decision = ctx_.handlers.on_incoming(in); });
  Call* cp = find(id);  // the callback may have answered, refused or hung up already
  if (cp == nullptr || cp->state != CallState::kRinging) return;
  switch (decision.action) {
    case InboundDecision::Action::kAnswer:
      if (!decision.answer.t38 && !decision.answer.audio) {
        refuse_invite(*cp, 488, EndReason::kRefused, {}, "the answer has no media");
        break;
      }
      accept_invite(*cp, decision.answer);
      break;
    case InboundDecision::Action::kRing:
      respond(*cp, 180, nullptr);
      break;
    case InboundDecision::Action::kRefuse:
    default: {
      int status = decision.status;
      if (status < 300 || status > 699) status = 480;
      refuse_invite(*cp, status, EndReason::kRefused, {}, "refused");
      break;
    }
  }
}

void Calls::refuse_unusable(Call& c, const std::string& why) {
  log::warn("sip.call.refused_unusable", {{"call", static_cast<std::int64_t>(c.id)}, {"reason", why}});
  refuse_invite(c, 488, EndReason::kRefused, {}, "the offer is unusable");
}

// Our 200 to a ringing INVITE, with the answer to its offer.
void Calls::accept_invite(Call& c, const MediaOffer& media) {
  set_local(c, media, &c.remote_sdp);
  respond(c, 200, &c.local_sdp);
  set_state(c, CallState::kAnswering, "our 200 sent");
}

// A final failure to a ringing INVITE: the session ends with it.
void Calls::refuse_invite(Call& c, int status, EndReason reason, std::string_view warning, const char* why) {
  c.end_reason = reason;
  respond(c, status, nullptr, warning);
  set_state(c, CallState::kEnding, why);
}

void Calls::on_reinvite(Call& c, const sip_t* sip) {
  c.trace.push_back("<- INVITE (re-INVITE)");
  if (c.state == CallState::kReinviting) {
    respond(c, 491, nullptr);  // glare (RFC 3261 section 14.2)
    return;
  }
  // kAnswering too: the caller may send its re-INVITE before our 200's ACK arrives.
  if (c.state != CallState::kConfirmed && c.state != CallState::kAnswering) {
    respond(c, 491, nullptr);
    return;
  }
  const std::string_view body = body_of(sip);
  if (body.empty()) {
    // An offer-less re-INVITE (a session refresh, RFC 4028): offer what we have.
    respond(c, 200, &c.local_sdp);
    return;
  }
  auto offer = parse_sdp(body);
  if (!offer) {
    respond(c, 488, nullptr);
    return;
  }
  if (offer->origin_session_id == c.remote_sdp.origin_session_id &&
      offer->origin_version == c.remote_sdp.origin_version) {
    // Unchanged description: a session refresh. Same answer, same version.
    respond(c, 200, &c.local_sdp);
    return;
  }
  auto offered = select_media(*offer, true);
  if (!offered) {
    respond(c, 488, nullptr);
    return;
  }
  if (same_kind_family(offered->kind, c.media.kind)) {
    // Same kind of media, perhaps a new address or codec: our side stays as it is.
    c.remote_sdp = *offer;
    const bool changed = !(*offered == c.media);
    c.media = *offered;
    respond(c, 200, &c.local_sdp);
    if (changed && ctx_.handlers.on_media_changed && !ctx_.stopping) {
      ctx_.guarded("on_media_changed", [&] { ctx_.handlers.on_media_changed(MediaChanged{c.id, c.remote_sdp, c.media}); });
    }
    return;
  }
  std::optional<MediaOffer> answer;
  if (ctx_.handlers.on_reinvite && !ctx_.stopping) {
    ctx_.guarded("on_reinvite", [&] {
      answer = ctx_.handlers.on_reinvite(ReinviteRequest{c.id, *offer, *offered, c.media});
    });
  }
  Call* cp = find(c.id);  // the callback may have hung up
  if (cp == nullptr || is_ending(cp->state)) return;
  if (!answer || (!answer->t38 && !answer->audio)) {
    respond(*cp, 488, nullptr);
    return;
  }
  set_local(*cp, *answer, &*offer);
  cp->remote_sdp = *offer;
  cp->media = *offered;
  respond(*cp, 200, &cp->local_sdp);
  if (ctx_.handlers.on_media_changed && !ctx_.stopping) {
    ctx_.guarded("on_media_changed", [&] { ctx_.handlers.on_media_changed(MediaChanged{cp->id, cp->remote_sdp, cp->media}); });
  }
}

// ---- outbound -----------------------------------------------------------------

void Calls::on_invite_response(int status, const char* phrase, nua_handle_t* nh, const sip_t* sip) {
  Call* c = find(nh);
  if (c == nullptr) return;
  // The stack reports its own failures (timer B, ICMP unreachable, a connection that
  // closed) as 408/503 in a message it makes up, To tag and all; nta marks such a
  // message internal (nta_sip_is_internal), and nua reports some of its own errors
  // with no message at all. Headers cannot tell: many PBXs send neither Server nor
  // User-Agent. Any provisional response proves the address alive (the stack never
  // fakes those), so a made-up 408 after one is the far end's "no answer".
  const bool made_up = nta_sip_is_internal(sip) || sip->sip_status == nullptr;
  const bool from_network = !made_up;
  if (from_network && status < 200) c->got_response = true;
  if (from_network && status >= 300) c->warning = warning_text(sip);
  if (status >= 180 || from_network) {
    c->trace.push_back("<- " + std::to_string(status) + " " + phrase_of(status, phrase) +
                       (from_network ? "" : " (local)") +
                       (status >= 300 && !c->warning.empty() ? " (" + c->warning + ")" : ""));
  }
  switch (c->state) {
    case CallState::kConfirmed:
    case CallState::kReinviting:
      on_reinvite_response(*c, status, sip);
      return;
    case CallState::kCalling:
    case CallState::kEarly:
    case CallState::kCancelling:
      break;  // the first INVITE's responses, below
    default:
      // kEnding: the response to a re-INVITE that was out when we sent BYE; the call
      // is going, and nothing about its media is worth reporting any more.
      return;
  }
  const bool cancelling = c->state == CallState::kCancelling;
  if (status < 200) {
    if ((status == 180 || status == 183) && !cancelling) {
      if (c->state == CallState::kCalling) set_state(*c, CallState::kEarly, "180 or 183 received");
      if (ctx_.handlers.on_progress && !ctx_.stopping) ctx_.guarded("on_progress", [&] { ctx_.handlers.on_progress(CallProgress{c->id, status}); });
    }
    return;
  }
  if (status < 300) {
    if (cancelling) {
      // The answer crossed our CANCEL (RFC 3261 section 9.1): the call exists, end it.
      report_failure(*c, status, phrase_of(status, phrase), false, cancelled_class(*c));
      end_session(*c, *c->end_reason, "a 200 crossed our CANCEL");
      return;
    }
    auto answer = parse_sdp(body_of(sip));
    auto media = usable_answer(answer, c->local_media);
    if (!media) {
      // Answered without anything we can run: hang up rather than hold a dead line.
      FailureClass f{Code::k_call_media_refused, false};
      report_failure(*c, status, "answer without usable SDP", false, f);
      end_session(*c, EndReason::kFailed, "a 200 without a usable answer");
      return;
    }
    c->remote_sdp = *answer;
    c->media = *media;
    set_state(*c, CallState::kConfirmed, "200 received");
    log::info("sip.call.answered", {{"call", static_cast<std::int64_t>(c->id)},
                                    {"media", media_kind_name(media->kind)}});
    if (ctx_.handlers.on_answered && !ctx_.stopping) {
      ctx_.guarded("on_answered", [&] { ctx_.handlers.on_answered(CallAnswered{c->id, c->remote_sdp, c->media}); });
    }
    return;
  }
  if (from_network && answer_challenge(*c, status, sip)) return;
  const bool local = made_up && !c->got_response;
  const FailureClass f = cancelling ? cancelled_class(*c) : classify_final_status(status, local);
  // Before the report: a hang_up from on_failed then finds the call already ending.
  set_state(*c, CallState::kEnding, cancelling ? "the cancelled INVITE's final response" : "a final failure received");
  report_failure(*c, status, phrase_of(status, phrase), local, f);
}

// A 401/407 to our INVITE: answered once with the call's credentials (the stack resends
// the INVITE with an Authorization header). A second challenge means they are wrong;
// answering again would only loop, so the caller gets call.not_authorised.
bool Calls::answer_challenge(Call& c, int status, const sip_t* sip) {
  if (c.state == CallState::kCancelling || !c.credentials) return false;
  if (!answer_digest(c.nh, status, sip, *c.credentials, c.auth_tries)) return false;
  c.trace.push_back("-> INVITE (with credentials)");
  log::info("sip.call.authenticating", {{"call", static_cast<std::int64_t>(c.id)}, {"status", status}});
  return true;
}

void Calls::report_failure(Call& c, int status, const std::string& phrase, bool local,
                    const FailureClass& f) {
  if (!c.end_reason) {
    c.end_reason = c.cancel_cause == CancelCause::kUser       ? EndReason::kCancelled
                   : c.cancel_cause == CancelCause::kNone     ? EndReason::kFailed
                                                              : EndReason::kWatchdog;
  }
  CallFailed e;
  e.call = c.id;
  e.sip_status = status;
  e.reason = phrase;
  e.local = local;
  e.failure = f;
  e.error = Error(f.code, "The call failed with SIP " + std::to_string(status) + " " + phrase + ".");
  e.error.with("sip_status", std::to_string(status)).with("target", detail::masked_target(c.target));
  if (local) e.error.with("local", "true");
  if (!c.warning.empty()) e.error.with("warning", c.warning);
  e.trace = c.trace;
  log::write_error(log::Level::kWarn, "sip.call.failed", e.error,
                   {{"call", static_cast<std::int64_t>(c.id)}});
  if (ctx_.handlers.on_failed && !ctx_.stopping) ctx_.guarded("on_failed", [&] { ctx_.handlers.on_failed(e); });
}

void Calls::on_reinvite_response(Call& c, int status, const sip_t* sip) {
  if (c.state != CallState::kReinviting || status < 200) return;
  if (status < 300) {
    auto answer = parse_sdp(body_of(sip));
    auto media = usable_answer(answer, c.local_media);
    if (media) {
      c.remote_sdp = *answer;
      c.media = *media;
      set_state(c, CallState::kConfirmed, "our re-INVITE answered");
      if (ctx_.handlers.on_media_changed && !ctx_.stopping) {
        ctx_.guarded("on_media_changed", [&] { ctx_.handlers.on_media_changed(MediaChanged{c.id, c.remote_sdp, c.media}); });
      }
      return;
    }
    // A 200 without a usable answer: the far end's media are unknown now. Ending the
    // call is the only state both sides can agree on.
    log::warn("sip.reinvite.bad_answer", {{"call", static_cast<std::int64_t>(c.id)}});
    end_session(c, EndReason::kFailed, "our re-INVITE answered without a usable answer");
    return;
  }
  // Refused (488 and the like): RFC 3261 section 14.1, the session goes on unchanged.
  c.local_media = c.previous_media;
  c.local_sdp = c.previous_sdp;
  set_state(c, CallState::kConfirmed, "our re-INVITE refused");
  if (ctx_.handlers.on_reinvite_refused && !ctx_.stopping) {
    ctx_.guarded("on_reinvite_refused", [&] { ctx_.handlers.on_reinvite_refused(ReinviteRefused{c.id, status}); });
  }
}

// ---- session end ---------------------------------------------------------------

void Calls::on_state(nua_handle_t* nh, int state) {
  Call* c = find(nh);
  if (c == nullptr) return;
  if (state == nua_callstate_ready && c->state == CallState::kAnswering) {
    set_state(*c, CallState::kConfirmed, "the ACK came");
    if (ctx_.handlers.on_answered && !ctx_.stopping) {
      ctx_.guarded("on_answered", [&] { ctx_.handlers.on_answered(CallAnswered{c->id, c->remote_sdp, c->media}); });
    }
  }
  if (state == nua_callstate_terminated) finish(*c, "the stack ended the session");
}

void Calls::on_bye(nua_handle_t* nh) {
  if (Call* c = find(nh)) {
    c->trace.push_back("<- BYE");
    if (!c->end_reason) c->end_reason = EndReason::kBye;
    c->end_by = Party::kRemote;
  }
}

void Calls::on_cancel(nua_handle_t* nh) {
  if (Call* c = find(nh)) {
    c->trace.push_back("<- CANCEL");
    if (!c->end_reason) c->end_reason = EndReason::kCancelled;
    c->end_by = Party::kRemote;
  }
}

void Calls::on_end_response(int status, const char* phrase, nua_handle_t* nh, bool bye) {
  if (Call* c = find(nh)) {
    c->trace.push_back("<- " + std::to_string(status) + " " + phrase_of(status, phrase) +
                       (bye ? " (BYE)" : " (CANCEL)"));
  }
}

void Calls::finish(Call& c, const char* why) {
  const CallId id = c.id;
  set_state(c, CallState::kEnded, why);
  if (c.surfaced && ctx_.handlers.on_ended && !ctx_.stopping) {
    CallEnded e;
    e.call = id;
    e.was_answered = c.answered;
    e.reason = c.end_reason.value_or(EndReason::kBye);
    e.by = c.end_by;
    log::info("sip.call.ended", {{"call", static_cast<std::int64_t>(id)},
                                 {"reason", end_reason_name(e.reason)},
                                 {"by", e.by == Party::kLocal ? "local" : "remote"}});
    ctx_.guarded("on_ended", [&] { ctx_.handlers.on_ended(e); });
  }
  Call* cp = find(id);  // the callback cannot remove it, but stay defensive
  if (cp == nullptr) return;
  history_.emplace_back(id, std::move(cp->trace));
  while (history_.size() > UserAgent::kTraceHistory) history_.pop_front();
  by_handle_.erase(cp->nh);
  nua_handle_destroy(cp->nh);
  calls_.erase(id);
}

void Calls::end_session(Call& c, EndReason reason, const char* why) {
  if (!c.end_reason) c.end_reason = reason;
  c.end_by = Party::kLocal;
  nua_bye(c.nh, TAG_END());
  c.trace.push_back("-> BYE");
  set_state(c, CallState::kEnding, why);
}

void Calls::cancel(Call& c, CancelCause cause, const char* why) {
  c.cancel_cause = cause;
  c.end_by = Party::kLocal;
  nua_cancel(c.nh, TAG_END());
  c.trace.push_back("-> CANCEL");
  set_state(c, CallState::kCancelling, why);
}

void Calls::respond(Call& c, int status, const std::string* sdp, std::string_view warning) {
  const char* phrase = sip_status_phrase(status);
  if (phrase == nullptr) phrase = "";
  if (sdp != nullptr) {
    nua_respond(c.nh, status, phrase, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(sdp->c_str()), TAG_END());
  } else if (!warning.empty()) {
    const std::string header = warning_header(status, warning);
    nua_respond(c.nh, status, phrase, SIPTAG_WARNING_STR(header.c_str()), TAG_END());
  } else {
    nua_respond(c.nh, status, phrase, TAG_END());
  }
  c.trace.push_back("-> " + std::to_string(status) + " " + phrase +
                    (warning.empty() ? "" : " (" + std::string(warning) + ")"));
}

// An INVITE carrying our current description: the first one of a call, or a re-INVITE.
void Calls::send_invite(Call& c, std::string trace_line) {
  nua_invite(c.nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(c.local_sdp.c_str()),
             TAG_END());
  c.trace.push_back(std::move(trace_line));
}

// ---- watchdogs ----------------------------------------------------------------

void Calls::tick() {
  const auto now = ctx_.now();
  std::vector<CallId> ids;
  for (auto& [id, c] : calls_) ids.push_back(id);
  for (CallId id : ids) {
    Call* c = find(id);
    if (c == nullptr) continue;
    const auto age = now - c->started;
    if (is_ending(c->state)) {
      if (now - c->ending_since > 2 * ctx_.settings.transaction_timeout + kEndingGrace) {
        // The stack never reported the end (a lost final response): drop it anyway.
        log::warn("sip.call.forced_end", {{"call", static_cast<std::int64_t>(id)}});
        finish(*c, "the stack never ended the session: dropped");
      }
      continue;
    }
    const bool overdue = age > ctx_.settings.max_call_duration;
    const bool unanswered = !is_answered(c->state);
    if (overdue || (unanswered && age > ctx_.settings.no_answer_timeout)) {
      log::warn("sip.call.watchdog", {{"call", static_cast<std::int64_t>(id)},
                                      {"overdue", overdue}});
      const char* why = overdue ? "the call-duration watchdog" : "the no-answer watchdog";
      if (!unanswered) {
        end_session(*c, EndReason::kWatchdog, why);
      } else if (c->outbound) {
        cancel(*c, overdue ? CancelCause::kWatchdog : CancelCause::kNoAnswer, why);
      } else {
        refuse_invite(*c, 480, EndReason::kWatchdog, {}, why);
      }
    }
  }
}

// ---- bookkeeping ---------------------------------------------------------------

Call& Calls::add_call(CallId id, nua_handle_t* nh, bool outbound) {
  Call& c = calls_[id];
  c.id = id;
  c.nh = nh;
  c.outbound = outbound;
  c.surfaced = outbound;
  c.started = ctx_.now();
  c.session_id = session_base_ + id;
  by_handle_[nh] = id;
  return c;
}

void Calls::set_local(Call& c, const MediaOffer& m, const SessionDescription* answering) {
  // RFC 3264 section 8: each new description of ours carries a higher version.
  if (!c.local_sdp.empty()) ++c.sdp_version;
  c.local_media = m;
  c.local_sdp = answering != nullptr
                    ? build_answer_sdp(m, *answering, ctx_.settings.media_address, c.session_id, c.sdp_version,
                                       ctx_.settings.contact_user)
                    : build_sdp(m, ctx_.settings.media_address, c.session_id, c.sdp_version, ctx_.settings.contact_user);
}

Call* Calls::find(CallId id) {
  auto it = calls_.find(id);
  return it == calls_.end() ? nullptr : &it->second;
}
Call* Calls::find(nua_handle_t* nh) {
  auto it = by_handle_.find(nh);
  return it == by_handle_.end() ? nullptr : find(it->second);
}

}  // namespace detail
}  // namespace faxbridge::sip
