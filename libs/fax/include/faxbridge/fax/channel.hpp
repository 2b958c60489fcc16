#pragma once
// A channel is one end of a fax call on the wire: a FaxSession plus its media framing
// (UDPTL for T.38, RTP with G.711 A-law or u-law for audio) over a DatagramLink. The channel
// runtime (runtime.hpp) owns the threading: it calls on_readable() when the link has data
// and on_tick() every 20 ms, always from the same worker thread. The read-only accessors
// (finished, progress, result after finish, tones_seen) and request_hangup() are safe from
// any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string_view>

#include "faxbridge/core/result.hpp"
#include "faxbridge/fax/link.hpp"
#include "faxbridge/fax/session.hpp"
#include "faxbridge/fax/t38_params.hpp"
#include "faxbridge/fax/udptl.hpp"

namespace faxbridge::fax {

enum class MediaKind { kT38, kAlaw, kUlaw };
std::string_view media_name(MediaKind m);
// Prints the media name (GoogleTest and logs).
inline std::ostream& operator<<(std::ostream& os, MediaKind m) { return os << media_name(m); }

struct ChannelOptions {
  SessionOptions session;
  MediaKind media = MediaKind::kT38;
  T38Params t38;          // T.38 only; udp_ec and max_datagram shape the UDPTL framing
  UdptlOptions udptl;     // T.38 only: redundancy depth, FEC span/entries
  int jitter_delay_ms = 60;  // audio only: fixed playout delay, a multiple of 20 ms
  // Audio only: RFC 2198 redundancy, the number of earlier frames each packet repeats (0-8;
  // 0 = plain G.711). Only when the far end agreed to "red/8000" with this payload type in
  // SDP; a channel always accepts RED packets of that type.
  int audio_redundancy = 0;
  std::uint8_t red_payload_type = 99;  // what we send RED with: the far end's SDP type
  // The type RED arrives with: the one our own SDP named (RFC 3264 lets each side name
  // its own receive type; they normally agree). -1: the same as red_payload_type.
  int red_receive_payload_type = -1;
  bool detect_tones = true;  // audio only: CNG / CED / V.21 preamble on received audio
  // Audio only: called on the worker thread the first time each fax signal is heard (the
  // tone as int, see FaxTone in tones.hpp; the media time in ms). Must not block: a gateway
  // posts a T.38 re-INVITE request from here.
  std::function<void(int tone, std::int64_t at_ms)> on_tone;
  // Backstop: a call still running after this much media time is hung up. T.30's own timers
  // end every stalled call well before; this only catches a call that keeps "progressing".
  std::chrono::minutes max_duration{60};
};

struct ChannelStats {
  std::uint64_t ticks = 0;
  LinkStats link;
  UdptlStats udptl;          // T.38, receiving side
  std::uint64_t ifp_sent = 0;  // T.38: distinct IFP packets sent (datagrams include repeats)
  std::uint64_t rtp_received = 0;
  std::uint64_t rtp_malformed = 0;
  std::uint64_t rtp_recovered = 0;  // frames lost on the way and rebuilt from RFC 2198 copies
  std::uint64_t concealed = 0;      // lost frames replaced by the last received one
  std::uint64_t jitter_missing = 0;
  std::uint64_t jitter_late = 0;
};

class FaxChannel {
 public:
  static Result<std::shared_ptr<FaxChannel>> create(ChannelOptions options,
                                                    std::unique_ptr<DatagramLink> link);
  ~FaxChannel();
  FaxChannel(const FaxChannel&) = delete;
  FaxChannel& operator=(const FaxChannel&) = delete;

  // Worker-thread side.
  int fd() const;
  // Whether the runtime reads this channel's link before every tick instead of waiting for
  // readiness: audio (a datagram arrives every 20 ms) and memory links (no descriptor).
  // T.38 datagrams come irregularly, with long silences on the sending end, so those wait
  // for epoll.
  bool polled() const { return polled_; }
  // Takes every datagram waiting on the link.
  void on_readable();
  // Takes one datagram, for a socket a level-triggered epoll reported readable: one
  // system call per datagram (a batch read costs a second, failing attempt each time when,
  // as with T.38, datagrams come one at a time).
  void on_datagram_ready();
  void on_tick();
  // The call is over on the wire: the worker drops the channel. finished() follows at once,
  // or, when needs_finishing(), once finish_off_media_thread() has run (the runtime does
  // that on its finishing thread, keeping page coding and file system work out of the 20 ms
  // ticks).
  bool media_done() const { return media_done_.load(std::memory_order_acquire); }
  bool needs_finishing() const;
  // Receiver: called on the worker thread each time a received page is waiting to be
  // stored; the runtime then runs store_pending_pages() on its finishing thread. Without a
  // hook, pages are stored on the worker thread as they end. Set before the first tick.
  void set_store_hook(std::function<void()> hook);
  // Encodes and appends the pages waiting so far to the document. Finishing thread.
  void store_pending_pages();
  // Stores what is left and puts the received document at SessionOptions::tiff_path, then
  // marks the channel finished. Call once, from any thread but the worker's, after
  // media_done().
  void finish_off_media_thread();

  // Any thread.
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  Progress progress() const;
  // Complete once finished() is true.
  const FaxResult& result() const;
  // Ends the call `after_ticks` ticks from this channel's next tick, as a SIP BYE would (the
  // session reports call_dropped unless it has finished by then); a hang-up peer (the other
  // end of a loopback line) is told. Called before the channel starts, the hang-up comes
  // exactly at tick `after_ticks`, which is how tests cut a call mid-page.
  void request_hangup(std::int64_t after_ticks = 0) {
    hangup_after_.store(after_ticks < 0 ? 0 : after_ticks, std::memory_order_release);
  }
  // Ends this channel at its next tick because the call moves to other media (audio ->
  // T.38): the session's result has media_switched set and no hang-up reaches the peer.
  void request_media_switch() { switch_requested_.store(true, std::memory_order_release); }
  // The far end moved its media (same kind, new address, e.g. in a re-INVITE): from the
  // next tick on, datagrams go to and are taken from the new address. The session goes on.
  void request_redirect(std::string remote_host, int remote_port);
  // When this channel ends (hang-up, or its call finished), tell `peer` (the other end of a
  // loopback line), standing in for the signalling a real call has.
  void set_hangup_peer(std::weak_ptr<FaxChannel> peer) { peer_ = std::move(peer); }
  bool tone_seen(int tone_index) const;  // FaxTone as int; see tones.hpp
  // Worker thread, or any thread once finished.
  ChannelStats stats() const;
  const ChannelOptions& options() const { return options_; }

  struct Impl;

 private:
  FaxChannel(ChannelOptions options, std::unique_ptr<DatagramLink> link);
  void finish();
  void tell_peer(std::int64_t after_ticks);
  void page_ended(ReceivedPage&& page);
  void take_datagram(std::span<const std::uint8_t> datagram);

  ChannelOptions options_;
  std::unique_ptr<Impl> impl_;
  std::weak_ptr<FaxChannel> peer_;
  bool polled_ = false;
  std::atomic<bool> finished_{false};
  std::atomic<bool> media_done_{false};
  std::atomic<bool> switch_requested_{false};
  std::atomic<bool> redirect_requested_{false};
  std::atomic<std::int64_t> hangup_after_{-1};  // pending request, in ticks; -1 none
  std::optional<std::uint64_t> hangup_deadline_;  // worker thread only
  std::atomic<int> phase_{0};
  std::atomic<int> page_{0};
  std::atomic<int> pages_done_{0};
  std::atomic<unsigned> tones_{0};
};

}  // namespace faxbridge::fax
