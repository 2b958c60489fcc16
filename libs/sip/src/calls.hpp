#pragma once
// The agent's INVITE sessions, placed and answered: the table of calls and everything
// that happens to them (see calls.cpp). Private to libs/sip; runs on the agent's loop
// thread like everything that touches sofia. The loop (user_agent.cpp) hands it the
// API requests and the INVITE, BYE and CANCEL events, and ticks its watchdogs.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "call.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/sip/user_agent.hpp"

struct nua_s;
struct nua_handle_s;
struct sip_s;

namespace faxbridge::sip::detail {

// What the calls need from the agent. The references are the agent's members and
// outlive the table.
struct CallContext {
  // Runs a user callback so that nothing it throws unwinds into sofia's C frames.
  using Guard = std::function<void(std::string_view which, const std::function<void()>& callback)>;

  nua_s* nua = nullptr;                  // the stack, created before the table
  const Settings& settings;              // media_address filled in
  const Handlers& handlers;
  const std::atomic<bool>& stopping;     // set: no callbacks any more
  Guard guarded;
  Call::Clock::time_point (*now)() = &Call::Clock::now;
};

class Calls final {
 public:
  explicit Calls(CallContext context);
  Calls(const Calls&) = delete;
  Calls& operator=(const Calls&) = delete;

  // ---- the API (its arguments already checked by the agent) ------------------------
  Result<CallId> place_call(const std::string& uri, const CallRequest& req);
  Result<void> hang_up(CallId id);
  Result<void> reinvite_t38(CallId id, const T38Offer& offer);
  Result<void> answer(CallId id, const MediaOffer& media);
  Result<void> refuse(CallId id, int status, std::string_view warning);
  // A call in progress, or one of the last UserAgent::kTraceHistory that ended.
  Result<std::vector<std::string>> trace(CallId id) const;

  // ---- the stack's events -----------------------------------------------------------
  void on_invite(nua_handle_s* nh, const sip_s* sip);                                  // nua_i_invite
  void on_invite_response(int status, const char* phrase, nua_handle_s* nh, const sip_s* sip);  // nua_r_invite
  void on_state(nua_handle_s* nh, int callstate);                                      // nua_i_state
  void on_bye(nua_handle_s* nh);                                                       // nua_i_bye
  void on_cancel(nua_handle_s* nh);                                                    // nua_i_cancel
  // nua_r_bye (`bye`) or nua_r_cancel.
  void on_end_response(int status, const char* phrase, nua_handle_s* nh, bool bye);
  // The handle belongs to one of the calls.
  bool owns(nua_handle_s* nh) { return find(nh) != nullptr; }

  // From the agent's tick: the no-answer, call-duration and forced-end watchdogs.
  void tick();

 private:
  void refuse_unusable(Call& c, const std::string& why);
  void accept_invite(Call& c, const MediaOffer& media);
  void refuse_invite(Call& c, int status, EndReason reason, std::string_view warning, const char* why);
  void on_reinvite(Call& c, const sip_s* sip);
  bool answer_challenge(Call& c, int status, const sip_s* sip);
  void report_failure(Call& c, int status, const std::string& phrase, bool local, const FailureClass& f);
  void on_reinvite_response(Call& c, int status, const sip_s* sip);
  void finish(Call& c, const char* why);
  void end_session(Call& c, EndReason reason, const char* why);
  void cancel(Call& c, CancelCause cause, const char* why);
  void respond(Call& c, int status, const std::string* sdp, std::string_view warning = {});
  void send_invite(Call& c, std::string trace_line);
  Call& add_call(CallId id, nua_handle_s* nh, bool outbound);
  // `answering`: the offer this description answers (its m= lines are mirrored).
  void set_local(Call& c, const MediaOffer& m, const SessionDescription* answering = nullptr);
  Call* find(CallId id);
  Call* find(nua_handle_s* nh);

  CallContext ctx_;
  std::uint64_t session_base_ = 1;
  CallId next_id_ = 1;
  std::map<CallId, Call> calls_;
  std::unordered_map<nua_handle_s*, CallId> by_handle_;
  std::deque<std::pair<CallId, std::vector<std::string>>> history_;
};

}  // namespace faxbridge::sip::detail
