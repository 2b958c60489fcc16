#include "inbound_calls.hpp"

#include <filesystem>

#include "faxbridge/core/log.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::gateway {

namespace {

constexpr std::int64_t kByeGraceTicks = 50;  // 1 s of media time

}  // namespace

InboundCalls::InboundCalls(GatewayContext& ctx) : ctx_(ctx) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  boot_token_ = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

InboundCalls::~InboundCalls() {
  for (auto& c : calls_) {
    std::error_code ec;
    std::filesystem::remove(c->tiff_path, ec);
  }
}

CallMedia* InboundCalls::media_of(sip::CallId id) {
  auto it = by_sip_.find(id);
  return it == by_sip_.end() ? nullptr : it->second->media.get();
}

std::string InboundCalls::call_id_for(const sip::IncomingCall& in) const {
  return ctx_.settings.instance + "-" + boot_token_ + "-" + std::to_string(in.call);
}

void InboundCalls::on_incoming(const sip::IncomingCall& in, std::chrono::system_clock::time_point arrived) {
  const bool queued = ctx_.store.request(Lane::kAnswer, [this, in, arrived](db::Pool& pool) {
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
    ctx_.post([this, in, arrived, owner = std::move(owner)] { decide(in, arrived, owner); });
  });
  if (!queued) {
    log::warn("gateway.inbound_refused", {{"number", in.called_number}, {"status", 503}, {"reason", "store saturated"}});
    (void)ctx_.agent.refuse(in.call, 503);
  }
}

void InboundCalls::decide(const sip::IncomingCall& in, std::chrono::system_clock::time_point arrived,
                          const Result<Owner>& owner) {
  const GatewaySettings& s = ctx_.settings;
  if (!owner) {
    log::write_error(log::Level::kWarn, "gateway.inbound_lookup_failed", owner.error());
    (void)ctx_.agent.refuse(in.call, 503);
    return;
  }
  if (!owner->found) {
    log::info("gateway.inbound_refused", {{"number", in.called_number}, {"status", 404}});
    (void)ctx_.agent.refuse(in.call, 404);
    return;
  }
  if (ctx_.free_channels() <= 0) {
    log::info("gateway.inbound_refused", {{"number", in.called_number}, {"status", 486}, {"reason", "no free channel"}});
    (void)ctx_.agent.refuse(in.call, 486);
    record_refused(in, arrived, Code::k_call_busy);
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
    (void)ctx_.agent.refuse(in.call, plan.refuse_status, plan.refuse_reason);
    record_refused(in, arrived, Code::k_call_media_refused);
    return;
  }
  const sip::NegotiatedMedia& remote = plan.answer == InboundAnswer::kT38 ? *t38 : *audio;
  const bool may_switch = plan.reinvite_on_tone || plan.accept_remote_t38;
  auto ports = ctx_.ports.reserve_call(plan.answer == InboundAnswer::kAudio && may_switch);
  if (!ports) {
    log::warn("gateway.media_port_failed", {{"number", in.called_number}});
    (void)ctx_.agent.refuse(in.call, 503);
    return;
  }
  auto ic = std::make_unique<Call>();
  ic->info = in;
  ic->arrived = arrived;
  ic->call_id = call_id_for(in);
  ic->ports = *ports;
  ic->tiff_path = s.spool_dir + "/gw-" + s.instance + "-rx-" + boot_token_ + "-" + std::to_string(in.call) + ".tiff";
  CallMedia::Options o;
  o.local_address = s.media_address;
  o.port = ic->ports.media;
  o.t38_port = ic->ports.t38;
  o.session.direction = fax::Direction::kReceive;
  o.session.calling_party = false;
  o.session.tiff_path = ic->tiff_path;
  o.session.local_ident = receiving_ident(in.called_number, s.local_ident);
  o.session.call_id = "in" + std::to_string(in.call);
  o.reinvite_on_tone = plan.reinvite_on_tone;
  o.owns_call_id = false;
  // RED only when the caller offered it and we answer it (below).
  o.audio_redundancy = remote.red_payload_type >= 0 ? s.audio_redundancy : 0;
  o.red_receive_payload_type = remote.red_payload_type;  // our answer keeps the caller's number
  o.on_tone = tone_poster(ctx_, in.call);
  ic->media = std::make_unique<CallMedia>(std::move(o));
  sip::MediaOffer answer;
  if (plan.answer == InboundAnswer::kT38) {
    answer.t38 = t38_stream(ic->ports.media, sip::T38Role::kAnswer, remote.t38_attributes);
  } else {
    // RED under the caller's own payload type (RFC 3264 section 6.1), when offered.
    answer.audio = audio_stream(ic->ports.media, remote.red_payload_type >= 0 ? s.audio_redundancy : 0,
                                remote.red_payload_type);
    // Answer with the one codec we will run (RFC 3264 section 6.1 allows a subset).
    answer.audio->pcma = remote.kind == sip::MediaKind::kPcma;
    answer.audio->pcmu = remote.kind == sip::MediaKind::kPcmu;
  }
  answer.address = s.media_address;
  // Registered before the answer: the caller may re-INVITE as soon as it has our 200.
  if (plan.accept_remote_t38 && ic->ports.t38 != 0) ctx_.reinvite_answers.allow(in.call, ic->ports.t38);
  auto release = [&] {
    ctx_.reinvite_answers.forget(in.call);
    ctx_.ports.release(ic->ports);
  };
  if (auto a = ctx_.agent.answer(in.call, answer); !a) {
    release();
    log::write_error(log::Level::kWarn, "gateway.answer_failed", a.error());
    return;
  }
  if (auto r = ic->media->start(remote, ctx_.runtime); !r) {
    log::write_error(log::Level::kError, "gateway.media_failed", r.error());
    (void)ctx_.agent.hang_up(in.call);
    release();
    return;
  }
  if (ic->media->redundant()) ++ctx_.counters.audio_redundancy_calls;
  log::info("gateway.inbound_answered", {{"number", in.called_number}, {"caller", in.caller_id},
                                         {"media", sip::media_kind_name(remote.kind)},
                                         {"red", red_label(*ic->media, remote)}});
  by_sip_[in.call] = ic.get();
  calls_.push_back(std::move(ic));
  ctx_.counters.inbound_active = active();
}

// A call for a number we serve that we had to refuse (no free channel, media we may not
// take) is a failed incoming call like one that ended without pages: a row with 0 pages
// and the error code, routed so the recipient hears of it when
// incoming.notify_failed_calls is on. Calls to numbers nobody owns are only logged.
void InboundCalls::record_refused(const sip::IncomingCall& in, std::chrono::system_clock::time_point arrived,
                                  Code code) {
  db::ReceivedFax f;
  f.call_id = call_id_for(in);
  f.gateway_instance = ctx_.settings.instance;
  f.caller_number = in.caller_id;
  f.called_number = in.called_number;
  f.pages = 0;
  f.error_code = std::string(code_name(code));
  f.started_at = arrived;
  f.ended_at = std::chrono::system_clock::now();
  ctx_.store.store_received(f, "");
}

void InboundCalls::on_ended(const sip::CallEnded& e) {
  Call& call = *by_sip_.at(e.call);
  call.sip_ended = true;
  if (!call.channel()->finished()) call.channel()->request_hangup(kByeGraceTicks);
}

void InboundCalls::finish(Call& call) {
  if (!call.sip_ended) (void)ctx_.agent.hang_up(call.info.call);
  by_sip_.erase(call.info.call);
  ctx_.reinvite_answers.forget(call.info.call);
  ctx_.counters.t38_reinvites += static_cast<std::uint64_t>(call.media->reinvites_sent());
  const fax::FaxResult& r = call.channel()->result();
  ctx_.metrics.call_finished("inbound", r.success ? "received" : "failed");
  db::ReceivedFax f;
  f.call_id = call.call_id;
  f.gateway_instance = ctx_.settings.instance;
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
  f.started_at = call.arrived;
  f.ended_at = std::chrono::system_clock::now();
  std::string tiff;
  if (r.pages > 0) {
    // The pages must be on disk before the journal names them.
    if (auto synced = sync_file(call.tiff_path); synced) {
      tiff = call.tiff_path;
    } else {
      log::write_error(log::Level::kError, "gateway.inbound_file", synced.error());
    }
  }
  ctx_.store.store_received(f, tiff);
  if (tiff.empty()) {
    std::error_code ec;
    std::filesystem::remove(call.tiff_path, ec);
  }
  ctx_.ports.release(call.ports);
  for (auto it = calls_.begin(); it != calls_.end(); ++it) {
    if (it->get() == &call) {
      calls_.erase(it);
      break;
    }
  }
  ctx_.counters.inbound_active = active();
}

void InboundCalls::poll(std::chrono::steady_clock::time_point now) {
  std::vector<Call*> done;
  for (auto& c : calls_) {
    if (c->channel()->finished()) done.push_back(c.get());
    else c->media->poll(now, ctx_.agent, c->info.call);
  }
  for (auto* c : done) finish(*c);
}

}  // namespace faxbridge::gateway
