// DESIGN: one sofia-sip `nua` stack per UserAgent, owned by one loop thread; this file
// is that loop and the INVITE sessions it drives.
// - sofia's objects (su_root, nua, handles) are not thread-safe, so the loop thread
//   creates, drives and destroys all of them. Public functions hand a closure to the
//   loop (loop_queue.cpp) and wait for its result; one called from a callback (already
//   on the loop) runs inline. Their arguments are checked first (target.cpp).
// - Media handling in nua is off (NUTAG_MEDIA_ENABLE(0)): its SDP engine does not know
//   T.38, so SDP goes in and out as plain bodies and sdp.cpp does offer/answer. Our
//   description is made in one place (set_local), a received one read in one (body_of).
// - A Call (call.hpp) is created for every INVITE session (ours or theirs) and lives
//   until nua reports the session terminated (nua_i_state, nua_callstate_terminated);
//   then the handle is destroyed and its trace moves to a bounded history. That is also
//   where on_ended fires, exactly once per call the user saw. Its phase is one CallState,
//   changed only through set_state (call.cpp), and every decision here reads it.
// - A 200 ms tick runs the watchdogs (no-answer, max duration, a session stuck while
//   ending), the OPTIONS keep-alive (keepalive.cpp) and the registration's retries
//   (registration.cpp), so no call, ping or REGISTER stays pending forever.
// - Stopping: nua_shutdown() ends every session, then nua_destroy(); callbacks are no
//   longer delivered once the destructor has started.
#include "faxbridge/sip/user_agent.hpp"

#include <atomic>
#include <deque>
#include <exception>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "call.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/core/phone.hpp"
#include "keepalive.hpp"
#include "loop_queue.hpp"
#include "registration.hpp"
#include "target.hpp"

// sofia's tag macros (TAG_END, SIPTAG_*, NUTAG_*) expand to C casts at every use site in
// this file, so the warning cannot be scoped to the includes.
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>

#include "sofia_support.hpp"

namespace faxbridge::sip {
namespace {

using detail::answer_digest;
using detail::Call;
using detail::CallState;
using detail::CancelCause;
using detail::is_answered;
using detail::is_ending;
using detail::phrase_of;
using detail::safe_header_text;
using detail::set_state;
using detail::valid_number;

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Watchdog and keep-alive resolution: fine enough for second-scale timeouts, cheap.
constexpr auto kTickInterval = 200ms;
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

}  // namespace

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

class UserAgent::Impl {
 public:
  Impl(Settings settings, Handlers handlers)
      : settings_(std::move(settings)), handlers_(std::move(handlers)) {
    if (settings_.media_address.empty()) settings_.media_address = settings_.bind_address;
    std::random_device rd;
    session_base_ = (static_cast<std::uint64_t>(rd()) << 16) % 1000000000ULL + 1;
  }

  ~Impl() { stop(); }

  Result<void> start() {
    if (auto r = queue_.open(); !r) return r;
    // Shared: the loop thread may still be inside set_value() when start() returns.
    auto ready = std::make_shared<std::promise<Result<void>>>();
    auto started = ready->get_future();
    thread_ = std::thread([this, ready] { run(*ready); });
    auto r = started.get();
    if (!r) {
      thread_.join();
      return r;
    }
    return ok();
  }

  void stop() {
    if (!queue_.stop_accepting() && !thread_.joinable()) return;
    stopping_ = true;
    queue_.wake();
    if (thread_.joinable()) thread_.join();
    queue_.close_fd();
  }

  // Runs `f` on the loop thread and returns its result; nullopt once stopping.
  template <class F>
  auto on_loop(F&& f) -> std::optional<decltype(f())> {
    return queue_.run(std::forward<F>(f));
  }

  template <class T>
  Result<T> call_on_loop(std::function<Result<T>()> f) {
    auto r = on_loop(std::move(f));
    if (!r) return Error(Code::k_service_stopping, "The SIP agent is stopping.");
    return std::move(*r);
  }

  // ---- the API, on the loop thread --------------------------------------------------

  Result<CallId> place_call(const std::string& uri, const CallRequest& req) {
    const CallId id = next_id_++;
    std::string display = req.caller_display.empty() ? settings_.display_name : req.caller_display;
    if (!safe_header_text(display)) display = settings_.display_name;
    const std::string user = valid_number(req.caller_number) ? req.caller_number : settings_.contact_user;
    const std::string from = "\"" + display + "\" <sip:" + user + "@" + settings_.bind_address +
                             ":" + std::to_string(settings_.port) + ">";
    // In angle brackets: bare, a ";transport=tcp" would be a parameter of the To header
    // instead of the URI, and the request would go out over UDP.
    const std::string to = "<" + uri + ">";
    nua_handle_t* nh = nua_handle(nua_, nullptr, SIPTAG_TO_STR(to.c_str()),
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

  Result<void> hang_up(CallId id) {
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

  Result<void> reinvite_t38(CallId id, const T38Offer& offer) {
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

  Result<void> answer(CallId id, const MediaOffer& media) {
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

  Result<void> refuse(CallId id, int status, std::string_view warning) {
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

  Result<void> monitor(const std::vector<std::string>& targets) {
    keepalive_.set_targets(nua_, targets);
    return ok();
  }

  Result<void> register_account(const Registration& r) {
    if (!registration_.start(nua_, r)) {
      return Error(Code::k_sip_invalid_target, "Cannot register with this account.").with("registrar", r.registrar);
    }
    return ok();
  }

  std::vector<GatewayHealth> health() const { return keepalive_.health(); }

  Result<std::vector<std::string>> trace(CallId id) const {
    if (auto it = calls_.find(id); it != calls_.end()) return it->second.trace;
    for (const auto& [hid, lines] : history_) {
      if (hid == id) return lines;
    }
    return not_found(id);
  }

  const Settings& settings() const { return settings_; }

 private:
  // ---- the loop -----------------------------------------------------------------

  void run(std::promise<Result<void>>& ready) {
    queue_.bind_to_current_thread();
    // su_init() sets process-wide state; sofia counts nothing, so it runs once and
    // is never undone while other agents may still be running.
    static std::once_flag su_once;
    std::call_once(su_once, [] { su_init(); });
    root_ = su_root_create(this);
    if (root_ == nullptr) {
      ready.set_value(Error(Code::k_sip_start_failed, "Cannot create the SIP event loop."));
      return;
    }
    const std::string url = "sip:" + settings_.bind_address + ":" + std::to_string(settings_.port) +
                            (settings_.tcp ? "" : ";transport=udp");
    const auto t1x64 = static_cast<unsigned>(settings_.transaction_timeout.count());
    // TLS is a second listener (sofia binds "sips:" URLs with TLS) that only exists when
    // certificates were given; with none, sips: and ;transport=tls targets fail to connect.
    const bool tls = !settings_.tls_certificate_dir.empty();
    const std::string sips_url = tls ? "sips:" + settings_.bind_address + ":" +
                                           std::to_string(settings_.tls_port != 0 ? settings_.tls_port
                                                                                  : settings_.port + 1)
                                     : std::string();
    const unsigned verify = settings_.tls_verify_peer ? TPTLS_VERIFY_OUTGOING : TPTLS_VERIFY_NONE;
    nua_ = nua_create(root_, &Impl::nua_callback, this, NUTAG_URL(url.c_str()),
                      TAG_IF(tls, NUTAG_SIPS_URL(sips_url.c_str())),
                      TAG_IF(tls, TPTAG_CERTIFICATE(settings_.tls_certificate_dir.c_str())),
                      TAG_IF(tls, TPTAG_TLS_VERIFY_POLICY(verify)),
                      // A connection that closes under a pending request (a TLS peer whose
                      // certificate we refused, a TCP peer gone) fails that request at once,
                      // instead of when the transaction times out.
                      TPTAG_SDWN_ERROR(1),
                      NUTAG_USER_AGENT(settings_.user_agent.c_str()),
                      // No display name in Contact: some peers (SIPp's [next_url] among
                      // them) take it for part of the URI. The From carries it instead.
                      NUTAG_M_USERNAME(settings_.contact_user.c_str()), NUTAG_MEDIA_ENABLE(0),
                      NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0), NUTAG_AUTOACK(1),
                      NUTAG_ENABLEINVITE(1),
                      NUTAG_SESSION_TIMER(static_cast<unsigned>(settings_.session_timer.count())),
                      // Refresh with UPDATE (no body): a refresh can then never touch media.
                      NUTAG_UPDATE_REFRESH(1), NTATAG_SIP_T1X64(t1x64), TAG_END());
    if (nua_ == nullptr) {
      su_root_destroy(root_);
      root_ = nullptr;
      ready.set_value(Error(Code::k_sip_start_failed,
                            "Cannot bind the SIP agent: the address is not local or the port is in use.")
                          .with("url", url));
      return;
    }
    su_wait_t wait;
    su_wait_create(&wait, queue_.fd(), SU_WAIT_IN);
    wait_index_ = su_root_register(root_, &wait, &Impl::wakeup_callback, this, 0);
    log::info("sip.agent.started", {{"url", url}, {"tls", sips_url}});
    ready.set_value(ok());

    auto next_tick = Clock::now() + kTickInterval;
    while (!stopping_) {
      su_root_step(root_, 100);
      queue_.drain();
      if (Clock::now() >= next_tick) {
        tick();
        next_tick = Clock::now() + kTickInterval;
      }
    }
    queue_.drain();
    shut_down();
  }

  void shut_down() {
    keepalive_.stop();
    // No un-REGISTER: a registrar that is gone would hold the stop for a whole
    // transaction timeout. The binding lapses at the registrar on its own.
    registration_.stop();
    nua_shutdown(nua_);
    const auto deadline = Clock::now() + settings_.transaction_timeout + 2s;
    while (!shutdown_done_ && Clock::now() < deadline) su_root_step(root_, 50);
    if (shutdown_done_) {
      nua_destroy(nua_);
    } else {
      // nua_destroy() before the shutdown completed would free transactions the stack
      // still uses; leaking one stack at exit is the lesser harm.
      log::warn("sip.agent.shutdown_incomplete", {});
    }
    nua_ = nullptr;
    if (wait_index_ > 0) su_root_deregister(root_, wait_index_);
    su_root_destroy(root_);
    root_ = nullptr;
  }

  static int wakeup_callback(su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg) {
    static_cast<Impl*>(arg)->queue_.clear_wakeups();
    return 0;
  }

  static void nua_callback(nua_event_t event, int status, char const* phrase, nua_t*,
                           nua_magic_t* magic, nua_handle_t* nh, nua_hmagic_t*, sip_t const* sip,
                           tagi_t tags[]) {
    static_cast<Impl*>(magic)->on_event(event, status, phrase, nh, sip, tags);
  }

  void on_event(nua_event_t event, int status, const char* phrase, nua_handle_t* nh,
                const sip_t* sip, tagi_t tags[]) {
    switch (event) {
      case nua_i_invite: on_invite(nh, sip); break;
      case nua_r_invite: on_invite_response(status, phrase, nh, sip); break;
      case nua_i_state: on_state(nh, tags); break;
      case nua_i_bye:
        if (Call* c = find(nh)) {
          c->trace.push_back("<- BYE");
          if (!c->end_reason) c->end_reason = EndReason::kBye;
          c->end_by = Party::kRemote;
        }
        break;
      case nua_i_cancel:
        if (Call* c = find(nh)) {
          c->trace.push_back("<- CANCEL");
          if (!c->end_reason) c->end_reason = EndReason::kCancelled;
          c->end_by = Party::kRemote;
        }
        break;
      case nua_r_bye:
      case nua_r_cancel:
        if (Call* c = find(nh)) {
          c->trace.push_back("<- " + std::to_string(status) + " " + phrase_of(status, phrase) +
                             (event == nua_r_bye ? " (BYE)" : " (CANCEL)"));
        }
        break;
      case nua_r_options: keepalive_.on_response(status, nh); break;
      case nua_r_register: registration_.on_response(status, phrase, nh, sip); break;
      case nua_r_shutdown:
        if (status >= 200) shutdown_done_ = true;
        break;
      case nua_i_options:
      case nua_i_message:
      case nua_i_info:
      case nua_i_refer:
      case nua_i_subscribe:
      case nua_i_notify:
      case nua_i_publish:
        // Answered by the stack already; a handle it made for a request outside any of
        // our calls is ours to free.
        if (nh != nullptr && find(nh) == nullptr && !keepalive_.owns(nh)) nua_handle_destroy(nh);
        break;
      default:
        break;
    }
  }

  // ---- inbound ------------------------------------------------------------------

  void on_invite(nua_handle_t* nh, const sip_t* sip) {
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
    auto normalised = normalize_phone(in.request_user, settings_.dial_plan);
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
    if (handlers_.on_incoming && !stopping_) guarded("on_incoming", [&] { decision = handlers_.on_incoming(in); });
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

  static std::string url_as_string_c(const sip_t* sip) {
    const url_t* u = sip->sip_request->rq_url;
    if (u == nullptr) return {};
    std::string s = "sip:";
    if (u->url_user != nullptr) s += std::string(u->url_user) + "@";
    if (u->url_host != nullptr) s += u->url_host;
    if (u->url_port != nullptr) s += std::string(":") + u->url_port;
    return s;
  }

  void refuse_unusable(Call& c, const std::string& why) {
    log::warn("sip.call.refused_unusable", {{"call", static_cast<std::int64_t>(c.id)}, {"reason", why}});
    refuse_invite(c, 488, EndReason::kRefused, {}, "the offer is unusable");
  }

  // Our 200 to a ringing INVITE, with the answer to its offer.
  void accept_invite(Call& c, const MediaOffer& media) {
    set_local(c, media, &c.remote_sdp);
    respond(c, 200, &c.local_sdp);
    set_state(c, CallState::kAnswering, "our 200 sent");
  }

  // A final failure to a ringing INVITE: the session ends with it.
  void refuse_invite(Call& c, int status, EndReason reason, std::string_view warning, const char* why) {
    c.end_reason = reason;
    respond(c, status, nullptr, warning);
    set_state(c, CallState::kEnding, why);
  }

  void on_reinvite(Call& c, const sip_t* sip) {
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
      if (changed && handlers_.on_media_changed && !stopping_) {
        guarded("on_media_changed", [&] { handlers_.on_media_changed(MediaChanged{c.id, c.remote_sdp, c.media}); });
      }
      return;
    }
    std::optional<MediaOffer> answer;
    if (handlers_.on_reinvite && !stopping_) {
      guarded("on_reinvite", [&] {
        answer = handlers_.on_reinvite(ReinviteRequest{c.id, *offer, *offered, c.media});
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
    if (handlers_.on_media_changed && !stopping_) {
      guarded("on_media_changed", [&] { handlers_.on_media_changed(MediaChanged{cp->id, cp->remote_sdp, cp->media}); });
    }
  }

  // ---- outbound -----------------------------------------------------------------

  void on_invite_response(int status, const char* phrase, nua_handle_t* nh, const sip_t* sip) {
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
        if (handlers_.on_progress && !stopping_) guarded("on_progress", [&] { handlers_.on_progress(CallProgress{c->id, status}); });
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
      if (handlers_.on_answered && !stopping_) {
        guarded("on_answered", [&] { handlers_.on_answered(CallAnswered{c->id, c->remote_sdp, c->media}); });
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
  bool answer_challenge(Call& c, int status, const sip_t* sip) {
    if (c.state == CallState::kCancelling || !c.credentials) return false;
    if (!answer_digest(c.nh, status, sip, *c.credentials, c.auth_tries)) return false;
    c.trace.push_back("-> INVITE (with credentials)");
    log::info("sip.call.authenticating", {{"call", static_cast<std::int64_t>(c.id)}, {"status", status}});
    return true;
  }

  // A call we cancelled failed because of why we cancelled it, whatever the status.
  static FailureClass cancelled_class(const Call& c) {
    return c.cancel_cause == CancelCause::kUser ? FailureClass{Code::k_call_cancelled, false}
                                                : FailureClass{Code::k_call_no_answer, false};
  }

  void report_failure(Call& c, int status, const std::string& phrase, bool local,
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
    if (handlers_.on_failed && !stopping_) guarded("on_failed", [&] { handlers_.on_failed(e); });
  }

  void on_reinvite_response(Call& c, int status, const sip_t* sip) {
    if (c.state != CallState::kReinviting || status < 200) return;
    if (status < 300) {
      auto answer = parse_sdp(body_of(sip));
      auto media = usable_answer(answer, c.local_media);
      if (media) {
        c.remote_sdp = *answer;
        c.media = *media;
        set_state(c, CallState::kConfirmed, "our re-INVITE answered");
        if (handlers_.on_media_changed && !stopping_) {
          guarded("on_media_changed", [&] { handlers_.on_media_changed(MediaChanged{c.id, c.remote_sdp, c.media}); });
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
    if (handlers_.on_reinvite_refused && !stopping_) {
      guarded("on_reinvite_refused", [&] { handlers_.on_reinvite_refused(ReinviteRefused{c.id, status}); });
    }
  }

  // ---- session end ---------------------------------------------------------------

  void on_state(nua_handle_t* nh, tagi_t tags[]) {
    Call* c = find(nh);
    if (c == nullptr) return;
    int state = nua_callstate_init;
    tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
    if (state == nua_callstate_ready && c->state == CallState::kAnswering) {
      set_state(*c, CallState::kConfirmed, "the ACK came");
      if (handlers_.on_answered && !stopping_) {
        guarded("on_answered", [&] { handlers_.on_answered(CallAnswered{c->id, c->remote_sdp, c->media}); });
      }
    }
    if (state == nua_callstate_terminated) finish(*c, "the stack ended the session");
  }

  void finish(Call& c, const char* why) {
    const CallId id = c.id;
    set_state(c, CallState::kEnded, why);
    if (c.surfaced && handlers_.on_ended && !stopping_) {
      CallEnded e;
      e.call = id;
      e.was_answered = c.answered;
      e.reason = c.end_reason.value_or(EndReason::kBye);
      e.by = c.end_by;
      log::info("sip.call.ended", {{"call", static_cast<std::int64_t>(id)},
                                   {"reason", end_reason_name(e.reason)},
                                   {"by", e.by == Party::kLocal ? "local" : "remote"}});
      guarded("on_ended", [&] { handlers_.on_ended(e); });
    }
    Call* cp = find(id);  // the callback cannot remove it, but stay defensive
    if (cp == nullptr) return;
    history_.emplace_back(id, std::move(cp->trace));
    while (history_.size() > UserAgent::kTraceHistory) history_.pop_front();
    by_handle_.erase(cp->nh);
    nua_handle_destroy(cp->nh);
    calls_.erase(id);
  }

  void end_session(Call& c, EndReason reason, const char* why) {
    if (!c.end_reason) c.end_reason = reason;
    c.end_by = Party::kLocal;
    nua_bye(c.nh, TAG_END());
    c.trace.push_back("-> BYE");
    set_state(c, CallState::kEnding, why);
  }

  void cancel(Call& c, CancelCause cause, const char* why) {
    c.cancel_cause = cause;
    c.end_by = Party::kLocal;
    nua_cancel(c.nh, TAG_END());
    c.trace.push_back("-> CANCEL");
    set_state(c, CallState::kCancelling, why);
  }

  void respond(Call& c, int status, const std::string* sdp, std::string_view warning = {}) {
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
  void send_invite(Call& c, std::string trace_line) {
    nua_invite(c.nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(c.local_sdp.c_str()),
               TAG_END());
    c.trace.push_back(std::move(trace_line));
  }

  // ---- watchdogs and keep-alive --------------------------------------------------

  void tick() {
    const auto now = Clock::now();
    std::vector<CallId> ids;
    for (auto& [id, c] : calls_) ids.push_back(id);
    for (CallId id : ids) {
      Call* c = find(id);
      if (c == nullptr) continue;
      const auto age = now - c->started;
      if (is_ending(c->state)) {
        if (now - c->ending_since > 2 * settings_.transaction_timeout + kEndingGrace) {
          // The stack never reported the end (a lost final response): drop it anyway.
          log::warn("sip.call.forced_end", {{"call", static_cast<std::int64_t>(id)}});
          finish(*c, "the stack never ended the session: dropped");
        }
        continue;
      }
      const bool overdue = age > settings_.max_call_duration;
      const bool unanswered = !is_answered(c->state);
      if (overdue || (unanswered && age > settings_.no_answer_timeout)) {
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
    keepalive_.tick();
    registration_.tick();
  }

  // ---- bookkeeping ---------------------------------------------------------------

  // User callbacks run inside sofia's C stack frames, where an escaping exception is
  // undefined behaviour. It is logged and swallowed here; the agent goes on as if the
  // callback had returned nothing (an inbound call is then refused with 480, a
  // re-INVITE with 488).
  template <class F>
  void guarded(std::string_view which, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      log::error("sip.callback.threw", {{"callback", which}, {"what", e.what()}});
    } catch (...) {
      log::error("sip.callback.threw", {{"callback", which}});
    }
  }

  Call& add_call(CallId id, nua_handle_t* nh, bool outbound) {
    Call& c = calls_[id];
    c.id = id;
    c.nh = nh;
    c.outbound = outbound;
    c.surfaced = outbound;
    c.started = Clock::now();
    c.session_id = session_base_ + id;
    by_handle_[nh] = id;
    return c;
  }

  // `answering`: the offer this description answers (its m= lines are mirrored).
  void set_local(Call& c, const MediaOffer& m, const SessionDescription* answering = nullptr) {
    // RFC 3264 section 8: each new description of ours carries a higher version.
    if (!c.local_sdp.empty()) ++c.sdp_version;
    c.local_media = m;
    c.local_sdp = answering != nullptr
                      ? build_answer_sdp(m, *answering, settings_.media_address, c.session_id, c.sdp_version,
                                         settings_.contact_user)
                      : build_sdp(m, settings_.media_address, c.session_id, c.sdp_version, settings_.contact_user);
  }

  Call* find(CallId id) {
    auto it = calls_.find(id);
    return it == calls_.end() ? nullptr : &it->second;
  }
  Call* find(nua_handle_t* nh) {
    auto it = by_handle_.find(nh);
    return it == by_handle_.end() ? nullptr : find(it->second);
  }

  static Error not_found(CallId id) {
    return Error(Code::k_sip_call_not_found, "No such call in progress.").with("call", std::to_string(id));
  }

  Settings settings_;
  Handlers handlers_;
  std::uint64_t session_base_ = 1;

  std::thread thread_;
  std::atomic<bool> stopping_{false};
  detail::LoopQueue queue_;

  // Loop-thread state from here on.
  su_root_t* root_ = nullptr;
  int wait_index_ = -1;
  nua_t* nua_ = nullptr;
  bool shutdown_done_ = false;
  CallId next_id_ = 1;
  std::map<CallId, Call> calls_;
  std::unordered_map<nua_handle_t*, CallId> by_handle_;
  std::deque<std::pair<CallId, std::vector<std::string>>> history_;
  // Last: their reports go through guarded() and handlers_.
  detail::OptionsMonitor keepalive_{settings_.options_interval, [this](const GatewayHealth& h) {
    if (handlers_.on_health && !stopping_) guarded("on_health", [&] { handlers_.on_health(h); });
  }};
  detail::RegistrationClient registration_{[this](const RegistrationState& st) {
    if (handlers_.on_registration && !stopping_) guarded("on_registration", [&] { handlers_.on_registration(st); });
  }};
};

// ---- the public face -------------------------------------------------------------

UserAgent::UserAgent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UserAgent::~UserAgent() = default;

Result<std::unique_ptr<UserAgent>> UserAgent::start(Settings settings, Handlers handlers) {
  if (settings.port <= 0 || settings.port > 65535 || settings.bind_address.empty()) {
    return Error(Code::k_sip_start_failed, "The SIP agent needs a bind address and a port 1-65535.")
        .with("port", std::to_string(settings.port));
  }
  if (!settings.tls_certificate_dir.empty()) {
    const std::filesystem::path dir(settings.tls_certificate_dir);
    std::error_code ec;
    for (const char* file : {"agent.pem", "cafile.pem"}) {
      if (!std::filesystem::is_regular_file(dir / file, ec)) {
        return Error(Code::k_sip_start_failed,
                     "SIP over TLS needs agent.pem (certificate and key) and cafile.pem in the certificate "
                     "directory.")
            .with("missing", (dir / file).string());
      }
    }
  }
  auto impl = std::make_unique<Impl>(std::move(settings), std::move(handlers));
  if (auto r = impl->start(); !r) return std::move(r).error();
  return std::unique_ptr<UserAgent>(new UserAgent(std::move(impl)));
}

Result<CallId> UserAgent::place_call(const CallRequest& request) {
  if (!request.offer.t38 && !request.offer.audio) {
    return Error(Code::k_sip_invalid_target, "The call request offers neither T.38 nor audio.");
  }
  auto uri = detail::target_uri(request);
  if (!uri) return std::move(uri).error();
  return impl_->call_on_loop<CallId>([&] { return impl_->place_call(*uri, request); });
}

Result<void> UserAgent::hang_up(CallId call) {
  return impl_->call_on_loop<void>([&] { return impl_->hang_up(call); });
}

Result<void> UserAgent::reinvite_t38(CallId call, const T38Offer& offer) {
  return impl_->call_on_loop<void>([&] { return impl_->reinvite_t38(call, offer); });
}

Result<void> UserAgent::answer(CallId call, const MediaOffer& media) {
  return impl_->call_on_loop<void>([&] { return impl_->answer(call, media); });
}

Result<void> UserAgent::refuse(CallId call, int status, std::string_view warning) {
  return impl_->call_on_loop<void>([&] { return impl_->refuse(call, status, warning); });
}

Result<void> UserAgent::register_account(const Registration& registration) {
  if (!detail::valid_host_port(registration.registrar) || registration.user.empty() ||
      !safe_header_text(registration.user) || registration.user.find_first_of(" @:;") != std::string::npos) {
    return Error(Code::k_sip_invalid_target, "A registration needs a registrar host[:port] and a plain user name.")
        .with("registrar", registration.registrar);
  }
  return impl_->call_on_loop<void>([&] { return impl_->register_account(registration); });
}

Result<void> UserAgent::monitor(const std::vector<std::string>& targets) {
  for (const auto& t : targets) {
    if (auto uri = detail::monitor_uri(t); !uri) return std::move(uri).error();
  }
  return impl_->call_on_loop<void>([&] { return impl_->monitor(targets); });
}

std::vector<GatewayHealth> UserAgent::health() const {
  auto r = impl_->on_loop([&] { return impl_->health(); });
  return r ? std::move(*r) : std::vector<GatewayHealth>{};
}

Result<std::vector<std::string>> UserAgent::trace(CallId call) const {
  return impl_->call_on_loop<std::vector<std::string>>([&] { return impl_->trace(call); });
}

const Settings& UserAgent::settings() const { return impl_->settings(); }

}  // namespace faxbridge::sip
