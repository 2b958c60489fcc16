#pragma once
// The media gateway (ARCHITECTURE.md sections 3-4): places the calls the router queued and
// answers the calls for numbers users or groups own, SIP (libs/sip) for signalling and the
// fax engine (libs/fax) for T.38 over UDPTL or G.711 over RTP, switching audio calls to
// T.38 by re-INVITE as media_policy.hpp decides. Results are rows: an outbound attempt is closed
// with db::outbound::close and announced on bus::stages::kResults; a received fax becomes a
// received_tiff document plus a received_faxes row, announced on bus::stages::kInbound.
// Cancels for calls this instance holds arrive on bus::topics::cancel_topic(instance).
//
// Threading: one control thread owns every call's state; the SIP agent's callbacks and
// the bus subscriber only post events to it (they must not block), the fax channels run
// on the ChannelRuntime's workers, and every database transaction runs on the call
// store's worker (src/call_store.hpp), so a slow database never holds a call. What a
// call leaves behind (phase C reached, pages confirmed, its outcome, a received fax) is
// journalled on local disk first and written until it commits: a database outage or a
// crash loses no fax, and a restarted gateway replays its journal.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/core/metrics.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/fax/runtime.hpp"
#include "faxbridge/sip/user_agent.hpp"

namespace faxbridge::gateway {

struct GatewaySettings {
  std::string instance = "media-gateway";  // lease owner and cancel topic
  sip::Settings sip;
  // Local UDP ports for media, taken round robin (even ports) from this range: one per
  // call, two for an audio call that may move to T.38.
  std::string media_address = "127.0.0.1";
  int media_port_min = 20000;  // below the kernel's ephemeral ports
  int media_port_max = 21999;
  int channels = 8;  // calls at once, both directions
  bool place_calls = true;  // false: an inbound-only gateway that never claims calls
  int media_threads = 1;
  // SCHED_FIFO priority of the media workers (0: normal scheduling). Ticks then stay on
  // time while other work shares the cores; refused without CAP_SYS_NICE (logged).
  int media_realtime_priority = 0;
  fax::Pace pace = fax::Pace::kRealtime;
  // RFC 2198 redundancy on G.711 calls: earlier frames repeated in each RTP packet (0-8).
  // > 0: audio offers and answers list "red/8000", and a call whose far end agrees sends
  // it, so a fax survives lost packets at the cost of (1 + n) times the audio bandwidth.
  // 0: not offered (some PBXs refuse an offer with payload types they do not know).
  int audio_redundancy = 0;
  // Documents of up to this many pages are decoded into memory before the call (~0.5 MB a
  // fine A4 page, for the call's length), so no libtiff G4 decode (~3.5 ms a page) lands in
  // a 20 ms media tick; longer ones are decoded page by page inside the ticks. 0: never.
  int decode_ahead_pages = 20;
  std::chrono::milliseconds claim_interval{1000};
  std::chrono::milliseconds lease{60000};
  // How often the routes are reloaded for OPTIONS monitoring (sip.options_interval is
  // the ping period): an edited route is watched without a restart. 0: no monitoring.
  std::chrono::milliseconds routes_refresh{5000};
  metrics::Registry* metrics = nullptr;  // the gateway's series (gateway_metrics.hpp); none when unset
  std::optional<sip::Registration> registration;  // REGISTER with this trunk account at start
  // Answer a trunk's 401/407 to an INVITE once with these (the trunk account's digest
  // user and password); none: such a call ends call.not_authorised.
  std::optional<sip::Credentials> credentials;
  std::string spool_dir = "/tmp";  // documents being sent and faxes being received
  // The journal of facts not yet in Postgres; empty: "<spool_dir>/journal-sip-<SIP port>",
  // which a restarted gateway on the same port finds again. One gateway per folder.
  std::string journal_dir;
  // TSID when the company settings give no number or TSID; CSID when the called number is empty.
  std::string local_ident = "Faxbridge";
};

struct GatewayStats {
  int outbound_active = 0;
  int inbound_active = 0;
  std::uint64_t outbound_closed = 0;
  std::uint64_t inbound_stored = 0;
  std::uint64_t t38_reinvites = 0;  // re-INVITEs to T.38 we sent (counted when the call ends)
  std::uint64_t t38_switches = 0;   // calls moved from G.711 to T.38 (either side's re-INVITE)
  std::uint64_t progress_updates = 0;  // live page counts written to open attempts
  std::uint64_t audio_redundancy_calls = 0;  // G.711 channels started with RFC 2198 redundancy
  std::uint64_t facts_pending = 0;   // journalled outcomes not yet committed to Postgres
  std::uint64_t facts_replayed = 0;  // journal entries of an earlier process written since start
};

class Gateway final {
 public:
  // Starts the SIP agent, the media runtime, the bus subscriber and the control thread.
  static Result<std::unique_ptr<Gateway>> start(db::Pool& pool, bus::Publisher& publisher,
                                                std::string subscribe_endpoint, GatewaySettings settings);
  // Stops taking work; calls still up are hung up and left to the router's tick (their
  // leases expire and they are closed as interrupted). Journalled facts are written for
  // a few seconds more; what is left is replayed at the next start.
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  GatewayStats stats() const;
  bool connected() const;
  // Why the trunk account is not registered (for /healthz); nullopt when it is, or when
  // no registration is configured.
  std::optional<std::string> unregistered() const;
  const GatewaySettings& settings() const;

  struct Impl;

 private:
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace faxbridge::gateway
