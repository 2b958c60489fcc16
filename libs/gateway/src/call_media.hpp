#pragma once
// One call's media in the gateway: the fax channel running now (G.711 over RTP or T.38
// over UDPTL), and the move of an audio call to T.38 (T.38 clause 7.2 via SIP re-INVITE).
// Private to libs/gateway. The plan it follows comes from media_policy.hpp.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/result.hpp"
#include "faxbridge/fax/channel.hpp"
#include "faxbridge/fax/runtime.hpp"
#include "faxbridge/sip/t38_negotiation.hpp"
#include "faxbridge/sip/user_agent.hpp"

namespace faxbridge::gateway {

using MediaClock = std::chrono::steady_clock;

// T.38 -> kT38, PCMA -> kAlaw, PCMU -> kUlaw; nullopt for anything else.
std::optional<fax::MediaKind> fax_media_kind(sip::MediaKind kind);
// The attempts.media / received_faxes.media value: t38, g711a, g711u.
std::string_view media_column(fax::MediaKind kind);

// What libs/fax's T.38 engine can do, as SDP negotiation needs it.
sip::T38Capabilities t38_engine();
// Our T.38 stream on `port`: our offer (kOffer), or our answer to the far end's offer
// (kAnswer, with its attributes), negotiated per T.38 Annex D (sip::negotiate_t38).
sip::T38Offer t38_stream(int port, sip::T38Role role = sip::T38Role::kOffer,
                         const std::vector<std::string>& remote_attributes = {});
// Our G.711 stream on `port`: A-law and u-law (A-law first), no telephone-event, which
// a fax channel has no use for; RFC 2198 redundancy listed when `redundancy` > 0, under
// `red_payload_type` (an answer must use the offerer's number).
sip::AudioOffer audio_stream(int port, int redundancy = 0, int red_payload_type = 99);

// Which calls may be switched to T.38 by the far end's re-INVITE, and on which local
// port. Written by the control thread when a call starts on audio, read by the SIP loop
// thread, which must answer a re-INVITE at once (it cannot wait for the control thread).
class ReinviteAnswers {
 public:
  explicit ReinviteAnswers(std::string media_address) : address_(std::move(media_address)) {}
  void allow(sip::CallId call, int t38_port);
  void forget(sip::CallId call);
  // Our T.38 answer when the far end offers T.38 on a call that allows it; nullopt: 488.
  std::optional<sip::MediaOffer> answer(const sip::ReinviteRequest& request) const;

 private:
  const std::string address_;
  mutable std::mutex mutex_;
  std::map<sip::CallId, int> t38_ports_;
};

class CallMedia {
 public:
  struct Options {
    std::string local_address;
    int port = 0;      // local port of the first media
    int t38_port = 0;  // audio calls: the local port T.38 moves to; 0 for T.38 calls
    fax::SessionOptions session;
    bool reinvite_on_tone = false;  // our re-INVITE to T.38 when a fax tone is heard
    bool owns_call_id = false;      // we placed the call (RFC 3261 14.1 glare timers)
    // G.711: earlier frames repeated per packet (RFC 2198) when the far end's SDP has RED
    // for our codec (NegotiatedMedia::red_payload_type); only set when we offered or
    // answer RED. 0: plain G.711.
    int audio_redundancy = 0;
    // The RED payload type our own SDP named (what the far end sends RED with).
    int red_receive_payload_type = 99;
    // Worker thread, the first time each fax tone is heard on audio; must only post.
    std::function<void(int tone)> on_tone;
  };

  // What the gateway must do after a negotiation event.
  enum class Outcome {
    kNone,
    kSwitched,            // the call now runs T.38
    kT38Refused,          // the far end will not do T.38: the call stays on G.711
    kHangUp,              // the dialog is gone (408/481 to our re-INVITE)
  };

  explicit CallMedia(Options options) : options_(std::move(options)) {}

  // Starts the channel for the media the call was answered with.
  Result<void> start(const sip::NegotiatedMedia& remote, fax::ChannelRuntime& runtime);
  // A fax tone was heard on the audio: our re-INVITE to T.38 when the plan says so.
  void on_tone(sip::UserAgent& agent, sip::CallId call);
  // The SIP agent reports new media: our re-INVITE answered, the far end's accepted (a
  // switch to T.38), or the far end's stream moved to a new address (followed).
  Result<Outcome> on_media_changed(const sip::NegotiatedMedia& remote, fax::ChannelRuntime& runtime);
  // Our re-INVITE was refused.
  Outcome on_reinvite_refused(int sip_status, MediaClock::time_point now);
  // A glare retry whose time has come.
  void poll(MediaClock::time_point now, sip::UserAgent& agent, sip::CallId call);

  const std::shared_ptr<fax::FaxChannel>& channel() const { return channel_; }
  std::optional<fax::MediaKind> kind() const { return kind_; }
  bool switched() const { return switched_; }
  // The first channel sends RFC 2198 redundancy (the far end agreed to RED).
  bool redundant() const { return redundant_; }
  int reinvites_sent() const { return reinvites_sent_; }

 private:
  // `role`: how the far end's T.38 attributes came (its offer: kAnswer; its answer to
  // ours: kAnswered); the engine runs with the negotiated terms, not the raw lines.
  Result<std::shared_ptr<fax::FaxChannel>> open(fax::MediaKind kind, int local_port,
                                                const sip::NegotiatedMedia& remote, sip::T38Role role);
  void send_reinvite(sip::UserAgent& agent, sip::CallId call);

  Options options_;
  std::shared_ptr<fax::FaxChannel> channel_;
  std::optional<fax::MediaKind> kind_;
  std::string remote_address_;  // where the current channel sends
  int remote_port_ = 0;
  bool switched_ = false;
  bool redundant_ = false;
  bool reinvite_pending_ = false;
  bool t38_refused_ = false;
  int reinvites_sent_ = 0;
  std::optional<MediaClock::time_point> retry_at_;
};

}  // namespace faxbridge::gateway
