// DESIGN: one sofia-sip `nua` stack per UserAgent, owned by one loop thread; this file
// is that loop and the public face that hands work to it.
// - sofia's objects (su_root, nua, handles) are not thread-safe, so the loop thread
//   creates, drives and destroys all of them. Public functions hand a closure to the
//   loop (loop_queue.cpp) and wait for its result; one called from a callback (already
//   on the loop) runs inline. Their arguments are checked first (target.cpp).
// - The loop dispatches the stack's events to the part that owns them: INVITE sessions
//   (calls.cpp: placing, answering, re-INVITEs, BYE/CANCEL, watchdogs), the OPTIONS
//   keep-alive (keepalive.cpp) and the registration (registration.cpp). Each gets the
//   agent's guard for user callbacks (guarded, below).
// - A 200 ms tick runs the calls' watchdogs, the keep-alive's pings and the
//   registration's retries, so no call, ping or REGISTER stays pending forever.
// - Stopping: nua_shutdown() ends every session, then nua_destroy(); callbacks are no
//   longer delivered once the destructor has started.
#include "faxbridge/sip/user_agent.hpp"

#include <atomic>
#include <exception>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "calls.hpp"
#include "faxbridge/core/log.hpp"
#include "keepalive.hpp"
#include "loop_queue.hpp"
#include "registration.hpp"
#include "target.hpp"

// sofia's tag macros (TAG_END, SIPTAG_*, NUTAG_*) expand to C casts at every use site in
// this file, so the warning cannot be scoped to the includes.
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>

namespace faxbridge::sip {
namespace {

using detail::safe_header_text;

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Watchdog and keep-alive resolution: fine enough for second-scale timeouts, cheap.
constexpr auto kTickInterval = 200ms;

}  // namespace

class UserAgent::Impl {
 public:
  Impl(Settings settings, Handlers handlers)
      : settings_(std::move(settings)), handlers_(std::move(handlers)) {
    if (settings_.media_address.empty()) settings_.media_address = settings_.bind_address;
  }

  ~Impl() { stop(); }

  Result<void> start() {
    if (auto r = queue_.open(); !r) return r;
    // Shared: the loop thread may still be inside set_value() when start() returns.
    auto ready = std::make_shared<std::promise<Result<void>>>();
    auto started = ready->get_future();
    thread_ = std::thread([this, ready] { run(*ready); });
    auto r = started.get();
    if (!r) {
      thread_.join();
      return r;
    }
    return ok();
  }

  void stop() {
    if (!queue_.stop_accepting() && !thread_.joinable()) return;
    stopping_ = true;
    queue_.wake();
    if (thread_.joinable()) thread_.join();
    queue_.close_fd();
  }

  // Runs `f` on the loop thread and returns its result; nullopt once stopping.
  template <class F>
  auto on_loop(F&& f) -> std::optional<decltype(f())> {
    return queue_.run(std::forward<F>(f));
  }

  template <class T>
  Result<T> call_on_loop(std::function<Result<T>()> f) {
    auto r = on_loop(std::move(f));
    if (!r) return Error(Code::k_service_stopping, "The SIP agent is stopping.");
    return std::move(*r);
  }

  // ---- the API, on the loop thread --------------------------------------------------

  Result<CallId> place_call(const std::string& uri, const CallRequest& req) { return calls_->place_call(uri, req); }
  Result<void> hang_up(CallId id) { return calls_->hang_up(id); }
  Result<void> reinvite_t38(CallId id, const T38Offer& offer) { return calls_->reinvite_t38(id, offer); }
  Result<void> answer(CallId id, const MediaOffer& media) { return calls_->answer(id, media); }
  Result<void> refuse(CallId id, int status, std::string_view warning) { return calls_->refuse(id, status, warning); }

  Result<void> monitor(const std::vector<std::string>& targets) {
    keepalive_.set_targets(nua_, targets);
    return ok();
  }

  Result<void> register_account(const Registration& r) {
    if (!registration_.start(nua_, r)) {
      return Error(Code::k_sip_invalid_target, "Cannot register with this account.").with("registrar", r.registrar);
    }
    return ok();
  }

  std::vector<GatewayHealth> health() const { return keepalive_.health(); }

  Result<std::vector<std::string>> trace(CallId id) const { return calls_->trace(id); }

  const Settings& settings() const { return settings_; }

 private:
  // ---- the loop -----------------------------------------------------------------

  void run(std::promise<Result<void>>& ready) {
    queue_.bind_to_current_thread();
    // su_init() sets process-wide state; sofia counts nothing, so it runs once and
    // is never undone while other agents may still be running.
    static std::once_flag su_once;
    std::call_once(su_once, [] { su_init(); });
    root_ = su_root_create(this);
    if (root_ == nullptr) {
      ready.set_value(Error(Code::k_sip_start_failed, "Cannot create the SIP event loop."));
      return;
    }
    const std::string url = "sip:" + settings_.bind_address + ":" + std::to_string(settings_.port) +
                            (settings_.tcp ? "" : ";transport=udp");
    const auto t1x64 = static_cast<unsigned>(settings_.transaction_timeout.count());
    // TLS is a second listener (sofia binds "sips:" URLs with TLS) that only exists when
    // certificates were given; with none, sips: and ;transport=tls targets fail to connect.
    const bool tls = !settings_.tls_certificate_dir.empty();
    const std::string sips_url = tls ? "sips:" + settings_.bind_address + ":" +
                                           std::to_string(settings_.tls_port != 0 ? settings_.tls_port
                                                                                  : settings_.port + 1)
                                     : std::string();
    const unsigned verify = settings_.tls_verify_peer ? TPTLS_VERIFY_OUTGOING : TPTLS_VERIFY_NONE;
    nua_ = nua_create(root_, &Impl::nua_callback, this, NUTAG_URL(url.c_str()),
                      TAG_IF(tls, NUTAG_SIPS_URL(sips_url.c_str())),
                      TAG_IF(tls, TPTAG_CERTIFICATE(settings_.tls_certificate_dir.c_str())),
                      TAG_IF(tls, TPTAG_TLS_VERIFY_POLICY(verify)),
                      // A connection that closes under a pending request (a TLS peer whose
                      // certificate we refused, a TCP peer gone) fails that request at once,
                      // instead of when the transaction times out.
                      TPTAG_SDWN_ERROR(1),
                      NUTAG_USER_AGENT(settings_.user_agent.c_str()),
                      // No display name in Contact: some peers (SIPp's [next_url] among
                      // them) take it for part of the URI. The From carries it instead.
                      NUTAG_M_USERNAME(settings_.contact_user.c_str()), NUTAG_MEDIA_ENABLE(0),
                      NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0), NUTAG_AUTOACK(1),
                      NUTAG_ENABLEINVITE(1),
                      NUTAG_SESSION_TIMER(static_cast<unsigned>(settings_.session_timer.count())),
                      // Refresh with UPDATE (no body): a refresh can then never touch media.
                      NUTAG_UPDATE_REFRESH(1), NTATAG_SIP_T1X64(t1x64), TAG_END());
    if (nua_ == nullptr) {
      su_root_destroy(root_);
      root_ = nullptr;
      ready.set_value(Error(Code::k_sip_start_failed,
                            "Cannot bind the SIP agent: the address is not local or the port is in use.")
                          .with("url", url));
      return;
    }
    calls_.emplace(detail::CallContext{
        .nua = nua_,
        .settings = settings_,
        .handlers = handlers_,
        .stopping = stopping_,
        .guarded = [this](std::string_view which, const std::function<void()>& f) { guarded(which, f); },
    });
    su_wait_t wait;
    su_wait_create(&wait, queue_.fd(), SU_WAIT_IN);
    wait_index_ = su_root_register(root_, &wait, &Impl::wakeup_callback, this, 0);
    log::info("sip.agent.started", {{"url", url}, {"tls", sips_url}});
    ready.set_value(ok());

    auto next_tick = Clock::now() + kTickInterval;
    while (!stopping_) {
      su_root_step(root_, 100);
      queue_.drain();
      if (Clock::now() >= next_tick) {
        tick();
        next_tick = Clock::now() + kTickInterval;
      }
    }
    queue_.drain();
    shut_down();
  }

  void shut_down() {
    keepalive_.stop();
    // No un-REGISTER: a registrar that is gone would hold the stop for a whole
    // transaction timeout. The binding lapses at the registrar on its own.
    registration_.stop();
    nua_shutdown(nua_);
    const auto deadline = Clock::now() + settings_.transaction_timeout + 2s;
    while (!shutdown_done_ && Clock::now() < deadline) su_root_step(root_, 50);
    if (shutdown_done_) {
      nua_destroy(nua_);
    } else {
      // nua_destroy() before the shutdown completed would free transactions the stack
      // still uses; leaking one stack at exit is the lesser harm.
      log::warn("sip.agent.shutdown_incomplete", {});
    }
    nua_ = nullptr;
    if (wait_index_ > 0) su_root_deregister(root_, wait_index_);
    su_root_destroy(root_);
    root_ = nullptr;
  }

  static int wakeup_callback(su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg) {
    static_cast<Impl*>(arg)->queue_.clear_wakeups();
    return 0;
  }

  static void nua_callback(nua_event_t event, int status, char const* phrase, nua_t*,
                           nua_magic_t* magic, nua_handle_t* nh, nua_hmagic_t*, sip_t const* sip,
                           tagi_t tags[]) {
    static_cast<Impl*>(magic)->on_event(event, status, phrase, nh, sip, tags);
  }

  void on_event(nua_event_t event, int status, const char* phrase, nua_handle_t* nh,
                const sip_t* sip, tagi_t tags[]) {
    switch (event) {
      case nua_i_invite: calls_->on_invite(nh, sip); break;
      case nua_r_invite: calls_->on_invite_response(status, phrase, nh, sip); break;
      case nua_i_state: {
        int state = nua_callstate_init;
        tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
        calls_->on_state(nh, state);
        break;
      }
      case nua_i_bye: calls_->on_bye(nh); break;
      case nua_i_cancel: calls_->on_cancel(nh); break;
      case nua_r_bye:
      case nua_r_cancel: calls_->on_end_response(status, phrase, nh, event == nua_r_bye); break;
      case nua_r_options: keepalive_.on_response(status, nh); break;
      case nua_r_register: registration_.on_response(status, phrase, nh, sip); break;
      case nua_r_shutdown:
        if (status >= 200) shutdown_done_ = true;
        break;
      case nua_i_options:
      case nua_i_message:
      case nua_i_info:
      case nua_i_refer:
      case nua_i_subscribe:
      case nua_i_notify:
      case nua_i_publish:
        // Answered by the stack already; a handle it made for a request outside any of
        // our calls is ours to free.
        if (nh != nullptr && !calls_->owns(nh) && !keepalive_.owns(nh)) nua_handle_destroy(nh);
        break;
      default:
        break;
    }
  }

  // ---- the tick ------------------------------------------------------------------

  void tick() {
    calls_->tick();
    keepalive_.tick();
    registration_.tick();
  }

  // ---- bookkeeping ---------------------------------------------------------------

  // User callbacks run inside sofia's C stack frames, where an escaping exception is
  // undefined behaviour. It is logged and swallowed here; the agent goes on as if the
  // callback had returned nothing (an inbound call is then refused with 480, a
  // re-INVITE with 488).
  template <class F>
  void guarded(std::string_view which, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      log::error("sip.callback.threw", {{"callback", which}, {"what", e.what()}});
    } catch (...) {
      log::error("sip.callback.threw", {{"callback", which}});
    }
  }

  Settings settings_;
  Handlers handlers_;

  std::thread thread_;
  std::atomic<bool> stopping_{false};
  detail::LoopQueue queue_;

  // Loop-thread state from here on.
  su_root_t* root_ = nullptr;
  int wait_index_ = -1;
  nua_t* nua_ = nullptr;
  bool shutdown_done_ = false;
  // Made once the stack exists (run()); its context refers to the members above.
  std::optional<detail::Calls> calls_;
  // Last: their reports go through guarded() and handlers_.
  detail::OptionsMonitor keepalive_{settings_.options_interval, [this](const GatewayHealth& h) {
    if (handlers_.on_health && !stopping_) guarded("on_health", [&] { handlers_.on_health(h); });
  }};
  detail::RegistrationClient registration_{[this](const RegistrationState& st) {
    if (handlers_.on_registration && !stopping_) guarded("on_registration", [&] { handlers_.on_registration(st); });
  }};
};

// ---- the public face -------------------------------------------------------------

UserAgent::UserAgent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UserAgent::~UserAgent() = default;

Result<std::unique_ptr<UserAgent>> UserAgent::start(Settings settings, Handlers handlers) {
  if (settings.port <= 0 || settings.port > 65535 || settings.bind_address.empty()) {
    return Error(Code::k_sip_start_failed, "The SIP agent needs a bind address and a port 1-65535.")
        .with("port", std::to_string(settings.port));
  }
  if (!settings.tls_certificate_dir.empty()) {
    const std::filesystem::path dir(settings.tls_certificate_dir);
    std::error_code ec;
    for (const char* file : {"agent.pem", "cafile.pem"}) {
      if (!std::filesystem::is_regular_file(dir / file, ec)) {
        return Error(Code::k_sip_start_failed,
                     "SIP over TLS needs agent.pem (certificate and key) and cafile.pem in the certificate "
                     "directory.")
            .with("missing", (dir / file).string());
      }
    }
  }
  auto impl = std::make_unique<Impl>(std::move(settings), std::move(handlers));
  if (auto r = impl->start(); !r) return std::move(r).error();
  return std::unique_ptr<UserAgent>(new UserAgent(std::move(impl)));
}

Result<CallId> UserAgent::place_call(const CallRequest& request) {
  if (!request.offer.t38 && !request.offer.audio) {
    return Error(Code::k_sip_invalid_target, "The call request offers neither T.38 nor audio.");
  }
  auto uri = detail::target_uri(request);
  if (!uri) return std::move(uri).error();
  return impl_->call_on_loop<CallId>([&] { return impl_->place_call(*uri, request); });
}

Result<void> UserAgent::hang_up(CallId call) {
  return impl_->call_on_loop<void>([&] { return impl_->hang_up(call); });
}

Result<void> UserAgent::reinvite_t38(CallId call, const T38Offer& offer) {
  return impl_->call_on_loop<void>([&] { return impl_->reinvite_t38(call, offer); });
}

Result<void> UserAgent::answer(CallId call, const MediaOffer& media) {
  return impl_->call_on_loop<void>([&] { return impl_->answer(call, media); });
}

Result<void> UserAgent::refuse(CallId call, int status, std::string_view warning) {
  return impl_->call_on_loop<void>([&] { return impl_->refuse(call, status, warning); });
}

Result<void> UserAgent::register_account(const Registration& registration) {
  if (!detail::valid_host_port(registration.registrar) || registration.user.empty() ||
      !safe_header_text(registration.user) || registration.user.find_first_of(" @:;") != std::string::npos) {
    return Error(Code::k_sip_invalid_target, "A registration needs a registrar host[:port] and a plain user name.")
        .with("registrar", registration.registrar);
  }
  return impl_->call_on_loop<void>([&] { return impl_->register_account(registration); });
}

Result<void> UserAgent::monitor(const std::vector<std::string>& targets) {
  for (const auto& t : targets) {
    if (auto uri = detail::monitor_uri(t); !uri) return std::move(uri).error();
  }
  return impl_->call_on_loop<void>([&] { return impl_->monitor(targets); });
}

std::vector<GatewayHealth> UserAgent::health() const {
  auto r = impl_->on_loop([&] { return impl_->health(); });
  return r ? std::move(*r) : std::vector<GatewayHealth>{};
}

Result<std::vector<std::string>> UserAgent::trace(CallId call) const {
  return impl_->call_on_loop<std::vector<std::string>>([&] { return impl_->trace(call); });
}

const Settings& UserAgent::settings() const { return impl_->settings(); }

}  // namespace faxbridge::sip
