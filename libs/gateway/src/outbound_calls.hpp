#pragma once
// DESIGN: the calls the gateway places. Private to libs/gateway; control thread only.
//
// A claim round runs on the call store's worker: claim within the limits, then for each
// call read its pages (written to a spool file there), its route's addresses, the media
// settings and the caller identity. The prepared calls come back to the control thread,
// which dials the first address with the offer the media plan chooses (media_policy.hpp),
// moves to the next address on a route failure, starts the send channel on the answer,
// and closes the attempt with the fax result through the store (a journalled fact).
//
// The lease: while a call runs, the job's lease is renewed every third of its length.
// When a renewal finds the lease gone (another instance may have taken the job over and
// be dialling the same number) or the gateway cannot confirm it before it runs out (the
// database unreachable for that long), the call is hung up at once and the attempt closed
// as interrupted: a fax that might be sent twice is stopped rather than finished.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/db/outbound.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/gateway/call_diagnostics.hpp"
#include "faxbridge/gateway/media_policy.hpp"

#include "gateway_context.hpp"

namespace faxbridge::gateway {

class OutboundCalls final {
 public:
  explicit OutboundCalls(GatewayContext& ctx) : ctx_(ctx) {}
  ~OutboundCalls();  // removes the spool files of calls still up (their leases expire)

  // Starts a claim round on the store's worker unless one is in flight. It asks for as
  // many calls as channels are free now; an incoming call answered while the round runs
  // may take one of them, so the channel count can be passed by one call briefly (a held
  // channel would refuse incoming calls for as long as a slow claim takes).
  void claim();
  int active() const { return static_cast<int>(calls_.size()); }

  bool owns(sip::CallId id) const { return by_sip_.count(id) != 0; }
  CallMedia* media_of(sip::CallId id);
  // SIP events of our calls (owns(id) checked by the caller).
  void on_answered(const sip::CallAnswered& a);
  void on_failed(const sip::CallFailed& f);
  void on_ended(const sip::CallEnded& e);
  // After a negotiation event on a call: the far end refused T.38.
  void on_t38_refused(sip::CallId id);
  void cancel(std::int64_t job_id);
  // Progress, phase C, lease renewals and finished channels.
  void poll(std::chrono::steady_clock::time_point now);

 private:
  using Clock = std::chrono::steady_clock;
  struct Prepared {
    db::outbound::Call call;
    std::string spool_file;
    std::vector<std::string> targets;
    OutboundMediaInput media;
    CallerIdentity identity;
    std::optional<Error> error;  // the call cannot be placed (no pages, no address, ...)
  };
  struct Call {
    db::outbound::Call call;
    std::vector<std::string> targets;
    std::size_t next_target = 0;
    std::optional<sip::CallId> sip_call;
    CallPorts ports;
    OutboundMediaPlan plan;
    CallerIdentity identity;
    std::string spool_file;
    std::unique_ptr<CallMedia> media;
    fax::FaxChannel* channel() const { return media ? media->channel().get() : nullptr; }
    fax::Phase max_phase = fax::Phase::kIdle;
    int pages_reported = 0;
    bool marked_sending = false;
    bool cancelled = false;
    bool sip_ended = false;
    bool lease_lost = false;
    bool closed = false;
    std::optional<int> sip_status;
    Clock::time_point lease_confirmed;   // when the last confirmed renewal was asked for
    Clock::time_point next_renewal;
    bool renewal_in_flight = false;
    Clock::time_point dialed_at{};
    CallDiagnostics diag;
  };

  void on_claimed(std::vector<Prepared> prepared);
  void start(Prepared p);
  void place_next(Call& call);
  void renew(Call& call, Clock::time_point now);
  void on_renewed(std::int64_t job_id, Clock::time_point asked_at, const Result<bool>& held);
  void end_for_lost_lease(Call& call, const std::string& why);
  void remember_t38_failure(const Call& call);
  db::AttemptEnd cancelled_end(const Call& call) const;
  void finish_error(Call& call, const Error& error, db::Outcome outcome);
  void finish_fax(Call& call);
  void attach_diagnostics(Call& call, db::AttemptEnd& end);
  void close(Call& call, db::AttemptEnd end);
  Call* find_job(std::int64_t job_id);

  GatewayContext& ctx_;
  std::vector<std::unique_ptr<Call>> calls_;
  std::map<sip::CallId, Call*> by_sip_;
  bool claim_in_flight_ = false;
};

// The T.30 phase letter an attempt records: E on success, else how far it got.
std::string phase_letter(fax::Phase max_phase, bool success);

}  // namespace faxbridge::gateway
