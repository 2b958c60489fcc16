// DESIGN: every stage is a db::Queue (claim with a lease) driven by a bus::Consumer
// and fed by a bus::WorkFeed; the handler takes its decision from policy.hpp and writes
// it in one transaction: the job's state (checked against the expected state and this
// instance's lease), its event row, the receipts and alerts it causes. Bus messages go
// out only after the commit. Settings are a snapshot reloaded when their version moves
// (checked every tick), so an administrator's change applies without a restart.
#include "faxbridge/router/router.hpp"

#include <nlohmann/json.hpp>

#include "faxbridge/bus.pb.h"
#include "faxbridge/bus/topics.hpp"
#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/queue.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/references.hpp"
#include "faxbridge/db/routes.hpp"
#include "faxbridge/db/states.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/db/webhooks.hpp"
#include "faxbridge/router/policy.hpp"

namespace faxbridge::router {

struct Router::Stage {
  db::Queue queue;
  bus::Consumer consumer;
  bus::WorkFeed feed;
  Stage(db::Pool& pool, db::QueueSpec spec, const std::string& owner, bus::ConsumerSettings cs, bus::Handler h,
        const std::string& endpoint, const std::string& topic)
      : queue(pool, spec, owner), consumer(queue, cs, std::move(h)), feed(endpoint, topic, consumer, cs.metrics) {}
};

namespace {

bus::ConsumerSettings consumer_settings(const RouterSettings& s, const std::string& name, std::chrono::milliseconds lease) {
  bus::ConsumerSettings cs;
  cs.name = name;
  cs.workers = s.workers;
  // Each row is one short transaction: claiming a few ahead saves a claim commit per row.
  cs.prefetch = s.workers;
  cs.sweep_interval = s.sweep_interval;
  cs.lease = lease;
  cs.retry_delay = std::chrono::seconds(5);
  cs.metrics = s.metrics;
  return cs;
}

Error lease_lost() { return Error(Code::k_queue_lease_lost, "Another router instance took this row over."); }

// A notification row in the caller's transaction; returns its id for the announcement.
Result<std::int64_t> notify(db::Tx& tx, const std::string& kind, const std::string& recipient,
                            std::optional<std::int64_t> job_id, std::optional<std::int64_t> fax_id,
                            std::optional<std::int64_t> user_id, const nlohmann::json& payload) {
  db::NewNotification n;
  n.kind = kind;
  n.channel = "email";
  n.recipient = recipient;
  n.job_id = job_id;
  n.received_fax_id = fax_id;
  n.user_id = user_id;
  n.payload_json = payload.dump();
  return db::notifications::enqueue(tx, n);
}

// The webhook rows of a job's new state (db::webhook_events), in the caller's transaction.
Result<void> job_webhooks(db::Tx& tx, std::int64_t job_id, const std::string& state, std::vector<std::int64_t>& notes) {
  const std::string event = state == "retry_wait" ? "fax.retry_scheduled" : db::webhook_events::event_for_job_state(state);
  if (event.empty()) return ok();
  auto ids = db::webhook_events::for_job(tx, event, job_id);
  if (!ids) return ids.error();
  notes.insert(notes.end(), ids->begin(), ids->end());
  return ok();
}

nlohmann::json error_json(const std::optional<Error>& e, const std::optional<Category>& c, bool retryable) {
  if (!e) return nullptr;
  return {{"code", std::string(e->name())},
          {"message", e->message},
          {"category", c ? std::string(category_name(*c)) : "internal"},
          {"retryable", retryable}};
}

}  // namespace

Router::Router(db::Pool& pool, bus::Publisher& publisher, std::string subscribe_endpoint, RouterSettings settings)
    : pool_(pool), publisher_(publisher), subscribe_endpoint_(std::move(subscribe_endpoint)), settings_(std::move(settings)) {
  using namespace std::placeholders;
  routing_ = std::make_unique<Stage>(pool_, db::routing::routing_queue(), settings_.instance,
                                     consumer_settings(settings_, "routing", db::routing::routing_queue().lease),
                                     std::bind(&Router::route_job, this, _1, _2), subscribe_endpoint_, kReadyStage);
  results_ = std::make_unique<Stage>(pool_, db::routing::results_queue(), settings_.instance,
                                     consumer_settings(settings_, "results", db::routing::results_queue().lease),
                                     std::bind(&Router::apply_result, this, _1, _2), subscribe_endpoint_, kResultsStage);
  inbound_ = std::make_unique<Stage>(pool_, db::inbound_routing_queue(), settings_.instance,
                                     consumer_settings(settings_, "inbound", db::inbound_routing_queue().lease),
                                     std::bind(&Router::route_inbound, this, _1, _2), subscribe_endpoint_, kInboundStage);
}

Router::~Router() { stop(); }

void Router::start() {
  if (auto r = reload_settings_if_changed(); !r) log::write_error(log::Level::kWarn, "router.settings_failed", r.error());
  stop_ = false;
  for (Stage* s : {routing_.get(), results_.get(), inbound_.get()}) {
    s->consumer.start();
    s->feed.start();
  }
  tick_thread_ = std::thread(&Router::tick_loop, this);
}

void Router::stop() {
  if (stop_.exchange(true)) return;
  if (tick_thread_.joinable()) tick_thread_.join();
  for (Stage* s : {routing_.get(), results_.get(), inbound_.get()}) {
    s->feed.stop();
    s->consumer.stop();
  }
}

bool Router::connected() const {
  return routing_->feed.connected() && results_->feed.connected() && inbound_->feed.connected();
}

std::shared_ptr<const db::SettingsSnapshot> Router::settings() {
  std::lock_guard lock(settings_mutex_);
  // Before the first load (the database was down at start) the catalog defaults apply.
  if (!snapshot_) {
    auto defaults = std::make_shared<db::SettingsSnapshot>();
    for (const auto& spec : db::setting_catalog()) defaults->values[spec.key] = spec.default_json;
    defaults->version = -1;
    snapshot_ = defaults;
  }
  return snapshot_;
}

Result<void> Router::reload_settings_if_changed() {
  auto version = pool_.transact([](db::Tx& tx) { return db::settings::version(tx); });
  if (!version) return version.error();
  {
    std::lock_guard lock(settings_mutex_);
    if (snapshot_ && snapshot_->version == *version) return ok();
  }
  auto snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
  if (!snap) return snap.error();
  std::lock_guard lock(settings_mutex_);
  snapshot_ = std::make_shared<db::SettingsSnapshot>(std::move(*snap));
  log::info("router.settings_loaded", {{"version", snapshot_->version}});
  return ok();
}

void Router::announce(const std::string& stage, std::int64_t id) {
  // After the commit; a lost message is found by the consumers' sweep.
  if (auto r = bus::announce_work(publisher_, stage, id); !r) {
    log::debug("router.announce_failed", {{"stage", stage}, {"id", id}});
  }
}

void Router::publish_state(std::int64_t job_id, const std::string& from, const std::string& to,
                           const std::optional<Error>& error) {
  bus::v1::JobStateChanged m;
  m.set_job_id(job_id);
  m.set_from_state(from);
  m.set_to_state(to);
  if (error) m.set_error_code(std::string(error->name()));
  // The job.state log line is db::transition's, written when the move committed.
  (void)publisher_.publish(bus::topics::kJobState, m);
}

// ready -> routing (claimed) -> queued, or failed when the sender may not send or no
// route exists.
Result<void> Router::route_job(const Claim& c, const bus::LeaseToken&) {
  const auto snap = settings();
  std::string to;
  std::optional<Error> failure;
  std::vector<std::int64_t> notes;
  auto r = pool_.transact([&](db::Tx& tx) -> Result<void> {
    notes.clear();
    auto input = db::routing::load_for_routing(tx, c.id);
    if (!input) return input.error();
    const db::routing::JobForRouting* job = &input->job;
    db::routing::Transition t{"routing", "queued", std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                              std::chrono::seconds(0), settings_.instance, settings_.instance};
    RoutingFacts facts;
    facts.cancel_requested = job->cancel_requested;
    facts.recipient = job->recipient_canonical;
    if (job->sender_user_id) {
      auto u = db::users::get(tx, *job->sender_user_id);
      if (u) facts.sender = *u;
    }
    const auto& route = input->route;
    if (route && !facts.cancel_requested) {
      facts.route_found = true;
      // A gateway falls back on the default route's addresses.
      facts.gateway_addresses = static_cast<std::size_t>(route->addresses + route->fallback_addresses);
    }
    const RoutingDecision decision = decide_routing(facts);
    const std::optional<db::User>& sender = facts.sender;
    t.to = std::string(db::state_name(decision.next));
    t.error = decision.error;
    if (decision.category) t.category = std::string(category_name(*decision.category));
    if (decision.error) t.retryable = false;
    const bool queued = decision.next == db::JobState::kQueued;
    if (decision.tell_sender_refused) {
      auto n = notify(tx, "send_refused", sender->email, c.id, std::nullopt, sender->id,
                      {{"error", error_json(t.error, decision.category, false)}, {"subject", job->subject}});
      if (!n) return n.error();
      notes.push_back(*n);
    }
    if (decision.alert_admin) {
      const auto admin = snap->get_string("company.admin_email");
      if (!admin.empty()) {
        auto n = notify(tx, "admin_alert", admin, c.id, std::nullopt, std::nullopt,
                        {{"error", error_json(t.error, decision.category, false)}});
        if (!n) return n.error();
        notes.push_back(*n);
      }
    }
    std::string dial = job->recipient_canonical;
    if (queued) {
      auto parsed = normalize_phone(job->recipient_canonical);
      if (parsed) dial = dial_number(*parsed, DialSettings::from(*snap));
    }
    // The job got its reference number when it was created (db::references).
    const std::string reference = job->reference.value_or("");
    t.set_route = true;
    if (queued) {
      t.route_id = route->route_id;
      t.gateway_addresses = route->gateway_addresses;  // the gateway dials these, in order
      t.t38_policy = route->t38_policy;
    }
    t.dial_number = dial;
    auto moved = db::routing::move(tx, c.id, t);
    if (!moved) return moved.error();
    if (!*moved) return lease_lost();
    if (auto w = job_webhooks(tx, c.id, t.to, notes); !w) return w;
    if (decision.next == db::JobState::kFailed && sender && snap->get_bool("receipts.return_enabled") &&
        !sender->email.empty() && !decision.tell_sender_refused) {
      auto n = notify(tx, "failure_receipt", sender->email, c.id, std::nullopt, sender->id,
                      {{"reference", reference}, {"error", error_json(t.error, Category::kPolicy, false)}});
      if (!n) return n.error();
      notes.push_back(*n);
    }
    if (decision.next == db::JobState::kQueued && sender && snap->get_bool("receipts.enqueued_enabled") &&
        !sender->email.empty()) {
      auto n = notify(tx, "enqueued_receipt", sender->email, c.id, std::nullopt, sender->id,
                      {{"reference", reference}, {"recipient", job->recipient_canonical}});
      if (!n) return n.error();
      notes.push_back(*n);
    }
    to = t.to;
    failure = t.error;
    return ok();
  });
  if (!r) return r;
  publish_state(c.id, "ready", to, failure);
  if (to == "queued") announce(kQueuedStage, c.id);
  for (auto id : notes) announce(kNotificationsStage, id);
  return ok();
}

// A closed attempt -> the job's next state (policy::decide), with the receipts.
Result<void> Router::apply_result(const Claim& c, const bus::LeaseToken&) {
  const auto snap = settings();
  std::string from, to;
  std::int64_t job_id = 0;
  std::optional<Error> failure;
  std::vector<std::int64_t> notes;
  db::Queue& attempts = results_->queue;
  auto r = pool_.transact([&](db::Tx& tx) -> Result<void> {
    notes.clear();
    auto input = db::routing::load_result(tx, c.id);
    if (!input) return input.error();
    const db::routing::ClosedAttempt* a = &input->attempt;
    const db::routing::JobForRouting* job = &input->job;
    job_id = a->job_id;
    from = job->state;
    const auto state = db::parse_job_state(from);
    if (state != db::JobState::kDialing && state != db::JobState::kSending) {
      // Applied already (a result replayed after a crash): nothing more to do.
      auto done = attempts.finish(tx, c.id, "applied");
      if (!done) return done.error();
      to = from;
      return *done ? ok() : Result<void>(lease_lost());
    }
    CallReport report;
    report.outcome = a->outcome;
    report.error_code = a->error_code;
    report.pages_sent = a->pages_sent;
    report.page_count = job->page_count;
    report.sip_status = a->sip_status;
    report.phase_reached = a->phase_reached;
    Decision d = decide(report, job->attempts, RetrySettings::from(*snap),
                        JobOverrides{job->max_attempts, job->retry_interval_s});
    if (job->cancel_requested && !d.final()) {
      d.next_state = "cancelled";
      d.error = Error(Code::k_call_cancelled, "The fax was cancelled.");
      d.category = Category::kPolicy;
    }
    db::routing::Transition t{from, d.next_state, d.error,
                              d.category ? std::optional<std::string>(std::string(category_name(*d.category)))
                                         : std::nullopt,
                              d.error ? std::optional<bool>(d.retryable) : std::nullopt, a->pages_sent, d.retry_after,
                              settings_.instance, std::nullopt};
    auto moved = db::routing::move(tx, job->id, t);
    if (!moved) return moved.error();
    if (!*moved) return Error(Code::k_db_conflict, "The job moved while its result was applied.");
    if (auto w = job_webhooks(tx, job->id, d.next_state, notes); !w) return w;
    if (d.final() && d.next_state != "cancelled" && snap->get_bool("receipts.return_enabled") && job->sender_user_id) {
      auto u = db::users::get(tx, *job->sender_user_id);
      if (u && !u->email.empty()) {
        auto n = notify(tx, d.next_state == "sent" ? "return_receipt" : "failure_receipt", u->email, job->id,
                        std::nullopt, u->id,
                        {{"reference", job->reference.value_or("")},
                         {"state", d.next_state},
                         {"pages_sent", a->pages_sent},
                         {"page_count", job->page_count ? nlohmann::json(*job->page_count) : nlohmann::json()},
                         {"attempts", job->attempts},
                         {"sip_status", a->sip_status ? nlohmann::json(*a->sip_status) : nlohmann::json()},
                         {"t30_code", a->t30_code ? nlohmann::json(*a->t30_code) : nlohmann::json()},
                         {"error", error_json(d.error, d.category, d.retryable)}});
        if (!n) return n.error();
        notes.push_back(*n);
      }
    }
    auto done = attempts.finish(tx, c.id, "applied");
    if (!done) return done.error();
    if (!*done) return lease_lost();
    to = d.next_state;
    failure = d.error;
    return ok();
  });
  if (!r) return r;
  if (from != to) publish_state(job_id, from, to, failure);
  for (auto id : notes) announce(kNotificationsStage, id);
  return ok();
}

// A received fax -> inbox entries and fax-to-email notifications (seed: users, groups,
// default user, unknown numbers).
Result<void> Router::route_inbound(const Claim& c, const bus::LeaseToken&) {
  const auto snap = settings();
  std::vector<std::int64_t> delivered, notes;
  db::Queue& inbound = inbound_->queue;
  auto r = pool_.transact([&](db::Tx& tx) -> Result<void> {
    delivered.clear();
    notes.clear();
    auto fax = db::received::get(tx, c.id);
    if (!fax) return fax.error();
    // A received fax gets its number here, once: the router is its first stage.
    std::optional<std::string> reference;
    if (fax->reference.empty()) {
      auto ref = db::references::next(tx, utc_year(SystemClock::instance().now()));
      if (!ref) return ref.error();
      reference = ref->str();
    }
    // The facts policy::decide_inbound needs; it decides who gets the fax.
    InboundFacts facts;
    facts.called_number = fax->called_number;
    facts.pages = fax->pages;
    facts.refuse_unknown = snap->get_string("incoming.unknown_number") == "refuse";
    facts.notify_failed_calls = snap->get_bool("incoming.notify_failed_calls");
    auto owner = db::users::by_fax_number(tx, fax->called_number);
    if (!owner) return owner.error();
    facts.owner = *owner;
    if (!facts.owner) {
      auto group = db::groups::by_fax_number(tx, fax->called_number);
      if (!group) return group.error();
      if (*group) {
        facts.group_id = (*group)->id;
        auto members = db::groups::members(tx, (*group)->id);
        if (!members) return members.error();
        for (auto uid : *members) {
          auto u = db::users::get(tx, uid);
          if (u) facts.group_members.push_back(*u);
        }
      }
    }
    if (const auto name = snap->get_string("incoming.default_user"); !name.empty()) {
      auto u = db::users::by_username(tx, name);
      if (u) facts.default_user = *u;
    }
    const InboundDecision decision = decide_inbound(facts);
    std::optional<std::string> error_code;
    const std::string to = decision.failed ? "failed" : "routed";
    if (decision.tell_owner_failed_call) {
      auto n = notify(tx, "failed_incoming_call", facts.owner->email, std::nullopt, c.id, facts.owner->id,
                      {{"caller", fax->caller_number}, {"called", fax->called_number},
                       {"error_code", fax->error_code.value_or("")}});
      if (!n) return n.error();
      notes.push_back(*n);
    }
    if (decision.error) error_code = std::string(decision.error->name());
    if (decision.alert_admin) {
      const auto admin = snap->get_string("company.admin_email");
      if (!admin.empty()) {
        auto n = notify(tx, "admin_alert", admin, std::nullopt, c.id, std::nullopt,
                        {{"error", {{"code", std::string(decision.error->name())}, {"message", decision.error->message}}}});
        if (!n) return n.error();
        notes.push_back(*n);
      }
    }
    const std::string format = snap->get_string("incoming.attachment_format");
    for (const auto& [user, group] : decision.recipients) {
      auto d = db::inbox::deliver(tx, c.id, user.id, group);
      if (!d) return d.error();
      delivered.push_back(user.id);
      const std::string address = user.fax_to_email_address.empty() ? user.email : user.fax_to_email_address;
      if (user.enable_fax_to_email && !address.empty()) {
        auto n = notify(tx, "fax_to_email", address, std::nullopt, c.id, user.id,
                        {{"attach", user.attach_fax}, {"format", format}, {"language", user.language}});
        if (!n) return n.error();
        notes.push_back(*n);
      }
    }
    if (auto a = db::received::annotate(tx, c.id, reference, error_code); !a) return a;
    // After the inbox entries: a user's endpoint gets the faxes in that user's inbox.
    auto hooks = db::webhook_events::for_received_fax(tx, decision.failed ? "fax.receive_failed" : "fax.received", c.id);
    if (!hooks) return hooks.error();
    notes.insert(notes.end(), hooks->begin(), hooks->end());
    auto done = inbound.finish(tx, c.id, to);
    if (!done) return done.error();
    return *done ? ok() : Result<void>(lease_lost());
  });
  if (!r) return r;
  bus::v1::InboxDelivered m;
  m.set_received_fax_id(c.id);
  for (auto u : delivered) m.add_user_ids(u);
  (void)publisher_.publish(bus::topics::kInboxDelivered, m);
  for (auto id : notes) announce(kNotificationsStage, id);
  return ok();
}

Result<int> Router::tick() {
  if (auto s = reload_settings_if_changed(); !s) return s.error();
  auto due = pool_.transact([&](db::Tx& tx) { return db::routing::requeue_due(tx, settings_.batch, settings_.instance); });
  if (!due) return due.error();
  for (auto id : *due) {
    publish_state(id, "retry_wait", "queued", std::nullopt);
    announce(kQueuedStage, id);
  }
  auto abandoned = pool_.transact([&](db::Tx& tx) { return db::routing::interrupt_abandoned_calls(tx, settings_.batch); });
  if (!abandoned) return abandoned.error();
  for (auto id : *abandoned) {
    log::warn("router.call_interrupted", {{"attempt", id}});
    announce(kResultsStage, id);
  }
  int moved = static_cast<int>(due->size() + abandoned->size());
  if (std::chrono::steady_clock::now() >= next_retention_) {
    next_retention_ = std::chrono::steady_clock::now() + settings_.retention_every;
    auto gone = run_retention();
    if (!gone) return gone.error();
    moved += *gone;
  }
  return moved;
}

Result<int> Router::run_retention() {
  const auto snap = settings();
  const int fax_days = static_cast<int>(snap->get_int("retention.fax_days"));
  const int cdr_days = static_cast<int>(snap->get_int("retention.cdr_days"));
  int total = 0;
  // Batches keep each transaction short; loop until a batch comes back short.
  for (;;) {
    auto n = pool_.transact([&](db::Tx& tx) { return db::routing::delete_faxes_older_than(tx, fax_days, settings_.batch); });
    if (!n) return n.error();
    total += *n;
    if (*n < settings_.batch) break;
  }
  for (;;) {
    auto n = pool_.transact([&](db::Tx& tx) { return db::routing::delete_cdrs_older_than(tx, cdr_days, settings_.batch); });
    if (!n) return n.error();
    total += *n;
    if (*n < settings_.batch) break;
  }
  if (total > 0) log::info("router.retention", {{"deleted", total}, {"fax_days", fax_days}, {"cdr_days", cdr_days}});
  return total;
}

void Router::tick_loop() {
  while (!stop_) {
    auto r = tick();
    if (!r) log::write_error(log::Level::kWarn, "router.tick_failed", r.error());
    const auto until = std::chrono::steady_clock::now() + settings_.tick;
    while (!stop_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Result<db::routing::CancelOutcome> cancel_job(db::Pool& pool, bus::Publisher& publisher, std::int64_t job_id,
                                              const std::string& actor) {
  auto r = pool.transact([&](db::Tx& tx) { return db::routing::cancel(tx, job_id, actor); });
  if (!r) return r;
  if (r->result == db::routing::CancelResult::kNotCancellable) {
    return Error(Code::k_job_not_cancellable,
                 "Fax job " + std::to_string(job_id) + " is " + r->state + " and can no longer be cancelled.");
  }
  if (r->gateway) {
    bus::v1::CancelJob m;
    m.set_job_id(job_id);
    m.set_gateway_instance(*r->gateway);
    (void)publisher.publish(bus::topics::cancel_topic(*r->gateway), m);
  }
  log::info("job.cancel", {{"job", job_id}, {"state", r->state},
                           {"result", r->result == db::routing::CancelResult::kCancelled ? "cancelled" : "requested"}});
  return r;
}

}  // namespace faxbridge::router
