// DESIGN: the media gateway's control loop, and the wiring of its parts.
//
// One control thread owns all call state. Everything else only posts work to it:
//  - the SIP agent's callbacks (its own loop thread, must not block) post answered /
//    failed / ended / incoming / media events; an incoming INVITE is answered 180 at once
//    and decided once the call store has looked the number up (inbound_calls.hpp);
//  - the bus subscriber thread posts CancelJob for this instance and asks for a claim
//    round on a queued-stage work message;
//  - the call store's worker (call_store.hpp) posts the answers of the database;
//  - fax channels run on the ChannelRuntime workers; the control thread polls them every
//    20 ms for progress and completion.
// The control thread itself never waits on Postgres: every transaction runs on the call
// store's worker, and the facts a call leaves (phase C, pages, its outcome, a received
// fax) are journalled on local disk before they are written.
//
// The parts: OutboundCalls (outbound_calls.hpp: claims, dialling, send channels, leases,
// closing attempts), InboundCalls (inbound_calls.hpp), CallMedia (call_media.hpp: each
// call's channel and its move from audio to T.38), MediaPorts (media_ports.hpp),
// HealthMonitor (route_health.hpp: OPTIONS pings of the route addresses).
#include "faxbridge/gateway/gateway.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "faxbridge/bus.pb.h"
#include "faxbridge/bus/topics.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/settings.hpp"

#include "call_media.hpp"
#include "call_store.hpp"
#include "gateway_context.hpp"
#include "inbound_calls.hpp"
#include "journal.hpp"
#include "media_ports.hpp"
#include "outbound_calls.hpp"

namespace faxbridge::gateway {

namespace {

using Clock = std::chrono::steady_clock;

std::filesystem::path journal_folder(const GatewaySettings& s) {
  if (!s.journal_dir.empty()) return s.journal_dir;
  // Keyed by the SIP port: stable across restarts (the instance id has the pid in it)
  // and unique among the gateways of one host.
  return std::filesystem::path(s.spool_dir) / ("journal-sip-" + std::to_string(s.sip.port));
}

}  // namespace

struct Gateway::Impl {
  Impl(db::Pool& p, bus::Publisher& pub, std::string sub, GatewaySettings s)
      : pool(p), publisher(pub), subscribe_endpoint(std::move(sub)), settings(std::move(s)),
        reinvite_answers(settings.media_address),
        ports(settings.media_address, settings.media_port_min, settings.media_port_max) {}

  db::Pool& pool;
  bus::Publisher& publisher;
  std::string subscribe_endpoint;
  GatewaySettings settings;
  ReinviteAnswers reinvite_answers;  // read by the SIP thread
  MediaPorts ports;
  GatewayCounters counters;

  // Built in start(), in this order; torn down in reverse by ~Gateway.
  std::unique_ptr<fax::ChannelRuntime> runtime;
  std::unique_ptr<sip::UserAgent> agent;
  std::unique_ptr<GatewayMetrics> metrics;
  std::unique_ptr<CallStore> store;
  std::unique_ptr<HealthMonitor> health;
  std::unique_ptr<GatewayContext> ctx;
  std::unique_ptr<OutboundCalls> outbound;
  std::unique_ptr<InboundCalls> inbound;
  std::unique_ptr<bus::Subscriber> subscriber;

  // Events posted to the control thread.
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::function<void()>> events;
  bool claim_requested = true;
  std::atomic<bool> stop{false};
  std::thread control_thread, bus_thread;
  Clock::time_point next_claim = Clock::now();

  // Registration with the trunk (SIP thread writes, any thread reads).
  mutable std::mutex registration_mutex;
  std::optional<sip::RegistrationState> registration;
  bool alerted_unregistered = false;  // control thread: one alert per loss

  void post(std::function<void()> fn) {
    {
      std::lock_guard lock(mutex);
      events.push_back(std::move(fn));
    }
    cv.notify_one();
  }
  void request_claim() {
    {
      std::lock_guard lock(mutex);
      claim_requested = true;
    }
    cv.notify_one();
  }

  int free_channels() const {
    return settings.channels - outbound->active() - inbound->active();
  }

  CallMedia* media_of(sip::CallId id) {
    if (CallMedia* m = outbound->media_of(id)) return m;
    return inbound->media_of(id);
  }

  // ---- control loop ----------------------------------------------------------------
  void control_loop() {
    while (!stop.load()) {
      std::deque<std::function<void()>> batch;
      bool claim = false;
      {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, std::chrono::milliseconds(20),
                    [&] { return stop.load() || !events.empty() || claim_requested; });
        batch.swap(events);
        claim = claim_requested;
        claim_requested = false;
      }
      for (auto& fn : batch) fn();
      if (stop.load()) break;
      if (settings.place_calls && (claim || Clock::now() >= next_claim)) {
        outbound->claim();
        next_claim = Clock::now() + settings.claim_interval;
      }
      const auto now = Clock::now();
      outbound->poll(now);
      inbound->poll(now);
      health->tick();
      metrics->channels_in_use(outbound->active(), inbound->active());
    }
  }

  void bus_loop() {
    const std::string cancel = bus::topics::cancel_topic(settings.instance);
    const std::string queued = bus::topics::work_topic(bus::stages::kQueued);
    while (!stop.load()) {
      auto m = subscriber->receive(std::chrono::milliseconds(100));
      if (!m || !m->has_value()) continue;
      const bus::Message& msg = **m;
      if (msg.topic == cancel) {
        auto c = bus::decode<bus::v1::CancelJob>(msg, settings.metrics);
        if (!c) continue;
        const std::int64_t job = c->job_id();
        post([this, job] { outbound->cancel(job); });
      } else if (msg.topic == queued) {
        request_claim();
      }
    }
  }

  // ---- media negotiation (either direction) ------------------------------------------
  void on_tone(sip::CallId id) {
    if (CallMedia* m = media_of(id)) m->on_tone(*agent, id);
  }

  void on_media_changed(const sip::MediaChanged& e) {
    CallMedia* m = media_of(e.call);
    if (m == nullptr) return;
    auto outcome = m->on_media_changed(e.media, *runtime);
    if (!outcome) {
      // No T.38 channel could be opened: the audio channel runs on, and the far end, now
      // sending T.38, ends the call by T.30 timers. Hanging up now says so sooner.
      log::write_error(log::Level::kWarn, "gateway.media_switch_failed", outcome.error());
      if (channel_alive(*m)) m->channel()->request_hangup();
      return;
    }
    after_negotiation(e.call, *outcome);
  }

  void on_reinvite_refused(const sip::ReinviteRefused& e) {
    CallMedia* m = media_of(e.call);
    if (m == nullptr) return;
    after_negotiation(e.call, m->on_reinvite_refused(e.sip_status, Clock::now()));
  }

  void after_negotiation(sip::CallId id, CallMedia::Outcome outcome) {
    switch (outcome) {
      case CallMedia::Outcome::kSwitched:
        reinvite_answers.forget(id);
        ++counters.t38_switches;
        break;
      case CallMedia::Outcome::kT38Refused:
        // The plan allowed audio (the call is on it): the fax carries on over G.711.
        outbound->on_t38_refused(id);
        break;
      case CallMedia::Outcome::kHangUp:
        if (CallMedia* m = media_of(id); m != nullptr && channel_alive(*m)) m->channel()->request_hangup();
        (void)agent->hang_up(id);
        break;
      case CallMedia::Outcome::kNone:
        break;
    }
  }

  // ---- registration ----------------------------------------------------------------
  void on_registration(const sip::RegistrationState& r) {
    metrics->registration(r.registered);
    {
      std::lock_guard lock(registration_mutex);
      registration = r;
    }
    post([this, r] {
      if (r.registered) {
        alerted_unregistered = false;
        return;
      }
      log::warn("gateway.unregistered", {{"registrar", r.registrar}, {"status", r.last_status}, {"reason", r.reason}});
      if (alerted_unregistered) return;
      alerted_unregistered = true;
      alert_unregistered(r);
    });
  }

  // The administrator hears of it once per loss: every call through the PBX fails
  // while the gateway is not registered. Best effort (a notification row).
  void alert_unregistered(const sip::RegistrationState& r) {
    (void)store->request(Lane::kBackground, [r](db::Pool& db_pool) {
      auto written = db_pool.transact([&](db::Tx& tx) -> Result<void> {
        auto snap = db::settings::load(tx);
        if (!snap) return snap.error();
        const std::string admin = snap->get_string("company.admin_email");
        if (admin.empty()) return ok();
        db::NewNotification n;
        n.kind = "admin_alert";
        n.channel = "email";
        n.recipient = admin;
        nlohmann::json error{{"code", std::string(code_name(Code::k_sip_registration_failed))},
                             {"message", "The media gateway is not registered with " + r.registrar + " (SIP " +
                                             std::to_string(r.last_status) + " " + r.reason +
                                             "): faxes through this trunk fail until it is. Check the trunk "
                                             "account's user and password and that the registrar is reachable; "
                                             "the gateway keeps retrying."}};
        n.payload_json = nlohmann::json{{"error", error}}.dump();
        auto id = db::notifications::enqueue(tx, n);
        if (!id) return id.error();
        return ok();
      });
      if (!written) log::write_error(log::Level::kWarn, "gateway.alert_failed", written.error());
    });
  }

  // ---- SIP callbacks (agent thread: post only) ---------------------------------------
  sip::Handlers handlers() {
    sip::Handlers h;
    h.on_answered = [this](const sip::CallAnswered& a) {
      post([this, a] {
        if (outbound->owns(a.call)) {
          outbound->on_answered(a);
        } else if (!inbound->owns(a.call)) {
          // An outbound call answered after we gave up on it (a 200 crossing our CANCEL).
          // (Inbound calls we answered are reported here too: those are inbound's.)
          (void)agent->hang_up(a.call);
        }
      });
    };
    h.on_failed = [this](const sip::CallFailed& f) {
      post([this, f] {
        if (outbound->owns(f.call)) outbound->on_failed(f);
      });
    };
    h.on_ended = [this](const sip::CallEnded& e) {
      post([this, e] {
        if (outbound->owns(e.call)) {
          outbound->on_ended(e);
        } else if (inbound->owns(e.call)) {
          inbound->on_ended(e);
        } else if (e.reason == sip::EndReason::kRefused) {
          metrics->call_finished("inbound", "refused");
        }
      });
    };
    h.on_registration = [this](const sip::RegistrationState& r) { on_registration(r); };
    h.on_health = [this](const sip::GatewayHealth& g) {
      post([this, g] {
        health->record(g);
        metrics->address_states(health->states());
      });
    };
    h.on_media_changed = [this](const sip::MediaChanged& e) { post([this, e] { on_media_changed(e); }); };
    h.on_reinvite_refused = [this](const sip::ReinviteRefused& e) { post([this, e] { on_reinvite_refused(e); }); };
    // Answered on the SIP thread at once, from what the control thread registered.
    h.on_reinvite = [this](const sip::ReinviteRequest& r) { return reinvite_answers.answer(r); };
    h.on_incoming = [this](const sip::IncomingCall& in) {
      const auto arrived = std::chrono::system_clock::now();
      post([this, in, arrived] { inbound->on_incoming(in, arrived); });
      return sip::InboundDecision::ring();
    };
    return h;
  }
};

Result<std::unique_ptr<Gateway>> Gateway::start(db::Pool& pool, bus::Publisher& publisher,
                                                std::string subscribe_endpoint, GatewaySettings settings) {
  if (settings.media_port_min <= 0 || settings.media_port_max < settings.media_port_min || settings.channels <= 0) {
    return Error(Code::k_config_invalid, "The media port range or the channel count is not usable.");
  }
  std::error_code ec;
  std::filesystem::create_directories(settings.spool_dir, ec);
  auto impl = std::make_unique<Impl>(pool, publisher, std::move(subscribe_endpoint), std::move(settings));
  Impl* p = impl.get();
  GatewaySettings& s = p->settings;
  fax::RuntimeOptions ro;
  ro.threads = s.media_threads;
  ro.realtime_priority = s.media_realtime_priority;
  ro.pace = s.pace;
  ro.metrics = s.metrics;  // channels active, results, tick lateness
  auto rt = fax::ChannelRuntime::create(ro);
  if (!rt) return std::move(rt).error();
  p->runtime = std::move(*rt);
  if (s.sip.media_address.empty()) s.sip.media_address = s.media_address;
  p->metrics = std::make_unique<GatewayMetrics>(s.metrics, s.channels);
  auto agent = sip::UserAgent::start(s.sip, p->handlers());
  if (!agent) return std::move(agent).error();
  p->agent = std::move(*agent);
  // The journal is keyed by the SIP port, known once the agent has bound it.
  auto journal = Journal::open(journal_folder(s));
  if (!journal) return std::move(journal).error();
  p->store = std::make_unique<CallStore>(pool, publisher, std::move(*journal));
  auto submit = [p](std::function<void(db::Pool&)> work) { return p->store->request(Lane::kBackground, std::move(work)); };
  auto post = [p](std::function<void()> fn) { p->post(std::move(fn)); };
  sip::UserAgent* ua = p->agent.get();
  p->health = std::make_unique<HealthMonitor>(
      submit, post, [ua](const std::vector<std::string>& targets) { return ua->monitor(targets); },
      s.routes_refresh);
  p->ctx = std::make_unique<GatewayContext>(GatewayContext{
      s, *p->agent, *p->runtime, p->ports, *p->store, *p->health, *p->metrics, p->reinvite_answers, p->counters,
      post, [p] { return p->free_channels(); }, [p](sip::CallId id) { p->on_tone(id); }});
  p->outbound = std::make_unique<OutboundCalls>(*p->ctx);
  p->inbound = std::make_unique<InboundCalls>(*p->ctx);
  if (s.registration) {
    if (auto r = p->agent->register_account(*s.registration); !r) return r.error();
  }
  p->subscriber = std::make_unique<bus::Subscriber>(
      p->subscribe_endpoint, std::vector<std::string>{bus::topics::cancel_topic(s.instance),
                                                      bus::topics::work_topic(bus::stages::kQueued)},
      s.metrics);
  p->bus_thread = std::thread([p] { p->bus_loop(); });
  p->control_thread = std::thread([p] { p->control_loop(); });
  log::info("gateway.started", {{"instance", s.instance}, {"sip_port", s.sip.port}});
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Gateway::~Gateway() {
  Impl& p = *impl_;
  p.stop = true;
  p.cv.notify_all();
  if (p.control_thread.joinable()) p.control_thread.join();
  if (p.bus_thread.joinable()) p.bus_thread.join();
  // The agent hangs up what is still up without callbacks; the runtime drops its channels.
  p.agent.reset();
  p.runtime.reset();
  // The store writes what it can of the journal (the rest waits for the next start);
  // its worker may still post answers, which nobody runs any more.
  p.store.reset();
}

GatewayStats Gateway::stats() const {
  const Impl& p = *impl_;
  const CallStoreStats s = p.store->stats();
  return {p.counters.outbound_active.load(), p.counters.inbound_active.load(), s.attempts_closed, s.faxes_stored,
          p.counters.t38_reinvites.load(), p.counters.t38_switches.load(), s.progress_updates,
          p.counters.audio_redundancy_calls.load(), s.facts_pending, s.replayed};
}

bool Gateway::connected() const { return impl_->subscriber && impl_->subscriber->connected(); }

std::optional<std::string> Gateway::unregistered() const {
  if (!impl_->settings.registration) return std::nullopt;
  std::lock_guard lock(impl_->registration_mutex);
  const auto& r = impl_->registration;
  if (r && r->registered) return std::nullopt;
  if (!r) return "registering with " + impl_->settings.registration->registrar;
  std::string why = "not registered with " + r->registrar + " (SIP " + std::to_string(r->last_status) + " " +
                    r->reason + ", " + std::to_string(r->failures) + " failures in a row";
  if (r->next_retry) {
    const auto in = std::chrono::duration_cast<std::chrono::seconds>(*r->next_retry - std::chrono::system_clock::now());
    why += ", next try in " + std::to_string(std::max<std::int64_t>(0, in.count())) + " s";
  }
  return why + ")";
}

const GatewaySettings& Gateway::settings() const { return impl_->settings; }

}  // namespace faxbridge::gateway
