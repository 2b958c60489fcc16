// DESIGN: one call's media, and its move from G.711 to T.38.
//
// A call starts on the media it was answered with. An audio call can move to T.38 once:
//  - by our re-INVITE, sent when the plan says so and a fax tone is heard (the caller hears
//    CED / the V.21 preamble of the answering machine, the answerer hears CNG); a 491 (both
//    sides re-INVITEd at once) is retried after the RFC 3261 section 14.1 timers, at most
//    kMaxT38Reinvites times; a refusal (488, 606, ... or a 200 without T.38) leaves the
//    call on G.711 and is reported so the gateway can remember the number;
//  - by the far end's re-INVITE, answered on the SIP thread from ReinviteAnswers.
// Either way the switch happens when the agent reports the new media: the audio channel
// stops quietly (FaxResult::media_switched, no hang-up) and a T.38 channel starts on the
// port reserved for it, where T.30 starts afresh. Until then the audio fax goes on, so a
// refused switch costs nothing.
#include "call_media.hpp"

#include <random>

#include "faxbridge/core/log.hpp"
#include "faxbridge/fax/link.hpp"
#include "faxbridge/fax/t38_params.hpp"
#include "faxbridge/gateway/media_policy.hpp"
#include "faxbridge/sip/t38_negotiation.hpp"

namespace faxbridge::gateway {

std::optional<fax::MediaKind> fax_media_kind(sip::MediaKind kind) {
  switch (kind) {
    case sip::MediaKind::kT38: return fax::MediaKind::kT38;
    case sip::MediaKind::kPcma: return fax::MediaKind::kAlaw;
    case sip::MediaKind::kPcmu: return fax::MediaKind::kUlaw;
    case sip::MediaKind::kOther: break;
  }
  return std::nullopt;
}

std::string_view media_column(fax::MediaKind kind) {
  switch (kind) {
    case fax::MediaKind::kT38: return "t38";
    case fax::MediaKind::kAlaw: return "g711a";
    case fax::MediaKind::kUlaw: return "g711u";
  }
  return "t38";
}

sip::T38Capabilities t38_engine() {
  // What libs/fax's T.38 engine does: spandsp 0.0.6 writes the IFP syntax of T.38
  // versions 0-3, but version 3 is the revision that brings V.34, which its terminal
  // lacks, so we claim 2 and V.17's 14,400 bit/s at most. UDPTL sends and repairs with
  // redundancy or parity FEC. We receive datagrams of up to 1400 bytes (the UDP link's
  // buffer is 2048; 1400 keeps a datagram inside one Ethernet frame, so the far end never
  // adds redundancy up to IP fragmentation), and the terminal decodes each IFP packet as
  // it arrives, so nothing waits in a buffer larger than that link buffer (2048).
  // Fill-bit removal and MMR/JBIG transcoding are never claimed: the engine has neither.
  sip::T38Capabilities engine;
  engine.max_version = 2;
  engine.max_bit_rate = 14400;
  engine.max_datagram = 1400;
  engine.max_buffer = 2048;
  engine.redundancy = true;
  engine.fec = true;
  return engine;
}

sip::T38Offer t38_stream(int port, sip::T38Role role, const std::vector<std::string>& remote_attributes) {
  sip::T38Offer t38;
  t38.port = port;
  t38.attributes = sip::negotiate_t38(t38_engine(), role, remote_attributes).local.attributes();
  return t38;
}

sip::AudioOffer audio_stream(int port, int redundancy, int red_payload_type) {
  sip::AudioOffer audio;
  audio.port = port;
  audio.telephone_event = false;
  audio.redundancy = redundancy;
  audio.red_payload_type = red_payload_type;
  return audio;
}

void ReinviteAnswers::allow(sip::CallId call, int t38_port) {
  std::lock_guard lock(mutex_);
  t38_ports_[call] = t38_port;
}

void ReinviteAnswers::forget(sip::CallId call) {
  std::lock_guard lock(mutex_);
  t38_ports_.erase(call);
}

std::optional<sip::MediaOffer> ReinviteAnswers::answer(const sip::ReinviteRequest& request) const {
  if (request.offered.kind != sip::MediaKind::kT38) return std::nullopt;
  int port = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = t38_ports_.find(request.call);
    if (it == t38_ports_.end()) return std::nullopt;
    port = it->second;
  }
  sip::MediaOffer answer;
  answer.t38 = t38_stream(port, sip::T38Role::kAnswer, request.offered.t38_attributes);
  answer.address = address_;
  return answer;
}

Result<std::shared_ptr<fax::FaxChannel>> CallMedia::open(fax::MediaKind kind, int local_port,
                                                         const sip::NegotiatedMedia& remote, sip::T38Role role) {
  auto link = fax::open_udp_link(options_.local_address, local_port, remote.address, remote.port);
  if (!link) return std::move(link).error();
  remote_address_ = remote.address;
  remote_port_ = remote.port;
  fax::ChannelOptions o;
  o.media = kind;
  o.session = options_.session;
  if (kind == fax::MediaKind::kT38) {
    const auto agreed = sip::negotiate_t38(t38_engine(), role, remote.t38_attributes).session;
    for (const auto& attr : agreed.attributes()) (void)o.t38.apply_attribute(attr);
  } else {
    o.on_tone = [cb = options_.on_tone](int tone, std::int64_t) {
      if (cb) cb(tone);
    };
    // RFC 3264: we send with the payload type the far end named in its description.
    if (options_.audio_redundancy > 0 && remote.red_payload_type >= 0) {
      o.audio_redundancy = options_.audio_redundancy;
      o.red_payload_type = static_cast<std::uint8_t>(remote.red_payload_type);
      o.red_receive_payload_type = options_.red_receive_payload_type;
    }
  }
  return fax::FaxChannel::create(std::move(o), std::move(*link));
}

Result<void> CallMedia::start(const sip::NegotiatedMedia& remote, fax::ChannelRuntime& runtime) {
  auto kind = fax_media_kind(remote.kind);
  if (!kind) return Error(Code::k_call_media_refused, "The call was answered without T.38 or G.711.");
  // The call's first description: we offered it when we placed the call.
  auto ch = open(*kind, options_.port, remote, options_.owns_call_id ? sip::T38Role::kAnswered : sip::T38Role::kAnswer);
  if (!ch) return std::move(ch).error();
  if (auto r = runtime.add({*ch}); !r) return r;
  channel_ = std::move(*ch);
  kind_ = kind;
  redundant_ = channel_->options().audio_redundancy > 0;
  return ok();
}

void CallMedia::send_reinvite(sip::UserAgent& agent, sip::CallId call) {
  ++reinvites_sent_;
  auto r = agent.reinvite_t38(call, t38_stream(options_.t38_port, sip::T38Role::kOffer));
  if (!r) {
    // Usually the far end's own re-INVITE is in progress; its outcome decides, and if it
    // was not a switch to T.38 the retry below tries again.
    log::write_error(log::Level::kInfo, "gateway.reinvite_not_sent", r.error(),
                     {{"call", options_.session.call_id}});
    if (reinvites_sent_ < kMaxT38Reinvites) retry_at_ = MediaClock::now() + std::chrono::seconds(1);
    return;
  }
  reinvite_pending_ = true;
  log::info("gateway.reinvite_t38", {{"call", options_.session.call_id}, {"try", reinvites_sent_}});
}

void CallMedia::on_tone(sip::UserAgent& agent, sip::CallId call) {
  if (!options_.reinvite_on_tone || options_.t38_port == 0 || kind_ == fax::MediaKind::kT38 || switched_ ||
      reinvite_pending_ || retry_at_ || t38_refused_ || reinvites_sent_ >= kMaxT38Reinvites || !channel_ ||
      channel_->finished()) {
    return;
  }
  send_reinvite(agent, call);
}

Result<CallMedia::Outcome> CallMedia::on_media_changed(const sip::NegotiatedMedia& remote,
                                                       fax::ChannelRuntime& runtime) {
  const bool ours = reinvite_pending_;
  reinvite_pending_ = false;
  const bool remote_t38 = remote.kind == sip::MediaKind::kT38;
  if (!ours && channel_ && kind_ && (*kind_ == fax::MediaKind::kT38) == remote_t38) {
    // The same kind of media at a new place (the far end's re-INVITE, e.g. its media
    // moved to another host): our stream follows, the fax goes on.
    if (remote.address != remote_address_ || remote.port != remote_port_) {
      channel_->request_redirect(remote.address, remote.port);
      log::info("gateway.media_moved", {{"call", options_.session.call_id},
                                        {"address", remote.address},
                                        {"port", remote.port}});
      remote_address_ = remote.address;
      remote_port_ = remote.port;
    }
    return Outcome::kNone;
  }
  if (!remote_t38) {
    // Our T.38 offer answered with audio: as good as a refusal.
    if (!ours) return Outcome::kNone;
    t38_refused_ = true;
    return Outcome::kT38Refused;
  }
  if (kind_ == fax::MediaKind::kT38 || options_.t38_port == 0) return Outcome::kNone;
  retry_at_.reset();
  // The fax may have ended on audio while the re-INVITE was on the wire: nothing to move.
  if (!channel_ || channel_->finished()) return Outcome::kNone;
  auto ch = open(fax::MediaKind::kT38, options_.t38_port, remote, ours ? sip::T38Role::kAnswered : sip::T38Role::kAnswer);
  if (!ch) return std::move(ch).error();
  if (auto r = runtime.add({*ch}); !r) return r.error();
  channel_->request_media_switch();
  channel_ = std::move(*ch);
  kind_ = fax::MediaKind::kT38;
  switched_ = true;
  log::info("gateway.media_switched", {{"call", options_.session.call_id},
                                       {"by", ours ? "our re-INVITE" : "the far end's re-INVITE"}});
  return Outcome::kSwitched;
}

CallMedia::Outcome CallMedia::on_reinvite_refused(int sip_status, MediaClock::time_point now) {
  reinvite_pending_ = false;
  log::info("gateway.reinvite_refused", {{"call", options_.session.call_id}, {"status", sip_status}});
  switch (classify_reinvite_refusal(sip_status)) {
    case ReinviteRefusal::kGlare:
      if (reinvites_sent_ < kMaxT38Reinvites && !switched_) {
        thread_local std::mt19937 random{std::random_device{}()};
        retry_at_ = now + glare_retry_delay(options_.owns_call_id, static_cast<std::uint32_t>(random()));
      }
      return Outcome::kNone;
    case ReinviteRefusal::kT38Refused:
      t38_refused_ = true;
      return Outcome::kT38Refused;
    case ReinviteRefusal::kDialogGone:
      return Outcome::kHangUp;
    case ReinviteRefusal::kKeepMedia:
      break;
  }
  return Outcome::kNone;
}

void CallMedia::poll(MediaClock::time_point now, sip::UserAgent& agent, sip::CallId call) {
  if (!retry_at_ || now < *retry_at_) return;
  retry_at_.reset();
  if (switched_ || kind_ == fax::MediaKind::kT38 || !channel_ || channel_->finished()) return;
  send_reinvite(agent, call);
}

}  // namespace faxbridge::gateway
