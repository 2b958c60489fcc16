#pragma once
// The loopback line: a caller and an answerer channel joined by a link pair (real UDP
// sockets on 127.0.0.1, or in memory), each direction with its own impairments. Tests,
// the channel benchmark and the fax-loopback tool drive calls through it.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "faxbridge/core/result.hpp"
#include "faxbridge/fax/channel.hpp"
#include "faxbridge/fax/runtime.hpp"

namespace faxbridge::fax {

struct LoopbackOptions {
  MediaKind media = MediaKind::kT38;
  bool udp = true;                 // false: in-memory links (unit tests)
  Impairments caller_to_answerer;  // what the answerer receives
  Impairments answerer_to_caller;
  T38Params t38;
  UdptlOptions udptl;
  int jitter_delay_ms = 60;
  int audio_redundancy = 0;  // G.711: RFC 2198 frames repeated per packet (both ends)
  // The RED payload type each end named in its own SDP, i.e. receives with; each end sends
  // with the other's (RFC 3264 lets them differ).
  int caller_red_type = 99;
  int answerer_red_type = 99;
  // A hang-up at one end reaches the other, as SIP's BYE would. Off, the far end only
  // notices through T.30's timers.
  bool signal_hangup = true;
  std::chrono::minutes max_duration{60};
};

struct LoopbackCall {
  std::shared_ptr<FaxChannel> caller;
  std::shared_ptr<FaxChannel> answerer;
};

// Builds both ends; they still need to be added to a runtime (as one group). To have an end
// hang up mid-call, call its request_hangup(after_ticks) before adding it.
Result<LoopbackCall> make_loopback_call(const SessionOptions& caller, const SessionOptions& answerer,
                                        const LoopbackOptions& options);

// One fax from `in_tiff` to `out_tiff` over the loopback line; what the fax-loopback tool does.
struct LoopbackFaxRequest {
  std::string in_tiff;
  std::string out_tiff;
  LoopbackOptions line;
  Pace pace = Pace::kFast;
  bool ecm = true;
  std::string header_info;
  bool debug_log = false;  // spandsp's T.30/T.38 flow log at debug level
};

struct LoopbackFaxReport {
  FaxResult sender;
  FaxResult receiver;
  ChannelStats sender_stats;
  ChannelStats receiver_stats;
  std::chrono::milliseconds wall{0};
};

Result<LoopbackFaxReport> run_loopback_fax(const LoopbackFaxRequest& request);

// Human-readable lines: code, pages, rate, ECM, durations, loss figures.
std::string format_loopback_report(const LoopbackFaxReport& report);

// "5%" -> 0.05, "0.05" -> 0.05; refuses anything outside 0..100%.
Result<double> parse_loss(std::string_view text);

}  // namespace faxbridge::fax
