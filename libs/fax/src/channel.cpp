// DESIGN: FaxChannel glues a FaxSession to the wire. Per 20 ms tick (on_tick, worker thread):
//   1. the link's impairment clock advances (delayed datagrams leave);
//   2. a pending hang-up (requested, or the backstop) ends the session, cuts the line and
//      tells a loopback peer;
//   3. T.38: the UDPTL receiver gives up gaps older than a tick, then the T.38 terminal runs
//      for 160 samples and every IFP packet it emits is framed by UdptlSender and sent as
//      many times as spandsp asks (indicators 3x);
//      audio: the jitter buffer hands over this tick's frame (or nothing: the session fills
//      in), the tone detector listens to it, and 160 samples of modem audio go out as one
//      G.711 RTP packet;
//   4. once the session reaches phase E the channel is done with the media and the runtime
//      drops it; a receiver is finished once its document is in the spool.
// Received documents: each page leaves the session as a bitmap the moment it ends (the
// session's page sink) and waits in `pending`; the runtime's finishing thread, told through
// the store hook, encodes and writes it (FaxDocumentWriter), and after the call puts the
// file in place before finished() turns true. So neither T.6 coding (~4 ms a fine page) nor
// file system work (a busy disk stalled single ticks for hundreds of milliseconds) happens
// inside a tick. spandsp still opens its own TIFF, which stays an empty shell: it gets a
// memfd so that costs no disk either.
// Received datagrams (on_readable) go straight into the UDPTL receiver (which feeds the
// session in sequence order) or into the jitter buffer.
#include "faxbridge/fax/channel.hpp"

#include <spandsp.h>

#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

#include "faxbridge/core/log.hpp"
#include "faxbridge/fax/document_writer.hpp"
#include "faxbridge/fax/g711.hpp"
#include "page_buffers.hpp"
#include "faxbridge/fax/rtp.hpp"
#include "faxbridge/fax/tones.hpp"

namespace faxbridge::fax {

std::string_view media_name(MediaKind m) {
  switch (m) {
    case MediaKind::kT38: return "t38";
    case MediaKind::kAlaw: return "g711a";
    case MediaKind::kUlaw: return "g711u";
  }
  return "unknown";
}

struct FaxChannel::Impl {
  std::unique_ptr<DatagramLink> link;
  std::unique_ptr<FaxSession> session;
  std::unique_ptr<UdptlSender> udptl_tx;
  std::unique_ptr<UdptlReceiver> udptl_rx;
  std::unique_ptr<JitterBuffer> jitter;
  std::unique_ptr<ToneDetector> tones;
  std::uint64_t tick = 0;
  std::uint64_t max_ticks = 0;
  RtpHeader rtp;
  std::array<std::int16_t, kSamplesPerTick> pcm_in{};
  std::array<std::int16_t, kSamplesPerTick> pcm_out{};
  std::array<std::uint8_t, kSamplesPerTick> g711{};
  std::vector<std::uint8_t> packet;
  std::uint64_t rtp_received = 0;
  std::uint64_t rtp_malformed = 0;
  std::uint64_t rtp_recovered = 0;
  std::uint8_t audio_pt = kPayloadPcma;  // G.711 payload type
  G711Law law = G711Law::kAlaw;
  std::uint8_t red_pt = 0xFF;            // RFC 2198 payload type we send; 0xFF = none (never in 7 bits)
  std::uint8_t red_rx_pt = 0xFF;         // RFC 2198 payload type we accept
  // RFC 2198 sender: the last frames sent, oldest first, with their timestamps.
  std::deque<std::pair<std::uint32_t, std::array<std::uint8_t, kSamplesPerTick>>> red_history;
  std::vector<std::uint8_t> red_payload;
  bool hung_up = false;
  bool link_impaired = false;  // link->tick() has work (asked once)
  int shell_fd = -1;         // receiver: the memfd spandsp keeps its empty TIFF in
  // Receiver: pages ended on the worker thread, waiting for the finishing thread.
  std::unique_ptr<FaxDocumentWriter> writer;  // finishing thread (or the worker, without a hook)
  std::mutex pending_mu;
  std::deque<ReceivedPage> pending;  // guarded by pending_mu
  int pages_handed = 0;              // worker thread
  std::function<void()> store_hook;
  std::mutex redirect_mu;
  std::string redirect_host;  // guarded by redirect_mu
  int redirect_port = 0;
  int concealed = 0;         // consecutive lost frames replaced by the last one
  std::uint64_t concealed_total = 0;
  bool heard_audio = false;  // pcm_in holds a whole received frame

  ~Impl() {
    if (shell_fd >= 0) ::close(shell_fd);
  }
};

namespace {

// A memfd by path, for libtiff (spandsp opens its file by name).
std::string memfd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// Lost audio frames in a row that are concealed by repeating the last one (40 ms).
constexpr int kMaxConcealedFrames = 2;

// RFC 2198: this tick's frame with copies of the `depth` frames before it.
void send_redundant_audio(FaxChannel::Impl& im, std::size_t depth) {
  std::array<AudioBlock, 8> older;
  std::size_t n = 0;
  for (const auto& [ts, bytes] : im.red_history) older[n++] = AudioBlock{im.audio_pt, ts, bytes};
  AudioBlock primary{im.audio_pt, im.rtp.timestamp, im.g711};
  // The blocks are 160 bytes at most 8 frames back: always within RFC 2198's fields.
  (void)red_write(std::span<const AudioBlock>(older.data(), n), primary, im.red_payload);
  rtp_write(im.rtp, im.red_payload, im.packet);
  im.red_history.emplace_back(im.rtp.timestamp, im.g711);
  while (im.red_history.size() > depth) im.red_history.pop_front();
}

}  // namespace

FaxChannel::FaxChannel(ChannelOptions options, std::unique_ptr<DatagramLink> link)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  impl_->link = std::move(link);
}

FaxChannel::~FaxChannel() = default;

Result<std::shared_ptr<FaxChannel>> FaxChannel::create(ChannelOptions options,
                                                       std::unique_ptr<DatagramLink> link) {
  if (!link) return Error(Code::k_internal, "A fax channel needs a link.");
  std::shared_ptr<FaxChannel> ch(new FaxChannel(std::move(options), std::move(link)));
  Impl& im = *ch->impl_;
  const ChannelOptions& o = ch->options_;
  im.link_impaired = im.link->impaired();
  ch->polled_ = im.link->fd() < 0 || o.media != MediaKind::kT38;
  im.max_ticks = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(o.max_duration) / kTickPeriod);
  SessionOptions session_options = o.session;
  if (o.session.direction == Direction::kReceive && o.session.accept_document) {
    im.shell_fd = ::memfd_create("faxbridge-rx", MFD_CLOEXEC);
    if (im.shell_fd < 0) {
      return Error(Code::k_fax_file_error, "No memory file for a received document could be made.")
          .with("reason", std::strerror(errno));
    }
    session_options.tiff_path = memfd_path(im.shell_fd);
    im.writer = std::make_unique<FaxDocumentWriter>(o.session.tiff_path, o.session.store_compression);
    FaxChannel* self = ch.get();
    session_options.page_sink = [self](ReceivedPage&& page) { self->page_ended(std::move(page)); };
  }
  if (o.media == MediaKind::kT38) {
    // The negotiated T38FaxUdpEC picks the scheme, T38FaxMaxDatagram bounds the datagram;
    // UdptlOptions supplies the depth.
    UdptlOptions u = o.udptl;
    u.recovery = o.t38.udp_ec == UdpErrorCorrection::kFec ? UdptlRecovery::kFec : UdptlRecovery::kRedundancy;
    if (o.t38.udp_ec == UdpErrorCorrection::kNone) u.redundancy = 0;
    if (o.t38.max_datagram > 0) u.max_datagram = std::min<std::size_t>(u.max_datagram, static_cast<std::size_t>(o.t38.max_datagram));
    im.udptl_tx = std::make_unique<UdptlSender>(u);
    FaxChannel* self = ch.get();
    auto session = FaxSession::create_t38(
        session_options, o.t38, [self](std::span<const std::uint8_t> ifp, int copies) {
          Impl& i = *self->impl_;
          auto d = i.udptl_tx->build(ifp);
          if (!d) {
            log::write_error(log::Level::kWarn, "fax.udptl_build_failed", d.error(),
                             {{"call", self->options_.session.call_id}});
            return;
          }
          // spandsp asks for repeats of indicators (pitfall 8); the copies share a sequence
          // number, so the receiver keeps one.
          for (int c = 0; c < std::max(1, copies); ++c) i.link->send(*d);
        });
    if (!session) return std::move(session).error();
    im.session = std::move(session).value();
    im.udptl_rx = std::make_unique<UdptlReceiver>(
        [self](std::span<const std::uint8_t> ifp, std::uint16_t seq) { self->impl_->session->rx_ifp(ifp, seq); });
  } else {
    auto session = FaxSession::create_audio(session_options);
    if (!session) return std::move(session).error();
    im.session = std::move(session).value();
    int delay_frames = std::max(1, o.jitter_delay_ms / static_cast<int>(kTickPeriod.count()));
    im.jitter = std::make_unique<JitterBuffer>(delay_frames, kSamplesPerTick);
    if (o.audio_redundancy < 0 || o.audio_redundancy > 8) {
      return Error(Code::k_config_invalid, "RTP audio redundancy must be 0 to 8 frames.")
          .with("frames", std::to_string(o.audio_redundancy));
    }
    im.audio_pt = o.media == MediaKind::kAlaw ? kPayloadPcma : kPayloadPcmu;
    im.law = o.media == MediaKind::kAlaw ? G711Law::kAlaw : G711Law::kUlaw;
    im.red_pt = o.red_payload_type & 0x7F;
    im.red_rx_pt = o.red_receive_payload_type >= 0 ? static_cast<std::uint8_t>(o.red_receive_payload_type & 0x7F)
                                                   : im.red_pt;
    im.rtp.payload_type = o.audio_redundancy > 0 ? im.red_pt : im.audio_pt;
    im.rtp.ssrc = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(ch.get()) >> 4) ^ 0x5A5A1234u;
    im.rtp.marker = true;
    if (o.detect_tones) {
      FaxChannel* self = ch.get();
      im.tones = std::make_unique<ToneDetector>([self](FaxTone t, std::int64_t sample) {
        self->tones_.fetch_or(1u << static_cast<unsigned>(t), std::memory_order_relaxed);
        log::info("fax.tone_detected", {{"call", self->options_.session.call_id},
                                        {"tone", tone_name(t)},
                                        {"ms", static_cast<std::int64_t>(sample / 8)}});
        if (self->options_.on_tone) self->options_.on_tone(static_cast<int>(t), sample / 8);
      });
    }
  }
  return ch;
}

int FaxChannel::fd() const { return impl_->link->fd(); }

void FaxChannel::on_readable() {
  if (media_done()) return;
  impl_->link->receive_all([this](std::span<const std::uint8_t> d) { take_datagram(d); });
}

void FaxChannel::on_datagram_ready() {
  if (media_done()) return;
  impl_->link->receive_one([this](std::span<const std::uint8_t> d) { take_datagram(d); });
}

void FaxChannel::take_datagram(std::span<const std::uint8_t> d) {
  Impl& im = *impl_;
  if (im.udptl_rx) {
    // Refused datagrams are counted in the receiver's stats; the call goes on.
    (void)im.udptl_rx->receive(d);
    return;
  }
  auto p = rtp_parse(d);
  if (p && p->header.payload_type == im.audio_pt) {
    ++im.rtp_received;
    im.jitter->put(p->header.timestamp, p->payload, im.tick);
    return;
  }
  if (p && p->header.payload_type == im.red_rx_pt) {
    auto blocks = red_parse(p->payload, p->header.timestamp);
    if (blocks) {
      ++im.rtp_received;
      for (std::size_t b = 0; b < blocks->size(); ++b) {
        const AudioBlock& block = (*blocks)[b];
        if (block.payload_type != im.audio_pt) continue;
        bool fresh = im.jitter->put(block.timestamp, block.data, im.tick);
        // A redundant copy that filled a hole: a packet lost on the way was recovered.
        if (fresh && b + 1 < blocks->size()) ++im.rtp_recovered;
      }
      return;
    }
  }
  ++im.rtp_malformed;
}

void FaxChannel::request_redirect(std::string remote_host, int remote_port) {
  {
    std::lock_guard lk(impl_->redirect_mu);
    impl_->redirect_host = std::move(remote_host);
    impl_->redirect_port = remote_port;
  }
  redirect_requested_.store(true, std::memory_order_release);
}

void FaxChannel::on_tick() {
  if (media_done()) return;
  Impl& im = *impl_;
  if (redirect_requested_.exchange(false, std::memory_order_acq_rel)) {
    std::string host;
    int port = 0;
    {
      std::lock_guard lk(im.redirect_mu);
      host = im.redirect_host;
      port = im.redirect_port;
    }
    if (auto r = im.link->redirect(host, port); !r) {
      log::write_error(log::Level::kWarn, "fax.redirect_failed", r.error(), {{"call", options_.session.call_id}});
    } else {
      log::info("fax.redirected", {{"call", options_.session.call_id}, {"host", host}, {"port", port}});
    }
  }
  if (im.link_impaired) im.link->tick();
  bool backstop = im.tick >= im.max_ticks;
  std::int64_t after = hangup_after_.exchange(-1, std::memory_order_acq_rel);
  if (after >= 0) {
    std::uint64_t deadline = im.tick + static_cast<std::uint64_t>(after);
    if (!hangup_deadline_ || deadline < *hangup_deadline_) hangup_deadline_ = deadline;
  }
  bool requested = hangup_deadline_ && im.tick >= *hangup_deadline_;
  if (switch_requested_.load(std::memory_order_acquire) && !im.session->finished()) {
    // The call goes on elsewhere: end quietly, the line stays up for the new media.
    im.session->stop_for_media_switch();
    phase_.store(static_cast<int>(Phase::kFinished), std::memory_order_relaxed);
    media_done_.store(true, std::memory_order_release);
    finished_.store(true, std::memory_order_release);
    return;
  }
  if (requested || backstop) {
    if (backstop) {
      log::warn("fax.backstop_hangup", {{"call", options_.session.call_id},
                                        {"ticks", static_cast<std::int64_t>(im.tick)}});
    }
    im.session->hangup();
    im.link->cut();
    // Whoever asked (the application, or the peer's own hang-up), the far end hears it;
    // a peer that hung up first has finished and ignores this.
    tell_peer(0);
  }
  if (im.udptl_rx) {
    im.udptl_rx->tick();
    im.session->tick_t38(kSamplesPerTick);
  } else {
    auto frame = im.jitter->take(im.tick);
    if (frame) {
      std::size_t n = std::min(frame->size(), im.pcm_in.size());
      g711_decode(im.law, frame->first(n), im.pcm_in);
      std::span<const std::int16_t> pcm(im.pcm_in.data(), n);
      im.concealed = 0;
      im.heard_audio = n == im.pcm_in.size();
      if (im.tones) {
        im.tones->feed(pcm);
        // A gateway switches to T.38 on the first of these signals; once the V.21 preamble
        // has been heard or the document is moving, listening on costs CPU for nothing.
        if (im.tones->seen(FaxTone::kV21Preamble) || im.session->progress().phase >= Phase::kTransferring) {
          im.tones.reset();
        }
      }
      im.session->rx_audio(pcm);
      if (n < im.pcm_in.size()) im.session->rx_missing(static_cast<int>(im.pcm_in.size() - n));
    } else if (im.concealed < kMaxConcealedFrames && im.heard_audio) {
      // A lost packet: play the last frame again. 20 ms is a whole number of carrier cycles
      // and symbols for V.17/V.29 (1800/1700 Hz, 2400 baud) and V.27ter, so the repeat keeps
      // the demodulator's carrier and symbol timing in step; the bits it carries are wrong
      // and ECM or a T.30 repeat mends them. spandsp's own fill-in lets a training sequence
      // hit by one loss fail outright (measured: 1% loss failed 7 of 10 calls with fill-in,
      // 3 of 10 with the repeat).
      ++im.concealed;
      ++im.concealed_total;
      im.session->rx_audio(im.pcm_in);
    } else {
      // A longer gap is no lost packet but a far end that stopped: T.30 must notice.
      im.session->rx_missing(kSamplesPerTick);
    }
    im.session->tx_audio(im.pcm_out);
    g711_encode(im.law, im.pcm_out, im.g711);
    if (options_.audio_redundancy > 0) {
      send_redundant_audio(im, static_cast<std::size_t>(options_.audio_redundancy));
    } else {
      rtp_write(im.rtp, im.g711, im.packet);
    }
    im.link->send(im.packet);
    im.rtp.marker = false;
    ++im.rtp.seq;
    im.rtp.timestamp += kSamplesPerTick;
  }
  ++im.tick;
  Progress p = im.session->progress();
  phase_.store(static_cast<int>(p.phase), std::memory_order_relaxed);
  page_.store(p.page, std::memory_order_relaxed);
  pages_done_.store(p.pages_done, std::memory_order_relaxed);
  if (im.session->finished()) finish();
}

void FaxChannel::finish() {
  // After phase E an application hangs up; the far end hears the BYE a moment later. The
  // second of grace lets the last T.30 frame (DCN) reach it first, as on a real call.
  constexpr std::int64_t kByeAfterTicks = 50;
  tell_peer(kByeAfterTicks);
  media_done_.store(true, std::memory_order_release);
  if (!needs_finishing()) finished_.store(true, std::memory_order_release);
}

bool FaxChannel::needs_finishing() const {
  return impl_->writer && media_done() && !finished() && impl_->pages_handed > 0;
}

void FaxChannel::set_store_hook(std::function<void()> hook) { impl_->store_hook = std::move(hook); }

void FaxChannel::page_ended(ReceivedPage&& page) {
  Impl& im = *impl_;
  ++im.pages_handed;
  {
    std::lock_guard lk(im.pending_mu);
    im.pending.push_back(std::move(page));
  }
  if (im.store_hook) {
    im.store_hook();
  } else {
    store_pending_pages();  // no runtime to hand it to: store it here
  }
}

void FaxChannel::store_pending_pages() {
  Impl& im = *impl_;
  for (;;) {
    ReceivedPage page;
    {
      std::lock_guard lk(im.pending_mu);
      if (im.pending.empty()) return;
      page = std::move(im.pending.front());
      im.pending.pop_front();
    }
    if (auto r = im.writer->add(page); !r) {
      log::write_error(log::Level::kError, "fax.store_failed", r.error(), {{"call", options_.session.call_id}});
    }
    page_buffers::give(std::move(page.bits));
  }
}

void FaxChannel::finish_off_media_thread() {
  if (finished()) return;
  store_pending_pages();
  if (auto r = impl_->writer->finish(); !r) {
    log::write_error(log::Level::kError, "fax.store_failed", r.error(), {{"call", options_.session.call_id}});
  }
  ::close(impl_->shell_fd);
  impl_->shell_fd = -1;
  finished_.store(true, std::memory_order_release);
}

void FaxChannel::tell_peer(std::int64_t after_ticks) {
  if (auto peer = peer_.lock()) {
    if (!peer->media_done()) peer->request_hangup(after_ticks);
  }
}

Progress FaxChannel::progress() const {
  Progress p;
  p.phase = static_cast<Phase>(phase_.load(std::memory_order_relaxed));
  p.page = page_.load(std::memory_order_relaxed);
  p.pages_done = pages_done_.load(std::memory_order_relaxed);
  return p;
}

const FaxResult& FaxChannel::result() const { return impl_->session->result(); }

bool FaxChannel::tone_seen(int tone_index) const {
  return (tones_.load(std::memory_order_relaxed) >> tone_index) & 1u;
}

ChannelStats FaxChannel::stats() const {
  ChannelStats s;
  s.ticks = impl_->tick;
  s.link = impl_->link->stats();
  if (impl_->udptl_rx) s.udptl = impl_->udptl_rx->stats();
  if (impl_->udptl_tx) s.ifp_sent = impl_->udptl_tx->next_seq();
  s.rtp_received = impl_->rtp_received;
  s.rtp_malformed = impl_->rtp_malformed;
  s.rtp_recovered = impl_->rtp_recovered;
  s.concealed = impl_->concealed_total;
  if (impl_->jitter) {
    s.jitter_missing = impl_->jitter->stats().missing;
    s.jitter_late = impl_->jitter->stats().late;
  }
  return s;
}

}  // namespace faxbridge::fax
