#include "outbound_calls.hpp"

#include <filesystem>
#include <fstream>

#include "faxbridge/core/log.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/fax/link.hpp"

namespace faxbridge::gateway {

namespace {

constexpr std::int64_t kByeGraceTicks = 50;  // 1 s of media time

Result<void> write_spool(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) return Error(Code::k_io_failed, "Cannot write the document to the spool.").with("path", path);
  return ok();
}

}  // namespace

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

OutboundCalls::~OutboundCalls() {
  // Calls still up are left to the router (their leases expire): their documents go.
  for (auto& c : calls_) {
    std::error_code ec;
    std::filesystem::remove(c->spool_file, ec);
  }
}

CallMedia* OutboundCalls::media_of(sip::CallId id) {
  auto it = by_sip_.find(id);
  return it == by_sip_.end() ? nullptr : it->second->media.get();
}

OutboundCalls::Call* OutboundCalls::find_job(std::int64_t job_id) {
  for (auto& c : calls_) {
    if (c->call.job_id == job_id) return c.get();
  }
  return nullptr;
}

// ---- claim ---------------------------------------------------------------------------

void OutboundCalls::claim() {
  if (claim_in_flight_) return;
  const int free = ctx_.free_channels();
  if (free <= 0) return;
  const GatewaySettings& s = ctx_.settings;
  auto work = [this, free, &s](db::Pool& pool) {
    std::vector<Prepared> prepared;
    auto claimed = pool.transact([&](db::Tx& tx) -> Result<std::vector<db::outbound::Call>> {
      auto snap = db::settings::load(tx);
      if (!snap) return snap.error();
      const int max_out = static_cast<int>(snap->get_int("fax.max_concurrent_outgoing"));
      return db::outbound::claim_calls(tx, s.instance, free, max_out, s.lease);
    });
    if (!claimed) log::write_error(log::Level::kWarn, "gateway.claim_failed", claimed.error());
    for (const auto& c : claimed ? *claimed : std::vector<db::outbound::Call>{}) {
      Prepared p;
      p.call = c;
      p.spool_file = s.spool_dir + "/gw-" + s.instance + "-job" + std::to_string(c.job_id) + "-a" +
                     std::to_string(c.attempt_id) + ".tiff";
      std::string bytes;
      auto read = pool.transact([&](db::Tx& tx) -> Result<void> {
        if (!c.pages_document_id) return Error(Code::k_fax_file_error, "The job has no pages document.");
        auto doc = db::documents::get(tx, *c.pages_document_id);
        if (!doc) return doc.error();
        bytes = std::move(doc->bytes);
        // The router decided where this call goes (routing is one way).
        p.targets = c.gateway_addresses;
        if (p.targets.empty()) {
          return Error(Code::k_route_no_gateway, "Neither the route nor the default route has a gateway address to dial.");
        }
        // Read per call: settings changes apply to the next call without a restart.
        auto snap = db::settings::load(tx);
        if (!snap) return snap.error();
        p.media.route_policy = parse_t38_policy(c.t38_policy).value_or(T38Policy::kAuto);
        p.media.allow_g711 = snap->get_bool("sip.allow_g711_outgoing");
        auto prefers = db::remote_capabilities::prefers_g711(tx, c.dial_number,
                                                             static_cast<int>(snap->get_int("sip.g711_memory_days")));
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
        p.identity = caller_identity(snap->get_string("company.tsid"), sender_fax, snap->get_string("company.fax"),
                                     s.local_ident);
        return ok();
      });
      if (read) read = write_spool(p.spool_file, bytes);
      if (!read) p.error = read.error();
      prepared.push_back(std::move(p));
    }
    ctx_.post([this, prepared = std::move(prepared)]() mutable { on_claimed(std::move(prepared)); });
  };
  if (!ctx_.store.request(Lane::kBackground, std::move(work))) return;  // the store is saturated: next round
  claim_in_flight_ = true;
}

void OutboundCalls::on_claimed(std::vector<Prepared> prepared) {
  claim_in_flight_ = false;
  for (auto& p : prepared) start(std::move(p));
}

void OutboundCalls::start(Prepared p) {
  auto owned = std::make_unique<Call>();
  Call& call = *owned;
  call.call = p.call;
  call.spool_file = std::move(p.spool_file);
  call.lease_confirmed = Clock::now();  // the claim committed just now
  call.next_renewal = call.lease_confirmed + ctx_.settings.lease / 3;
  calls_.push_back(std::move(owned));
  ctx_.counters.outbound_active = active();
  log::info("gateway.call_claimed", {{"job", call.call.job_id}, {"attempt", call.call.attempt_id},
                                     {"number", call.call.dial_number}});
  if (p.error) {
    finish_error(call, *p.error, db::Outcome::kFailed);
    return;
  }
  call.targets = ctx_.health.order(p.targets);  // addresses known down go last
  call.plan = decide_outbound(p.media);
  call.identity = std::move(p.identity);
  log::info("gateway.media_plan", {{"job", call.call.job_id},
                                   {"offer", call.plan.offer == FirstOffer::kT38 ? "t38" : "audio"},
                                   {"why", call.plan.why}});
  const bool may_switch = call.plan.reinvite_on_tone || call.plan.accept_remote_t38;
  auto ports = ctx_.ports.reserve_call(call.plan.offer == FirstOffer::kAudio && may_switch);
  if (!ports) {
    finish_error(call, Error(Code::k_fax_transport_failed, "No free media port."), db::Outcome::kFailed);
    return;
  }
  call.ports = *ports;
  place_next(call);
}

// ---- SIP -----------------------------------------------------------------------------

void OutboundCalls::place_next(Call& call) {
  const GatewaySettings& s = ctx_.settings;
  while (call.next_target < call.targets.size()) {
    sip::CallRequest req;
    req.target = call.targets[call.next_target++];
    req.number = call.call.dial_number;
    req.caller_number = call.identity.from_user;
    req.credentials = s.credentials;
    if (call.plan.offer == FirstOffer::kT38) {
      req.offer.t38 = t38_stream(call.ports.media);
    } else {
      req.offer.audio = audio_stream(call.ports.media, s.audio_redundancy);
    }
    req.offer.address = s.media_address;
    auto id = ctx_.agent.place_call(req);
    if (!id) {
      log::write_error(log::Level::kWarn, "gateway.place_call_failed", id.error(), {{"target", req.target}});
      continue;
    }
    call.sip_call = *id;
    call.dialed_at = Clock::now();
    by_sip_[*id] = &call;
    log::info("gateway.dialing", {{"job", call.call.job_id}, {"target", req.target}});
    return;
  }
  finish_error(call, Error(Code::k_call_route_failed, "Every gateway address of the route failed."),
               db::Outcome::kFailed);
}

void OutboundCalls::on_answered(const sip::CallAnswered& a) {
  Call& call = *by_sip_.at(a.call);
  if (call.cancelled || call.lease_lost) return;
  const GatewaySettings& s = ctx_.settings;
  ctx_.metrics.call_set_up(Clock::now() - call.dialed_at);
  const bool audio = a.media.kind != sip::MediaKind::kT38;
  if (audio && !call.plan.audio_allowed) {
    // We offered T.38 alone and the far end answered with something else.
    remember_t38_failure(call);
    (void)ctx_.agent.hang_up(a.call);
    finish_error(call, Error(Code::k_call_media_refused, "The far end did not answer with T.38."),
                 db::Outcome::kFailed);
    return;
  }
  CallMedia::Options o;
  o.local_address = s.media_address;
  o.port = call.ports.media;
  o.t38_port = audio ? call.ports.t38 : 0;
  o.session.direction = fax::Direction::kSend;
  o.session.calling_party = true;
  o.session.tiff_path = call.spool_file;
  // A document of unknown length is not held in memory.
  o.session.decode_ahead = call.call.page_count && *call.call.page_count <= s.decode_ahead_pages;
  o.session.local_ident = call.identity.tsid;
  o.session.call_id = "job" + std::to_string(call.call.job_id);
  o.reinvite_on_tone = call.plan.reinvite_on_tone;
  o.owns_call_id = true;
  o.audio_redundancy = s.audio_redundancy;  // we offered RED when this is > 0
  o.on_tone = tone_poster(ctx_, a.call);
  call.media = std::make_unique<CallMedia>(std::move(o));
  // Registered before the media starts: the far end may re-INVITE on our first CNG.
  if (audio && call.plan.accept_remote_t38 && call.ports.t38 != 0) ctx_.reinvite_answers.allow(a.call, call.ports.t38);
  if (auto r = call.media->start(a.media, ctx_.runtime); !r) {
    call.media.reset();
    (void)ctx_.agent.hang_up(a.call);
    finish_error(call, r.error(), db::Outcome::kFailed);  // forgets the re-INVITE answer too
    return;
  }
  if (call.media->redundant()) ++ctx_.counters.audio_redundancy_calls;
  log::info("gateway.answered", {{"job", call.call.job_id},
                                 {"media", sip::media_kind_name(a.media.kind)},
                                 {"red", red_label(*call.media, a.media)},
                                 {"address", a.media.address + ":" + std::to_string(a.media.port)}});
  call.diag.media_started(std::string(sip::media_kind_name(a.media.kind)) + " " + a.media.address + ":" +
                          std::to_string(a.media.port) +
                          (call.media->redundant() ? " red/" + std::to_string(a.media.red_payload_type) : ""));
}

void OutboundCalls::on_failed(const sip::CallFailed& f) {
  Call& call = *by_sip_.at(f.call);
  call.diag.add_dialog(call.targets[call.next_target - 1], f.trace);
  by_sip_.erase(f.call);
  call.sip_call.reset();
  call.sip_status = f.sip_status;
  if (call.cancelled) {
    close(call, cancelled_end(call));
    return;
  }
  if (call.lease_lost) {
    finish_error(call, Error(Code::k_queue_lease_lost, "The job's lease was lost; the call was stopped."),
                 db::Outcome::kInterrupted);
    return;
  }
  if (f.failure.try_next_address && call.next_target < call.targets.size()) {
    log::info("gateway.route_failover", {{"job", call.call.job_id}, {"status", f.sip_status}});
    ctx_.metrics.route_failover();
    place_next(call);
    return;
  }
  if (call.plan.offer == FirstOffer::kT38 && !f.local && is_t38_offer_refused(f.sip_status)) {
    remember_t38_failure(call);
  }
  db::Outcome outcome = db::Outcome::kFailed;
  switch (f.failure.code) {
    case Code::k_call_busy: outcome = db::Outcome::kBusy; break;
    case Code::k_call_no_answer: outcome = db::Outcome::kNoAnswer; break;
    case Code::k_call_invalid_number:
    case Code::k_call_not_authorised:
    case Code::k_call_rejected: outcome = db::Outcome::kRejected; break;
    default: break;
  }
  finish_error(call, f.error, outcome);
}

void OutboundCalls::on_ended(const sip::CallEnded& e) {
  Call& call = *by_sip_.at(e.call);
  call.sip_ended = true;
  // The receiver usually hangs up as soon as it has our DCN: give the session a second of
  // media time to end on its own before the hang-up counts as a dropped call.
  if (call.channel() && !call.channel()->finished() && !call.cancelled && !call.lease_lost) {
    call.channel()->request_hangup(kByeGraceTicks);
  }
  if (!call.channel() && e.reason != sip::EndReason::kFailed) {
    // Ended before media ran (hung up during set-up, or cancelled).
    if (call.cancelled) {
      close(call, cancelled_end(call));
    } else if (call.lease_lost) {
      finish_error(call, Error(Code::k_queue_lease_lost, "The job's lease was lost; the call was stopped."),
                   db::Outcome::kInterrupted);
    } else {
      finish_error(call, Error(Code::k_call_interrupted, "The call ended before the fax started."),
                   db::Outcome::kFailed);
    }
  }
}

void OutboundCalls::on_t38_refused(sip::CallId id) {
  if (auto it = by_sip_.find(id); it != by_sip_.end()) remember_t38_failure(*it->second);
}

// T.38 failed in negotiation with the number of this call: its next calls go out on G.711
// (when the route and the settings allow G.711 at all). Best effort: a lost note costs
// one more T.38 try on the next call.
void OutboundCalls::remember_t38_failure(const Call& call) {
  const std::int64_t job = call.call.job_id;
  const std::string number = call.call.dial_number;
  (void)ctx_.store.request(Lane::kBackground, [job, number](db::Pool& pool) {
    auto r = pool.transact([&](db::Tx& tx) { return db::remote_capabilities::mark_t38_failed(tx, number); });
    if (!r) log::write_error(log::Level::kWarn, "gateway.remember_failed", r.error(), {{"job", job}});
    else log::info("gateway.t38_failed_remembered", {{"job", job}, {"number", number}});
  });
}

void OutboundCalls::cancel(std::int64_t job_id) {
  Call* c = find_job(job_id);
  if (c == nullptr) return;
  log::info("gateway.cancel", {{"job", job_id}});
  c->cancelled = true;
  if (c->channel()) {
    c->channel()->request_hangup();
    if (c->sip_call && !c->sip_ended) (void)ctx_.agent.hang_up(*c->sip_call);
    c->sip_ended = true;
  } else if (c->sip_call) {
    (void)ctx_.agent.hang_up(*c->sip_call);  // CANCEL; on_failed or on_ended closes it
  } else {
    close(*c, cancelled_end(*c));
  }
}

// ---- lease ---------------------------------------------------------------------------

void OutboundCalls::renew(Call& call, Clock::time_point now) {
  call.next_renewal = now + ctx_.settings.lease / 3;
  if (call.renewal_in_flight) return;
  const std::int64_t job = call.call.job_id;
  const GatewaySettings& s = ctx_.settings;
  const bool queued = ctx_.store.request(Lane::kLease, [this, job, now, &s](db::Pool& pool) {
    auto held = pool.transact([&](db::Tx& tx) { return db::outbound::renew(tx, job, s.instance, s.lease); });
    ctx_.post([this, job, now, held = std::move(held)] { on_renewed(job, now, held); });
  });
  call.renewal_in_flight = queued;
}

void OutboundCalls::on_renewed(std::int64_t job_id, Clock::time_point asked_at, const Result<bool>& held) {
  Call* call = find_job(job_id);
  if (call == nullptr) return;  // the call ended meanwhile
  call->renewal_in_flight = false;
  if (!held) {
    // Not known: the lease may still be ours; poll() ends the call if it runs out first.
    log::write_error(log::Level::kWarn, "gateway.renew_failed", held.error(), {{"job", job_id}});
    return;
  }
  if (*held) {
    call->lease_confirmed = std::max(call->lease_confirmed, asked_at);
    return;
  }
  end_for_lost_lease(*call, "another instance holds the job");
}

void OutboundCalls::end_for_lost_lease(Call& call, const std::string& why) {
  if (call.lease_lost || call.closed) return;
  call.lease_lost = true;
  log::warn("gateway.lease_lost_during_call", {{"job", call.call.job_id}, {"why", why}});
  if (call.channel() && !call.channel()->finished()) call.channel()->request_hangup();
  if (call.sip_call && !call.sip_ended) {
    (void)ctx_.agent.hang_up(*call.sip_call);
    if (call.channel()) call.sip_ended = true;  // BYE sent; without a channel on_failed/on_ended closes it
  } else if (!call.sip_call) {
    finish_error(call, Error(Code::k_queue_lease_lost, "The job's lease was lost; the call was stopped."),
                 db::Outcome::kInterrupted);
  }
}

// ---- closing -------------------------------------------------------------------------

db::AttemptEnd OutboundCalls::cancelled_end(const Call& call) const {
  db::AttemptEnd end;
  end.outcome = db::Outcome::kCancelled;
  if (call.media && call.media->kind()) end.media = std::string(media_column(*call.media->kind()));
  end.sip_status = call.sip_status;
  end.phase_reached = phase_letter(call.max_phase, false);
  end.error_code = std::string(code_name(Code::k_call_cancelled));
  end.retryable = false;
  if (call.channel() && call.channel()->finished()) end.pages_sent = call.channel()->result().pages;
  return end;
}

void OutboundCalls::finish_error(Call& call, const Error& error, db::Outcome outcome) {
  log::write_error(log::Level::kInfo, "gateway.call_failed", error,
                   {{"job", call.call.job_id}, {"outcome", db::outcome_name(outcome)}});
  db::AttemptEnd end;
  end.outcome = outcome;
  end.sip_status = call.sip_status;
  end.phase_reached = phase_letter(call.max_phase, false);
  end.error_code = std::string(error.name());
  end.retryable = fax::is_retryable(error.code);  // the job may be tried again (busy and no answer too)
  if (call.channel() && call.channel()->finished()) end.pages_sent = call.channel()->result().pages;
  close(call, end);
}

void OutboundCalls::finish_fax(Call& call) {
  if (call.lease_lost) {
    finish_error(call, Error(Code::k_queue_lease_lost, "The job's lease was lost; the call was stopped."),
                 db::Outcome::kInterrupted);
    return;
  }
  const fax::FaxResult& r = call.channel()->result();
  db::AttemptEnd end;
  if (call.cancelled) {
    end = cancelled_end(call);
  } else {
    end.outcome = r.success ? db::Outcome::kSent : (r.pages > 0 ? db::Outcome::kPartiallySent : db::Outcome::kFailed);
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
  close(call, end);
}

// Every attempt closes through here: the address used, the outcome counted, and for a
// failed call its SIP dialogs and first media events (CallDiagnostics).
void OutboundCalls::attach_diagnostics(Call& call, db::AttemptEnd& end) {
  if (call.next_target > 0) end.gateway_address = call.targets[call.next_target - 1];
  ctx_.metrics.call_finished("outbound", std::string(db::outcome_name(end.outcome)));
  if (end.outcome == db::Outcome::kSent) return;
  if (call.sip_call && end.gateway_address) {
    if (auto t = ctx_.agent.trace(*call.sip_call); t) call.diag.add_dialog(*end.gateway_address, std::move(*t));
  }
  if (call.channel() && call.channel()->finished()) {
    call.diag.media_ended(call.channel()->stats(), call.channel()->result().t30_text);
  }
  if (!end.diagnostics_json && !call.diag.empty()) end.diagnostics_json = call.diag.json();
}

void OutboundCalls::close(Call& call, db::AttemptEnd end) {
  if (call.closed) return;
  call.closed = true;
  attach_diagnostics(call, end);
  if (call.sip_call) {
    if (!call.sip_ended) (void)ctx_.agent.hang_up(*call.sip_call);
    by_sip_.erase(*call.sip_call);
    ctx_.reinvite_answers.forget(*call.sip_call);
  }
  if (call.media) ctx_.counters.t38_reinvites += static_cast<std::uint64_t>(call.media->reinvites_sent());
  // Durable from here: the store writes it until it commits, then removes the document.
  ctx_.store.close_attempt(call.call, ctx_.settings.instance, end, call.spool_file);
  ctx_.ports.release(call.ports);
  for (auto it = calls_.begin(); it != calls_.end(); ++it) {
    if (it->get() == &call) {
      calls_.erase(it);
      break;
    }
  }
  ctx_.counters.outbound_active = active();
}

// ---- polling -------------------------------------------------------------------------

void OutboundCalls::poll(Clock::time_point now) {
  std::vector<Call*> done;
  std::vector<Call*> lapsed;
  for (auto& c : calls_) {
    if (c->channel()) {
      const auto p = c->channel()->progress();
      c->diag.observe(p);
      // kFinished says the session ended, not how far it got: a call that fails in
      // negotiation must not read as phase C (maybe delivered).
      if (p.phase != fax::Phase::kFinished && static_cast<int>(p.phase) > static_cast<int>(c->max_phase)) {
        c->max_phase = p.phase;
      }
      // Phase C first, then the pages: the store writes facts in this order.
      if (!c->marked_sending && p.phase == fax::Phase::kTransferring) {
        c->marked_sending = true;  // a journalled fact: written until it commits
        ctx_.store.mark_sending(c->call, ctx_.settings.instance);
      }
      if (p.pages_done > c->pages_reported) {  // live progress for status pages
        c->pages_reported = p.pages_done;
        ctx_.store.record_progress(c->call, p.pages_done, phase_letter(c->max_phase, false));
      }
      if (c->channel()->finished()) done.push_back(c.get());
      else if (c->sip_call) c->media->poll(now, ctx_.agent, *c->sip_call);
    }
    if (now >= c->next_renewal) renew(*c, now);
    // Unconfirmed for the lease's length: another instance may be allowed to take the job.
    if (!c->lease_lost && now - c->lease_confirmed >= ctx_.settings.lease) lapsed.push_back(c.get());
  }
  for (auto* c : lapsed) end_for_lost_lease(*c, "the lease could not be renewed in time");
  for (auto* c : done) finish_fax(*c);
}

}  // namespace faxbridge::gateway
