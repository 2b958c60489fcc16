#pragma once
// DESIGN: the calls the gateway answers. Private to libs/gateway; control thread only.
//
// An INVITE is answered 180 by the SIP thread at once; whether the called number is
// ours (a user's or a group's) and whether T.38 may be taken is looked up on the call
// store's worker, and the answer comes back here: refused (404 nobody's number, 486 no
// free channel, 488 media we may not take, 503 when the look-up failed) or answered with
// T.38 or audio as the inbound plan says, with a receive channel on a media port.
// When the channel ends, the received pages (synced to disk) and the call's record go to
// the store as one journalled fact: the fax is stored however long the database is away,
// and the spool file goes only once the row has committed. A refused call for a number we
// serve is recorded the same way (0 pages), so its owner can hear of it.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "faxbridge/core/error.hpp"
#include "faxbridge/gateway/media_policy.hpp"

#include "gateway_context.hpp"

namespace faxbridge::gateway {

class InboundCalls final {
 public:
  explicit InboundCalls(GatewayContext& ctx);
  ~InboundCalls();  // removes the spool files of calls still up

  // `arrived`: when the INVITE came in (the received fax's start time).
  void on_incoming(const sip::IncomingCall& in, std::chrono::system_clock::time_point arrived);
  bool owns(sip::CallId id) const { return by_sip_.count(id) != 0; }
  CallMedia* media_of(sip::CallId id);
  void on_ended(const sip::CallEnded& e);
  void poll(std::chrono::steady_clock::time_point now);
  int active() const { return static_cast<int>(calls_.size()); }

 private:
  struct Owner {
    bool found = false;
    bool disable_t38 = false;
  };
  struct Call {
    sip::IncomingCall info;
    std::string call_id;  // received_faxes.call_id: unique to this call
    std::chrono::system_clock::time_point arrived;
    CallPorts ports;
    std::string tiff_path;
    std::unique_ptr<CallMedia> media;
    fax::FaxChannel* channel() const { return media ? media->channel().get() : nullptr; }
    bool sip_ended = false;
  };

  void decide(const sip::IncomingCall& in, std::chrono::system_clock::time_point arrived, const Result<Owner>& owner);
  void record_refused(const sip::IncomingCall& in, std::chrono::system_clock::time_point arrived, Code code);
  void finish(Call& call);
  std::string call_id_for(const sip::IncomingCall& in) const;

  GatewayContext& ctx_;
  std::string boot_token_;  // tells this process's call numbers from an earlier one's
  std::vector<std::unique_ptr<Call>> calls_;
  std::map<sip::CallId, Call*> by_sip_;
};

}  // namespace faxbridge::gateway
