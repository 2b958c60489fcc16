// DESIGN: the media gateway, first slice (issue 6).
//
// One control thread owns all call state. Everything else only posts work to it:
//  - the SIP agent's callbacks (its own loop thread, must not block) post answered /
//    failed / ended / incoming events; an incoming INVITE is answered 180 at once and
//    decided on the control thread after the database lookup (answer or 404);
//  - the bus subscriber thread posts CancelJob for this instance and wakes the claim on
//    a kQueuedStage work message;
//  - fax channels run on the ChannelRuntime workers; the control thread polls them every
//    20 ms for phase C (mark_sending) and completion.
// Outbound: claim (limits in the claim) -> document to a spool file -> route addresses
// (the job's route, then the default route) -> INVITE with the offer the media plan
// chooses (media_policy.hpp: T.38, or G.711 audio) -> on 200 a send channel to the
// answered address -> close the attempt with the fax result -> announce kResultsStage.
// A route failure (try_next_address) moves to the next address.
// Inbound: number owned by a user or group -> answer T.38 or audio per the plan ->
// receive channel -> store the TIFF as a received_tiff document and a received_faxes
// row -> announce kInboundStage.
// Media: CallMedia (call_media.cpp) runs each call's channel and its move from audio to
// T.38 by re-INVITE; the plan and the settings behind it are read per call, so setting
// changes apply to the next call without a restart.
#include "faxbridge/gateway/gateway.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "faxbridge/bus.pb.h"
#include "faxbridge/bus/topics.hpp"
#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/outbound.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/routes.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/fax/channel.hpp"
#include "faxbridge/fax/link.hpp"
#include "faxbridge/fax/t38_params.hpp"
#include "faxbridge/gateway/call_diagnostics.hpp"
#include "faxbridge/gateway/gateway_metrics.hpp"
#include "faxbridge/gateway/media_policy.hpp"
#include "faxbridge/gateway/route_health.hpp"
#include "faxbridge/router/router.hpp"

#include "call_media.hpp"

namespace faxbridge::gateway {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kByeGraceTicks = 50;  // 1 s of media time
constexpr int kPortAttempts = 4;

struct OutCall {
  db::outbound::Call call;
  std::vector<std::string> targets;
  std::size_t next_target = 0;
  std::optional<sip::CallId> sip_call;
  int local_port = 0;
  int t38_port = 0;  // audio calls that may move to T.38
  OutboundMediaPlan plan;
  CallerIdentity identity;
  std::string tiff_path;
  std::unique_ptr<CallMedia> media;
  fax::FaxChannel* channel() const { return media ? media->channel().get() : nullptr; }
  fax::Phase max_phase = fax::Phase::kIdle;
  int pages_reported = 0;  // pages_done last written to the open attempt
  bool marked_sending = false;
  bool cancelled = false;
  bool sip_ended = false;
  std::optional<int> sip_status;
  Clock::time_point renewed = Clock::now();
  Clock::time_point dialed_at{};
  CallDiagnostics diag;  // kept on the attempt row when the call fails
};

struct InCall {
  sip::IncomingCall info;
  int local_port = 0;
  int t38_port = 0;  // audio calls that may move to T.38
  std::string tiff_path;
  std::unique_ptr<CallMedia> media;
  fax::FaxChannel* channel() const { return media ? media->channel().get() : nullptr; }
  bool sip_ended = false;
};

std::string phase_letter(fax::Phase max_phase, bool success) {
  if (success) return "E";
  switch (max_phase) {
    case fax::Phase::kIdle: return "A";
    case fax::Phase::kNegotiating: return "B";
    case fax::Phase::kTransferring:
    case fax::Phase::kFinished: return "C";
  }
  return "A";
}

// Whether a UDP socket can bind address:port now (checked before offering the port).
bool udp_port_free(const std::string& address, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return true;  // let the link report it
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Code::k_io_failed, "Cannot read the received fax file.").with("path", path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<void> write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) return Error(Code::k_io_failed, "Cannot write the document to the spool.").with("path", path);
  return ok();
}

}  // namespace

struct Gateway::Impl {
  Impl(db::Pool& p, bus::Publisher& pub, std::string sub, GatewaySettings s)
      : pool(p), publisher(pub), subscribe_endpoint(std::move(sub)), settings(std::move(s)),
        reinvite_answers(settings.media_address), next_port(settings.media_port_min) {}

  db::Pool& pool;
  bus::Publisher& publisher;
  std::string subscribe_endpoint;
  GatewaySettings settings;
  ReinviteAnswers reinvite_answers;  // read by the SIP thread

  std::unique_ptr<fax::ChannelRuntime> runtime;
  std::unique_ptr<sip::UserAgent> agent;
  std::unique_ptr<bus::Subscriber> subscriber;
  std::unique_ptr<HealthMonitor> health;     // control thread
  std::unique_ptr<GatewayMetrics> metrics;

  // Events posted to the control thread.
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::function<void()>> events;
  bool claim_requested = true;
  std::atomic<bool> stop{false};
  std::thread control_thread, bus_thread;

  // Control thread only.
  std::vector<std::unique_ptr<OutCall>> outbound;
  std::vector<std::unique_ptr<InCall>> inbound;
  std::map<sip::CallId, OutCall*> out_by_sip;
  std::map<sip::CallId, InCall*> in_by_sip;
  std::set<int> ports_in_use;
  int next_port;
  Clock::time_point next_claim = Clock::now();
  std::uint64_t sequence = 0;

  std::atomic<int> outbound_active{0}, inbound_active{0};
  std::atomic<std::uint64_t> outbound_closed{0}, inbound_stored{0}, progress_updates{0};
  std::atomic<std::uint64_t> t38_reinvites{0}, t38_switches{0}, audio_redundancy_calls{0};

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

  int allocate_port() {
    const int span = settings.media_port_max - settings.media_port_min + 1;
    for (int i = 0; i < span; i += 2) {
      int p = next_port;
      next_port += 2;
      if (next_port > settings.media_port_max) next_port = settings.media_port_min;
      if (ports_in_use.insert(p).second) return p;
    }
    return 0;
  }
  void release_port(int p) { ports_in_use.erase(p); }

  // A port of the range that binds now (another program may hold some); 0 when none.
  int reserve_media_port() {
    for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
      const int p = allocate_port();
      if (p == 0) return 0;
      if (udp_port_free(settings.media_address, p)) return p;
      release_port(p);
    }
    return 0;
  }

  std::string spool_path(const std::string& what) {
    return settings.spool_dir + "/gw-" + settings.instance + "-" + what + "-" + std::to_string(++sequence) + ".tiff";
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
        claim_calls();
        next_claim = Clock::now() + settings.claim_interval;
      }
      poll_channels();
      health->tick();
      metrics->channels_in_use(static_cast<int>(outbound.size()), static_cast<int>(inbound.size()));
    }
  }

  void bus_loop() {
    const std::string cancel = bus::topics::cancel_topic(settings.instance);
    const std::string queued = bus::topics::work_topic(router::kQueuedStage);
    while (!stop.load()) {
      auto m = subscriber->receive(std::chrono::milliseconds(100));
      if (!m || !m->has_value()) continue;
      const bus::Message& msg = **m;
      if (msg.topic == cancel) {
        auto c = bus::decode<bus::v1::CancelJob>(msg);
        if (!c) continue;
        const std::int64_t job = c->job_id();
        post([this, job] { cancel_job(job); });
      } else if (msg.topic == queued) {
        request_claim();
      }
    }
  }

  // ---- outbound --------------------------------------------------------------------
  int free_channels() const {
    return settings.channels - static_cast<int>(outbound.size() + inbound.size());
  }

  void claim_calls() {
    const int free = free_channels();
    if (free <= 0) return;
    auto claimed = pool.transact([&](db::Tx& tx) -> Result<std::vector<db::outbound::Call>> {
      auto s = db::settings::load(tx);
      if (!s) return s.error();
      const int max_out = static_cast<int>(s->get_int("fax.max_concurrent_outgoing"));
      return db::outbound::claim_calls(tx, settings.instance, free, max_out, settings.lease);
    });
    if (!claimed) {
      log::write_error(log::Level::kWarn, "gateway.claim_failed", claimed.error());
      return;
    }
    for (auto& c : *claimed) start_outbound(c);
  }

  void start_outbound(const db::outbound::Call& c) {
    auto oc = std::make_unique<OutCall>();
    oc->call = c;
    OutCall* call = oc.get();
    outbound.push_back(std::move(oc));
    outbound_active = static_cast<int>(outbound.size());
    log::info("gateway.call_claimed", {{"job", c.job_id}, {"attempt", c.attempt_id}, {"number", c.dial_number}});

    struct Prepared {
      std::string bytes;
      std::vector<std::string> targets;
      OutboundMediaInput media;
      CallerIdentity identity;
    };
    auto prepared = pool.transact([&](db::Tx& tx) -> Result<Prepared> {
      Prepared p;
      if (!c.pages_document_id) return Error(Code::k_fax_file_error, "The job has no pages document.");
      auto doc = db::documents::get(tx, *c.pages_document_id);
      if (!doc) return doc.error();
      p.bytes = std::move(doc->bytes);
      auto routes = db::routes::list(tx);
      if (!routes) return routes.error();
      const db::Route* chosen = nullptr;
      const db::Route* fallback = nullptr;
      for (const auto& r : *routes) {
        if (c.route_id && r.id == *c.route_id) chosen = &r;
        if (r.is_default && r.enabled) fallback = &r;
      }
      if (chosen) {
        for (const auto& g : chosen->gateways) p.targets.push_back(g.address);
      }
      if (fallback && fallback != chosen) {
        for (const auto& g : fallback->gateways) p.targets.push_back(g.address);
      }
      if (p.targets.empty()) return Error(Code::k_route_no_default, "No gateway address for this call.");
      // Read per call: settings changes apply to the next call without a restart.
      auto s = db::settings::load(tx);
      if (!s) return s.error();
      const db::Route* policy_route = chosen ? chosen : fallback;
      p.media.route_policy = policy_route ? parse_t38_policy(policy_route->t38_policy).value_or(T38Policy::kAuto)
                                          : T38Policy::kAuto;
      p.media.allow_g711 = s->get_bool("sip.allow_g711_outgoing");
      auto prefers = db::remote_capabilities::prefers_g711(tx, c.dial_number,
                                                           static_cast<int>(s->get_int("sip.g711_memory_days")));
      if (!prefers) return prefers.error();
      p.media.number_prefers_g711 = *prefers;
      auto job = db::jobs::get(tx, c.job_id);
      if (!job) return job.error();
      std::string sender_fax;
      if (job->sender_user_id) {
        auto u = db::users::get(tx, *job->sender_user_id);
        if (!u) return u.error();
        sender_fax = u->fax_number.value_or("");
      }
      p.identity = caller_identity(s->get_string("company.tsid"), sender_fax, s->get_string("company.fax"),
                                   settings.local_ident);
      return p;
    });
    if (!prepared) {
      finish_outbound_error(*call, prepared.error(), "failed");
      return;
    }
    call->targets = health->order(prepared->targets);  // addresses known down go last
    call->plan = decide_outbound(prepared->media);
    call->identity = std::move(prepared->identity);
    log::info("gateway.media_plan", {{"job", c.job_id},
                                     {"offer", call->plan.offer == FirstOffer::kT38 ? "t38" : "audio"},
                                     {"why", call->plan.why}});
    call->tiff_path = spool_path("job" + std::to_string(c.job_id));
    if (auto w = write_file(call->tiff_path, prepared->bytes); !w) {
      finish_outbound_error(*call, w.error(), "failed");
      return;
    }
    call->local_port = reserve_media_port();
    const bool may_switch = call->plan.reinvite_on_tone || call->plan.accept_remote_t38;
    if (call->local_port != 0 && call->plan.offer == FirstOffer::kAudio && may_switch) {
      call->t38_port = reserve_media_port();
      if (call->t38_port == 0) {
        release_port(call->local_port);
        call->local_port = 0;
      }
    }
    if (call->local_port == 0) {
      finish_outbound_error(*call, Error(Code::k_fax_transport_failed, "No free media port."), "failed");
      return;
    }
    place_next(*call);
  }

  // Dials the next address of the call's route; false when none is left.
  void place_next(OutCall& call) {
    while (call.next_target < call.targets.size()) {
      sip::CallRequest req;
      req.target = call.targets[call.next_target++];
      req.number = call.call.dial_number;
      req.caller_number = call.identity.from_user;
      req.credentials = settings.credentials;
      if (call.plan.offer == FirstOffer::kT38) {
        req.offer.t38 = t38_stream(call.local_port);
      } else {
        req.offer.audio = audio_stream(call.local_port, settings.audio_redundancy);
      }
      req.offer.address = settings.media_address;
      auto id = agent->place_call(req);
      if (!id) {
        log::write_error(log::Level::kWarn, "gateway.place_call_failed", id.error(), {{"target", req.target}});
        continue;
      }
      call.sip_call = *id;
      call.dialed_at = Clock::now();
      out_by_sip[*id] = &call;
      log::info("gateway.dialing", {{"job", call.call.job_id}, {"target", req.target}});
      return;
    }
    finish_outbound_error(call, Error(Code::k_call_route_failed, "Every gateway address of the route failed."),
                          "failed");
  }

  void on_out_answered(OutCall& call, const sip::CallAnswered& a) {
    if (call.cancelled) return;
    metrics->call_set_up(Clock::now() - call.dialed_at);
    const bool audio = a.media.kind != sip::MediaKind::kT38;
    if (audio && !call.plan.audio_allowed) {
      // We offered T.38 alone and the far end answered with something else.
      remember_t38_failure(call);
      (void)agent->hang_up(a.call);
      finish_outbound_error(call, Error(Code::k_call_media_refused, "The far end did not answer with T.38."),
                            "failed");
      return;
    }
    CallMedia::Options o;
    o.local_address = settings.media_address;
    o.port = call.local_port;
    o.t38_port = audio ? call.t38_port : 0;
    o.session.direction = fax::Direction::kSend;
    o.session.calling_party = true;
    o.session.tiff_path = call.tiff_path;
    // A document of unknown length is not held in memory.
    o.session.decode_ahead = call.call.page_count && *call.call.page_count <= settings.decode_ahead_pages;
    o.session.local_ident = call.identity.tsid;
    o.session.call_id = "job" + std::to_string(call.call.job_id);
    o.reinvite_on_tone = call.plan.reinvite_on_tone;
    o.owns_call_id = true;
    o.audio_redundancy = settings.audio_redundancy;  // we offered RED when this is > 0
    o.on_tone = tone_poster(a.call);
    call.media = std::make_unique<CallMedia>(std::move(o));
    // Registered before the media starts: the far end may re-INVITE on our first CNG.
    if (audio && call.plan.accept_remote_t38 && call.t38_port != 0) reinvite_answers.allow(a.call, call.t38_port);
    if (auto r = call.media->start(a.media, *runtime); !r) {
      call.media.reset();
      (void)agent->hang_up(a.call);
      finish_outbound_error(call, r.error(), "failed");  // forgets the re-INVITE answer too
      return;
    }
    if (call.media->redundant()) ++audio_redundancy_calls;
    log::info("gateway.answered", {{"job", call.call.job_id},
                                   {"media", sip::media_kind_name(a.media.kind)},
                                   {"red", red_label(*call.media, a.media)},
                                   {"address", a.media.address + ":" + std::to_string(a.media.port)}});
    call.diag.media_started(std::string(sip::media_kind_name(a.media.kind)) + " " + a.media.address + ":" +
                            std::to_string(a.media.port) +
                            (call.media->redundant() ? " red/" + std::to_string(a.media.red_payload_type) : ""));
  }

  // T.38 failed in negotiation with the number of this call: its next calls go out on G.711
  // (when the route and the settings allow G.711 at all).
  void remember_t38_failure(const OutCall& call) {
    auto r = pool.transact([&](db::Tx& tx) { return db::remote_capabilities::mark_t38_failed(tx, call.call.dial_number); });
    if (!r) log::write_error(log::Level::kWarn, "gateway.remember_failed", r.error(), {{"job", call.call.job_id}});
    else log::info("gateway.t38_failed_remembered", {{"job", call.call.job_id}, {"number", call.call.dial_number}});
  }

  // The channel's tone callback (worker thread): posts to the control thread.
  std::function<void(int)> tone_poster(sip::CallId id) {
    return [this, id](int) { post([this, id] { on_tone(id); }); };
  }

  CallMedia* media_of(sip::CallId id) {
    if (auto it = out_by_sip.find(id); it != out_by_sip.end()) return it->second->media.get();
    if (auto it = in_by_sip.find(id); it != in_by_sip.end()) return it->second->media.get();
    return nullptr;
  }

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
    OutCall* out = nullptr;
    if (auto it = out_by_sip.find(id); it != out_by_sip.end()) out = it->second;
    switch (outcome) {
      case CallMedia::Outcome::kSwitched:
        reinvite_answers.forget(id);
        ++t38_switches;
        break;
      case CallMedia::Outcome::kT38Refused:
        // The plan allowed audio (the call is on it): the fax carries on over G.711.
        if (out != nullptr) remember_t38_failure(*out);
        break;
      case CallMedia::Outcome::kHangUp:
        if (CallMedia* m = media_of(id); m != nullptr && channel_alive(*m)) m->channel()->request_hangup();
        (void)agent->hang_up(id);
        break;
      case CallMedia::Outcome::kNone:
        break;
    }
  }

  static bool channel_alive(const CallMedia& m) { return m.channel() && !m.channel()->finished(); }

  // The gateway.answered log field: "off", or RED's payload type and depth.
  static std::string red_label(const CallMedia& m, const sip::NegotiatedMedia& remote) {
    if (!m.redundant()) return "off";
    return std::to_string(remote.red_payload_type) + " x" + std::to_string(m.channel()->options().audio_redundancy);
  }

  void on_out_failed(OutCall& call, const sip::CallFailed& f) {
    call.diag.add_dialog(call.targets[call.next_target - 1], f.trace);
    out_by_sip.erase(f.call);
    call.sip_call.reset();
    call.sip_status = f.sip_status;
    if (call.cancelled) {
      close_outbound(call, cancelled_end(call));
      return;
    }
    if (f.failure.try_next_address && call.next_target < call.targets.size()) {
      log::info("gateway.route_failover", {{"job", call.call.job_id}, {"status", f.sip_status}});
      metrics->route_failover();
      place_next(call);
      return;
    }
    if (call.plan.offer == FirstOffer::kT38 && !f.local && is_t38_offer_refused(f.sip_status)) {
      remember_t38_failure(call);
    }
    std::string outcome = "failed";
    switch (f.failure.code) {
      case Code::k_call_busy: outcome = "busy"; break;
      case Code::k_call_no_answer: outcome = "no_answer"; break;
      case Code::k_call_invalid_number:
      case Code::k_call_not_authorised:
      case Code::k_call_rejected: outcome = "rejected"; break;
      default: break;
    }
    finish_outbound_error(call, f.error, outcome);
  }

  void on_out_ended(OutCall& call, const sip::CallEnded& e) {
    call.sip_ended = true;
    // The receiver usually hangs up as soon as it has our DCN: give the session a second of
    // media time to end on its own before the hang-up counts as a dropped call.
    if (call.channel() && !call.channel()->finished() && !call.cancelled) call.channel()->request_hangup(kByeGraceTicks);
    if (!call.channel() && e.reason != sip::EndReason::kFailed) {
      // Ended before media ran (hung up during set-up, or cancelled).
      if (call.cancelled) {
        close_outbound(call, cancelled_end(call));
      } else {
        finish_outbound_error(call, Error(Code::k_call_interrupted, "The call ended before the fax started."),
                              "failed");
      }
    }
  }

  db::AttemptEnd cancelled_end(const OutCall& call) {
    db::AttemptEnd end;
    end.outcome = "cancelled";
    if (call.media && call.media->kind()) end.media = std::string(media_column(*call.media->kind()));
    end.sip_status = call.sip_status;
    end.phase_reached = phase_letter(call.max_phase, false);
    end.error_code = std::string(code_name(Code::k_call_cancelled));
    end.retryable = false;
    if (call.channel() && call.channel()->finished()) end.pages_sent = call.channel()->result().pages;
    return end;
  }

  void finish_outbound_error(OutCall& call, const Error& error, const std::string& outcome) {
    log::write_error(log::Level::kInfo, "gateway.call_failed", error, {{"job", call.call.job_id}, {"outcome", outcome}});
    db::AttemptEnd end;
    end.outcome = outcome;
    end.sip_status = call.sip_status;
    end.phase_reached = phase_letter(call.max_phase, false);
    end.error_code = std::string(error.name());
    end.retryable = fax::is_retryable(error.code);  // the job may be tried again (busy and no answer too)
    close_outbound(call, end);
  }

  void finish_outbound_fax(OutCall& call) {
    const fax::FaxResult& r = call.channel()->result();
    db::AttemptEnd end;
    if (call.cancelled) {
      end = cancelled_end(call);
    } else {
      end.outcome = r.success ? "sent" : (r.pages > 0 ? "partially_sent" : "failed");
      end.media = std::string(media_column(*call.media->kind()));
      end.sip_status = call.sip_status.value_or(200);
      if (!r.success && r.error) {
        end.error_code = std::string(r.error->name());
        end.retryable = r.retryable;
      }
    }
    end.t30_code = r.t30_code;
    end.t30_text = r.t30_text;
    end.pages_sent = r.pages;
    end.bit_rate = r.bit_rate;
    end.ecm = r.ecm_used;
    end.remote_station_id = r.remote_ident;
    end.phase_reached = phase_letter(call.max_phase, r.success);
    close_outbound(call, end);
  }

  // Every attempt closes through here: the address used, the outcome counted, and for
  // a failed call its SIP dialogs and first media events (CallDiagnostics).
  void attach_diagnostics(OutCall& call, db::AttemptEnd& end) {
    if (call.next_target > 0) end.gateway_address = call.targets[call.next_target - 1];
    metrics->call_finished("outbound", end.outcome);
    if (end.outcome == "sent") return;
    if (call.sip_call && end.gateway_address) {
      if (auto t = agent->trace(*call.sip_call); t) call.diag.add_dialog(*end.gateway_address, std::move(*t));
    }
    if (call.channel() && call.channel()->finished()) {
      call.diag.media_ended(call.channel()->stats(), call.channel()->result().t30_text);
    }
    if (!end.diagnostics_json && !call.diag.empty()) end.diagnostics_json = call.diag.json();
  }

  void close_outbound(OutCall& call, db::AttemptEnd end) {
    attach_diagnostics(call, end);
    if (call.sip_call) {
      if (!call.sip_ended) (void)agent->hang_up(*call.sip_call);
      out_by_sip.erase(*call.sip_call);
      reinvite_answers.forget(*call.sip_call);
    }
    if (call.media) t38_reinvites += static_cast<std::uint64_t>(call.media->reinvites_sent());
    auto closed = pool.transact([&](db::Tx& tx) { return db::outbound::close(tx, call.call, settings.instance, end); });
    if (!closed) {
      log::write_error(log::Level::kError, "gateway.close_failed", closed.error(), {{"job", call.call.job_id}});
    } else if (!*closed) {
      log::warn("gateway.lease_lost", {{"job", call.call.job_id}});
    } else {
      (void)bus::announce_work(publisher, router::kResultsStage, call.call.attempt_id);
      log::info("gateway.attempt_closed", {{"job", call.call.job_id}, {"outcome", end.outcome}, {"pages", end.pages_sent}});
    }
    ++outbound_closed;
    if (!call.tiff_path.empty()) {
      std::error_code ec;
      std::filesystem::remove(call.tiff_path, ec);
    }
    if (call.local_port) release_port(call.local_port);
    if (call.t38_port) release_port(call.t38_port);
    for (auto it = outbound.begin(); it != outbound.end(); ++it) {
      if (it->get() == &call) {
        outbound.erase(it);
        break;
      }
    }
    outbound_active = static_cast<int>(outbound.size());
  }

  void cancel_job(std::int64_t job_id) {
    for (auto& c : outbound) {
      if (c->call.job_id != job_id) continue;
      log::info("gateway.cancel", {{"job", job_id}});
      c->cancelled = true;
      if (c->channel()) {
        c->channel()->request_hangup();
        if (c->sip_call && !c->sip_ended) (void)agent->hang_up(*c->sip_call);
        c->sip_ended = true;
      } else if (c->sip_call) {
        (void)agent->hang_up(*c->sip_call);  // CANCEL; on_failed or on_ended closes it
      } else {
        close_outbound(*c, cancelled_end(*c));
      }
      return;
    }
  }

  // ---- inbound ---------------------------------------------------------------------
  void on_incoming(const sip::IncomingCall& in) {
    struct Owner {
      bool found = false;
      bool disable_t38 = false;
    };
    auto owner = pool.transact([&](db::Tx& tx) -> Result<Owner> {
      Owner o;
      for (const std::string& n : {in.called_number, in.request_user}) {
        auto u = db::users::by_fax_number(tx, n);
        if (!u) return u.error();
        if (*u && !(*u)->disabled) o.found = true;
        auto g = db::groups::by_fax_number(tx, n);
        if (!g) return g.error();
        if (*g) o.found = true;
        if (o.found) break;
      }
      // Read per call: settings changes apply to the next call without a restart.
      auto s = db::settings::load(tx);
      if (!s) return s.error();
      o.disable_t38 = s->get_bool("sip.disable_t38_incoming");
      return o;
    });
    if (!owner) {
      log::write_error(log::Level::kWarn, "gateway.inbound_lookup_failed", owner.error());
      (void)agent->refuse(in.call, 503);
      return;
    }
    if (!owner->found) {
      log::info("gateway.inbound_refused", {{"number", in.called_number}, {"status", 404}});
      (void)agent->refuse(in.call, 404);
      return;
    }
    if (free_channels() <= 0) {
      log::info("gateway.inbound_refused", {{"number", in.called_number}, {"status", 486}, {"reason", "no free channel"}});
      (void)agent->refuse(in.call, 486);
      record_refused_inbound(in, Code::k_call_busy);
      return;
    }
    const auto t38 = sip::select_media(in.offer, /*prefer_t38=*/true);
    const auto audio = sip::select_media(in.offer, /*prefer_t38=*/false);
    InboundMediaInput mi;
    mi.disable_t38 = owner->disable_t38;
    mi.offered_t38 = t38 && t38->kind == sip::MediaKind::kT38;
    mi.offered_audio = audio && audio->kind != sip::MediaKind::kT38;
    const InboundMediaPlan plan = decide_inbound(mi);
    if (plan.answer == InboundAnswer::kRefuse) {
      log::info("gateway.inbound_refused", {{"number", in.called_number}, {"status", plan.refuse_status},
                                            {"reason", plan.refuse_reason}});
      (void)agent->refuse(in.call, plan.refuse_status, plan.refuse_reason);
      record_refused_inbound(in, Code::k_call_media_refused);
      return;
    }
    const sip::NegotiatedMedia& remote = plan.answer == InboundAnswer::kT38 ? *t38 : *audio;
    auto ic = std::make_unique<InCall>();
    ic->info = in;
    ic->local_port = reserve_media_port();
    const bool may_switch = plan.reinvite_on_tone || plan.accept_remote_t38;
    if (ic->local_port != 0 && plan.answer == InboundAnswer::kAudio && may_switch) {
      ic->t38_port = reserve_media_port();
      if (ic->t38_port == 0) {
        release_port(ic->local_port);
        ic->local_port = 0;
      }
    }
    if (ic->local_port == 0) {
      log::warn("gateway.media_port_failed", {{"number", in.called_number}});
      (void)agent->refuse(in.call, 503);
      return;
    }
    ic->tiff_path = spool_path("rx");
    CallMedia::Options o;
    o.local_address = settings.media_address;
    o.port = ic->local_port;
    o.t38_port = ic->t38_port;
    o.session.direction = fax::Direction::kReceive;
    o.session.calling_party = false;
    o.session.tiff_path = ic->tiff_path;
    o.session.local_ident = receiving_ident(in.called_number, settings.local_ident);
    o.session.call_id = "in" + std::to_string(in.call);
    o.reinvite_on_tone = plan.reinvite_on_tone;
    o.owns_call_id = false;
    // RED only when the caller offered it and we answer it (below).
    o.audio_redundancy = remote.red_payload_type >= 0 ? settings.audio_redundancy : 0;
    o.red_receive_payload_type = remote.red_payload_type;  // our answer keeps the caller's number
    o.on_tone = tone_poster(in.call);
    ic->media = std::make_unique<CallMedia>(std::move(o));
    sip::MediaOffer answer;
    if (plan.answer == InboundAnswer::kT38) {
      answer.t38 = t38_stream(ic->local_port, remote.t38_attributes);
    } else {
      // RED under the caller's own payload type (RFC 3264 section 6.1), when offered.
      answer.audio = audio_stream(ic->local_port, remote.red_payload_type >= 0 ? settings.audio_redundancy : 0,
                                  remote.red_payload_type);
      // Answer with the one codec we will run (RFC 3264 section 6.1 allows a subset).
      answer.audio->pcma = remote.kind == sip::MediaKind::kPcma;
      answer.audio->pcmu = remote.kind == sip::MediaKind::kPcmu;
    }
    answer.address = settings.media_address;
    // Registered before the answer: the caller may re-INVITE as soon as it has our 200.
    if (plan.accept_remote_t38 && ic->t38_port != 0) reinvite_answers.allow(in.call, ic->t38_port);
    auto release = [&] {
      reinvite_answers.forget(in.call);
      release_port(ic->local_port);
      if (ic->t38_port) release_port(ic->t38_port);
    };
    if (auto a = agent->answer(in.call, answer); !a) {
      release();
      log::write_error(log::Level::kWarn, "gateway.answer_failed", a.error());
      return;
    }
    if (auto r = ic->media->start(remote, *runtime); !r) {
      log::write_error(log::Level::kError, "gateway.media_failed", r.error());
      (void)agent->hang_up(in.call);
      release();
      return;
    }
    if (ic->media->redundant()) ++audio_redundancy_calls;
    log::info("gateway.inbound_answered", {{"number", in.called_number}, {"caller", in.caller_id},
                                           {"media", sip::media_kind_name(remote.kind)},
                                           {"red", red_label(*ic->media, remote)}});
    in_by_sip[in.call] = ic.get();
    inbound.push_back(std::move(ic));
    inbound_active = static_cast<int>(inbound.size());
  }

  // A call for a number we serve that we had to refuse (no free channel, media we may not
  // take) is a failed incoming call like one that ended without pages: a row with 0 pages
  // and the error code, routed so the recipient hears of it when
  // incoming.notify_failed_calls is on. Calls to numbers nobody owns are only logged.
  void record_refused_inbound(const sip::IncomingCall& in, Code code) {
    auto id = pool.transact([&](db::Tx& tx) -> Result<std::int64_t> {
      db::ReceivedFax f;
      f.call_id = settings.instance + "-" + std::to_string(in.call);
      f.gateway_instance = settings.instance;
      f.caller_number = in.caller_id;
      f.called_number = in.called_number;
      f.pages = 0;
      f.error_code = std::string(code_name(code));
      return db::received::create(tx, f);
    });
    if (!id) {
      log::write_error(log::Level::kError, "gateway.inbound_store_failed", id.error());
      return;
    }
    (void)bus::announce_work(publisher, router::kInboundStage, *id);
    log::info("gateway.refused_call_recorded", {{"id", *id}, {"number", in.called_number}, {"code", code_name(code)}});
  }

  void finish_inbound(InCall& call) {
    if (!call.sip_ended) (void)agent->hang_up(call.info.call);
    in_by_sip.erase(call.info.call);
    reinvite_answers.forget(call.info.call);
    t38_reinvites += static_cast<std::uint64_t>(call.media->reinvites_sent());
    const fax::FaxResult& r = call.channel()->result();
    metrics->call_finished("inbound", r.success ? "received" : "failed");
    std::optional<std::string> bytes;
    if (r.pages > 0) {
      auto b = read_file(call.tiff_path);
      if (b) bytes = std::move(*b);
      else log::write_error(log::Level::kError, "gateway.inbound_file", b.error());
    }
    auto id = pool.transact([&](db::Tx& tx) -> Result<std::int64_t> {
      db::ReceivedFax f;
      f.call_id = settings.instance + "-" + std::to_string(call.info.call);
      f.gateway_instance = settings.instance;
      f.caller_number = call.info.caller_id;
      f.called_number = call.info.called_number;
      f.remote_station_id = r.remote_ident;
      f.pages = r.pages;
      f.media = std::string(media_column(*call.media->kind()));
      f.bit_rate = r.bit_rate;
      f.ecm = r.ecm_used;
      f.resolution = std::string(fax::resolution_name(r.resolution));
      f.t30_code = r.t30_code;
      f.t30_text = r.t30_text;
      if (!r.success && r.error) f.error_code = std::string(r.error->name());
      if (bytes) {
        db::Document d;
        d.kind = "received_tiff";
        d.media_type = "image/tiff";
        d.filename = "fax-" + f.call_id + ".tiff";
        d.page_count = r.pages;
        d.bytes = *bytes;
        auto doc = db::documents::put(tx, std::move(d));
        if (!doc) return doc.error();
        f.tiff_document_id = doc->id;
      }
      return db::received::create(tx, f);
    });
    if (!id) {
      log::write_error(log::Level::kError, "gateway.inbound_store_failed", id.error());
    } else {
      (void)bus::announce_work(publisher, router::kInboundStage, *id);
      ++inbound_stored;
      log::info("gateway.fax_received", {{"id", *id}, {"pages", r.pages}, {"number", call.info.called_number}});
    }
    std::error_code ec;
    std::filesystem::remove(call.tiff_path, ec);
    release_port(call.local_port);
    if (call.t38_port) release_port(call.t38_port);
    for (auto it = inbound.begin(); it != inbound.end(); ++it) {
      if (it->get() == &call) {
        inbound.erase(it);
        break;
      }
    }
    inbound_active = static_cast<int>(inbound.size());
  }

  // ---- channels --------------------------------------------------------------------
  void poll_channels() {
    const auto now = Clock::now();
    std::vector<OutCall*> done_out;
    for (auto& c : outbound) {
      if (c->channel()) {
        const auto p = c->channel()->progress();
        c->diag.observe(p);
        // kFinished says the session ended, not how far it got: a call that fails in
        // negotiation must not read as phase C (maybe delivered).
        if (p.phase != fax::Phase::kFinished && static_cast<int>(p.phase) > static_cast<int>(c->max_phase)) {
          c->max_phase = p.phase;
        }
        if (p.pages_done > c->pages_reported) {  // live progress for status pages
          c->pages_reported = p.pages_done;
          const auto letter = phase_letter(c->max_phase, false);
          auto r = pool.transact([&](db::Tx& tx) {
            return db::outbound::record_progress(tx, c->call.attempt_id, p.pages_done, letter);
          });
          if (r && *r) ++progress_updates;
        }
        if (!c->marked_sending && p.phase == fax::Phase::kTransferring) {
          c->marked_sending = true;
          (void)pool.transact([&](db::Tx& tx) { return db::outbound::mark_sending(tx, c->call.job_id, settings.instance); });
        }
        if (c->channel()->finished()) done_out.push_back(c.get());
        if (c->sip_call) c->media->poll(now, *agent, *c->sip_call);
      }
      if (now - c->renewed > settings.lease / 3) {
        c->renewed = now;
        (void)pool.transact([&](db::Tx& tx) { return db::outbound::renew(tx, c->call.job_id, settings.instance, settings.lease); });
      }
    }
    for (auto* c : done_out) finish_outbound_fax(*c);
    std::vector<InCall*> done_in;
    for (auto& c : inbound) {
      if (c->channel()->finished()) done_in.push_back(c.get());
      c->media->poll(now, *agent, c->info.call);
    }
    for (auto* c : done_in) finish_inbound(*c);
  }

  // ---- SIP callbacks (agent thread: post only) ---------------------------------------
  sip::Handlers handlers() {
    sip::Handlers h;
    h.on_answered = [this](const sip::CallAnswered& a) {
      post([this, a] {
        if (auto it = out_by_sip.find(a.call); it != out_by_sip.end()) {
          on_out_answered(*it->second, a);
        } else if (in_by_sip.count(a.call) == 0) {
          // An outbound call answered after we gave up on it (a 200 crossing our CANCEL).
          // (Inbound calls we answered are reported here too: those are in in_by_sip.)
          (void)agent->hang_up(a.call);
        }
      });
    };
    h.on_failed = [this](const sip::CallFailed& f) {
      post([this, f] {
        if (auto it = out_by_sip.find(f.call); it != out_by_sip.end()) on_out_failed(*it->second, f);
      });
    };
    h.on_ended = [this](const sip::CallEnded& e) {
      post([this, e] {
        if (auto it = out_by_sip.find(e.call); it != out_by_sip.end()) {
          on_out_ended(*it->second, e);
        } else if (auto in = in_by_sip.find(e.call); in != in_by_sip.end()) {
          in->second->sip_ended = true;
          if (!in->second->channel()->finished()) in->second->channel()->request_hangup(kByeGraceTicks);
        } else if (e.reason == sip::EndReason::kRefused) {
          metrics->call_finished("inbound", "refused");
        }
      });
    };
    h.on_registration = [this](const sip::RegistrationState& r) { metrics->registration(r.registered); };
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
      post([this, in] { on_incoming(in); });
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
  fax::RuntimeOptions ro;
  ro.threads = impl->settings.media_threads;
  ro.realtime_priority = impl->settings.media_realtime_priority;
  ro.pace = impl->settings.pace;
  ro.metrics = impl->settings.metrics;  // channels active, results, tick lateness
  auto rt = fax::ChannelRuntime::create(ro);
  if (!rt) return std::move(rt).error();
  impl->runtime = std::move(*rt);
  if (impl->settings.sip.media_address.empty()) impl->settings.sip.media_address = impl->settings.media_address;
  auto agent = sip::UserAgent::start(impl->settings.sip, impl->handlers());
  if (!agent) return std::move(agent).error();
  impl->agent = std::move(*agent);
  impl->metrics = std::make_unique<GatewayMetrics>(impl->settings.metrics, impl->settings.channels);
  if (impl->settings.registration) {
    if (auto r = impl->agent->register_account(*impl->settings.registration); !r) return r.error();
  }
  sip::UserAgent* ua = impl->agent.get();
  impl->health = std::make_unique<HealthMonitor>(
      pool, [ua](const std::vector<std::string>& targets) { return ua->monitor(targets); },
      impl->settings.routes_refresh);
  impl->subscriber = std::make_unique<bus::Subscriber>(
      impl->subscribe_endpoint,
      std::vector<std::string>{bus::topics::cancel_topic(impl->settings.instance),
                               bus::topics::work_topic(router::kQueuedStage)});
  Impl* p = impl.get();
  impl->bus_thread = std::thread([p] { p->bus_loop(); });
  impl->control_thread = std::thread([p] { p->control_loop(); });
  log::info("gateway.started", {{"instance", p->settings.instance}, {"sip_port", p->settings.sip.port}});
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Gateway::~Gateway() {
  impl_->stop = true;
  impl_->cv.notify_all();
  if (impl_->control_thread.joinable()) impl_->control_thread.join();
  if (impl_->bus_thread.joinable()) impl_->bus_thread.join();
  // The agent hangs up what is still up without callbacks; the runtime drops its channels.
  impl_->agent.reset();
  impl_->runtime.reset();
  for (auto& c : impl_->outbound) {
    std::error_code ec;
    std::filesystem::remove(c->tiff_path, ec);
  }
  for (auto& c : impl_->inbound) {
    std::error_code ec;
    std::filesystem::remove(c->tiff_path, ec);
  }
}

GatewayStats Gateway::stats() const {
  return {impl_->outbound_active.load(), impl_->inbound_active.load(), impl_->outbound_closed.load(),
          impl_->inbound_stored.load(), impl_->t38_reinvites.load(), impl_->t38_switches.load(),
          impl_->progress_updates.load(), impl_->audio_redundancy_calls.load()};
}

bool Gateway::connected() const { return impl_->subscriber && impl_->subscriber->connected(); }

const GatewaySettings& Gateway::settings() const { return impl_->settings; }

}  // namespace faxbridge::gateway
