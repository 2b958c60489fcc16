#pragma once
// SIP call control for fax calls (the media gateway's signalling half), over sofia-sip.
// The agent places and answers INVITE sessions, negotiates SDP, switches calls to T.38
// with re-INVITEs, pings gateways with OPTIONS and reports everything through
// callbacks. It never touches media: the negotiated address, port and kind are handed
// to the user, who runs T.38 or G.711 elsewhere.
//
// Threading: the agent runs its own event loop thread. Every callback runs on that
// thread, one at a time; callbacks must not block, but they may call the agent back
// (hang_up, answer, ...). The public functions are safe from any thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/phone.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/sip/sdp.hpp"
#include "faxbridge/sip/status.hpp"

namespace faxbridge::sip {

using CallId = std::uint64_t;

struct Settings {
  std::string bind_address = "127.0.0.1";
  int port = 5060;
  bool tcp = false;  // also listen on TCP (same port); UDP is always on
  // TLS (sips:, or ";transport=tls" targets): a directory holding agent.pem (our
  // certificate and private key) and cafile.pem (the CAs we trust); empty: no TLS.
  std::string tls_certificate_dir;
  int tls_port = 0;  // the TLS listening port; 0: port + 1
  // Check the far end's certificate against cafile.pem on calls we place (a PBX rarely
  // presents a client certificate, so incoming connections are never asked for one).
  bool tls_verify_peer = true;
  // The address written in our SDP c= lines; empty: bind_address.
  std::string media_address;
  std::string contact_user = "faxbridge";
  std::string display_name = "Faxbridge";
  std::string user_agent = "Faxbridge";
  // How called numbers of inbound calls are normalised (IncomingCall::called_number).
  DialPlan dial_plan;
  // RFC 4028 session timer; 0 disables it. Refreshes never change the media.
  std::chrono::seconds session_timer{0};
  // SIP timer B/F (64*T1, RFC 3261 section 17.1.1.2): how long a request may go
  // unanswered before the address counts as unreachable.
  std::chrono::milliseconds transaction_timeout{32000};
  // Outbound: ringing without an answer this long is cancelled (call.no_answer).
  // Inbound: a call left ringing this long is refused with 480.
  std::chrono::milliseconds no_answer_timeout{60000};
  // Watchdog: any call older than this is hung up, so no call stays stuck. Three hours
  // is a 300-page fax at the slowest rate with room to spare.
  std::chrono::milliseconds max_call_duration{std::chrono::hours(3)};
  // OPTIONS keep-alive period for monitored gateways.
  std::chrono::milliseconds options_interval{std::chrono::seconds(30)};
};

// Digest credentials (RFC 2617/8760) for a trunk that challenges our INVITEs.
struct Credentials {
  std::string user;  // digest user name
  std::string password;
};

struct CallRequest {
  // Either a full URI ("sip:+390297865403@pbx.example:5060") or
  // "host[:port][;transport=udp|tcp|tls]", with `number` then becoming the user part.
  std::string target;
  std::string number;
  std::string caller_number;   // From user; empty: the contact user
  std::string caller_display;  // From display name; empty: the settings' display name
  MediaOffer offer;
  // A 401/407 to the INVITE is answered once with these (nua_authenticate); a second
  // challenge, or none given, fails the call as call.not_authorised.
  std::optional<Credentials> credentials;
};

enum class Party { kLocal, kRemote };

enum class EndReason {
  kBye,        // hung up with BYE (see `by`)
  kCancelled,  // ended before the answer by a CANCEL (see `by`)
  kFailed,     // an outbound call that was never answered (the failure event came first)
  kRefused,    // an inbound call we refused
  kWatchdog,   // hung up by the max-call-duration or no-answer watchdog
  kShutdown,   // never delivered to callbacks: the agent was stopping
};
std::string_view end_reason_name(EndReason reason);

struct CallProgress {
  CallId call = 0;
  int status = 0;  // 180 or 183
};

struct CallAnswered {
  CallId call = 0;
  SessionDescription remote_sdp;
  NegotiatedMedia media;
};

struct CallFailed {
  CallId call = 0;
  int sip_status = 0;       // the final status (a made-up 408/503 when `local`)
  std::string reason;       // its phrase
  bool local = false;       // no response came from the network
  FailureClass failure;     // what the router should do about it
  Error error;              // the same as an Error, with status and target in its context
  std::vector<std::string> trace;  // the call's SIP messages, first lines, and state changes, in order
};

struct CallEnded {
  CallId call = 0;
  EndReason reason = EndReason::kBye;
  Party by = Party::kLocal;
  bool was_answered = false;
};

// The media of an answered call changed (a re-INVITE either way succeeded).
struct MediaChanged {
  CallId call = 0;
  SessionDescription remote_sdp;
  NegotiatedMedia media;
};

// Our re-INVITE was refused; the call goes on with its previous media.
struct ReinviteRefused {
  CallId call = 0;
  int sip_status = 0;
};

struct IncomingCall {
  CallId call = 0;
  std::string request_user;   // Request-URI user as received
  std::string called_number;  // normalised (normalize_phone); the raw user when that fails
  std::string caller_id;      // From user
  std::string caller_display; // From display name
  std::string source;         // the far end's address ("host:port")
  std::string transport;      // what the INVITE came over: "UDP", "TCP" or "TLS"
  SessionDescription offer;
  NegotiatedMedia offered;    // the stream we would use (T.38 first)
};

// What to do with an incoming INVITE.
struct InboundDecision {
  enum class Action { kAnswer, kRefuse, kRing };
  Action action = Action::kRefuse;
  int status = 480;
  MediaOffer answer;

  static InboundDecision answer_with(MediaOffer m) {
    return {Action::kAnswer, 200, std::move(m)};
  }
  static InboundDecision refuse(int status) { return {Action::kRefuse, status, {}}; }
  // Sends 180 Ringing; answer() or refuse() later (the no-answer timeout applies).
  static InboundDecision ring() { return {Action::kRing, 180, {}}; }
};

// The far end asks to change the media kind of an answered call (usually to T.38).
struct ReinviteRequest {
  CallId call = 0;
  SessionDescription offer;
  NegotiatedMedia offered;
  NegotiatedMedia current;
};

struct GatewayHealth {
  std::string target;   // as given to monitor()
  bool up = false;
  int last_status = 0;  // 0: nothing sent yet
  std::int64_t round_trip_ms = -1;
  std::chrono::system_clock::time_point checked_at{};
};

// A trunk account the agent registers with (RFC 3261 section 10), answering a 401/407
// challenge with digest authentication. The stack refreshes the binding before it
// expires. A failed attempt (no answer, a 5xx, credentials refused, a refresh that
// failed) is retried by the agent with the backoff of RFC 5626 section 4.5: after the
// n-th failure in a row it waits a random 50-100 % of min(retry_max, retry_base * 2^n).
struct Registration {
  std::string registrar;  // "host[:port]"
  std::string user;       // the address-of-record user part
  std::string auth_user;  // digest user name; empty: `user`
  std::string password;
  std::chrono::seconds expires{3600};
  // RFC 5626's base time when every flow failed, and its upper bound.
  std::chrono::milliseconds retry_base{std::chrono::seconds(30)};
  std::chrono::milliseconds retry_max{std::chrono::seconds(1800)};
};

// The wait before the next attempt after `failures` (>= 1) failures in a row, for a
// random factor in [0, 1] (0 gives 50 % of the bound, 1 gives all of it).
std::chrono::milliseconds registration_retry_delay(const Registration& registration, int failures,
                                                   double random_factor);

// Reported on every change: each success (refreshes included) and each failure.
struct RegistrationState {
  std::string registrar;
  bool registered = false;
  int last_status = 0;  // 200 registered; 401/407 the credentials were refused; 408/503 unreachable
  std::string reason;
  int failures = 0;     // failed attempts in a row; 0 once registered
  // When the agent tries again after a failure; empty while registered.
  std::optional<std::chrono::system_clock::time_point> next_retry;
  std::chrono::system_clock::time_point at{};  // when this result came
};

struct Handlers {
  std::function<void(const CallProgress&)> on_progress;
  std::function<void(const CallAnswered&)> on_answered;
  std::function<void(const CallFailed&)> on_failed;
  std::function<void(const CallEnded&)> on_ended;
  std::function<void(const MediaChanged&)> on_media_changed;
  std::function<void(const ReinviteRefused&)> on_reinvite_refused;
  // Unset: every INVITE is refused with 480.
  std::function<InboundDecision(const IncomingCall&)> on_incoming;
  // Our answer, or nullopt to refuse with 488 (the call goes on). Unset: 488.
  std::function<std::optional<MediaOffer>(const ReinviteRequest&)> on_reinvite;
  std::function<void(const GatewayHealth&)> on_health;
  std::function<void(const RegistrationState&)> on_registration;
};

class UserAgent {
 public:
  // Binds and starts the loop thread; sip.start_failed when the address is not usable.
  static Result<std::unique_ptr<UserAgent>> start(Settings settings, Handlers handlers);
  // Stops: active calls are hung up (no callbacks any more), then the loop ends.
  ~UserAgent();
  UserAgent(const UserAgent&) = delete;
  UserAgent& operator=(const UserAgent&) = delete;

  Result<CallId> place_call(const CallRequest& request);
  // CANCEL before the answer, BYE after it; an inbound call still ringing is refused
  // with 480.
  Result<void> hang_up(CallId call);
  // Offers T.38 alone on an answered call; on_media_changed or on_reinvite_refused follow.
  Result<void> reinvite_t38(CallId call, const T38Offer& offer);
  // For an inbound call that was left ringing.
  Result<void> answer(CallId call, const MediaOffer& media);
  // `warning`, when given, goes out as a Warning header (RFC 3261 section 20.43: code 305
  // "incompatible media" for 488/606, 399 otherwise) so the far end's logs say why.
  Result<void> refuse(CallId call, int status, std::string_view warning = {});

  // OPTIONS keep-alive to these "host[:port]" targets every options_interval (the
  // first round at once); replaces the previous list. Targets already monitored keep
  // their health and their ping in flight.
  Result<void> monitor(const std::vector<std::string>& targets);
  std::vector<GatewayHealth> health() const;

  // Registers with the account (replacing any earlier one); on_registration reports each
  // result, refreshes included.
  Result<void> register_account(const Registration& registration);

  // The first lines of every SIP message of a call and its state changes
  // ("state: calling -> early (180 or 183 received)"), for diagnosis; kept for the last
  // kTraceHistory calls after they end.
  Result<std::vector<std::string>> trace(CallId call) const;
  static constexpr std::size_t kTraceHistory = 256;

  const Settings& settings() const;

  class Impl;

 private:
  explicit UserAgent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace faxbridge::sip
