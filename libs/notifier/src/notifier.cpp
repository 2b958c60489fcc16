// The notifier's stage and the delivery of one mail (notifier.hpp).
#include "faxbridge/notifier/notifier.hpp"

#include <nlohmann/json.hpp>

#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/notifications.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/mail/message.hpp"
#include "faxbridge/notifier/smtp_config.hpp"
#include "faxbridge/notifier/templates.hpp"
#include "mail_content.hpp"
#include "session_pool.hpp"

namespace faxbridge::notifier {

struct Notifier::Stage {
  db::Queue queue;
  bus::Consumer consumer;
  bus::WorkFeed feed;
  Stage(db::Pool& pool, const std::string& owner, bus::ConsumerSettings cs, bus::Handler h, const std::string& endpoint)
      : queue(pool, db::notification_queue(), owner),
        consumer(queue, cs, std::move(h)),
        feed(endpoint, queue.spec().stage(), consumer, cs.metrics) {}
};

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

std::string domain_of(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? std::string("faxbridge.invalid") : address.substr(at + 1);
}

std::string session_key(const mail::SmtpSettings& s) {
  return s.host + "\n" + std::to_string(s.port) + "\n" + tls_mode_name(s.tls) + "\n" +
         (s.verify_certificate ? "v" : "-") + "\n" + s.ca_file + "\n" + s.pinned_sha256 + "\n" + s.username + "\n" +
         s.password + "\n" + std::to_string(s.timeout.count());
}

milliseconds age_of(TimePoint created) {
  return std::chrono::duration_cast<milliseconds>(SystemClock::instance().now() - created);
}

Result<void> lease_lost_is_fine(Result<bool> r) {
  if (!r) return r.error();
  // false: another notifier holds the row now and decides its outcome.
  return ok();
}

}  // namespace

Notifier::Notifier(db::Pool& pool, bus::Publisher& publisher, std::string subscribe_endpoint, NotifierSettings settings)
    : pool_(pool),
      publisher_(publisher),
      subscribe_endpoint_(std::move(subscribe_endpoint)),
      settings_(std::move(settings)),
      sessions_(std::make_unique<SessionPool>()) {
  bus::ConsumerSettings cs;
  cs.name = "notifications";
  cs.workers = settings_.workers;
  cs.sweep_interval = settings_.sweep_interval;
  cs.lease = db::notification_queue().lease;
  cs.retry_delay = std::chrono::seconds(10);
  cs.metrics = settings_.metrics;
  stage_ = std::make_unique<Stage>(pool_, settings_.instance, cs,
                                   [this](const Claim& c, const bus::LeaseToken& l) { return handle(c, l); },
                                   subscribe_endpoint_);
  if (settings_.metrics) {
    auto& m = *settings_.metrics;
    const char* help = "Notifications by the outcome of a try";
    sent_ = &m.counter("faxbridge_notifications_total", help, {{"outcome", "sent"}});
    retried_ = &m.counter("faxbridge_notifications_total", help, {{"outcome", "retry"}});
    failed_ = &m.counter("faxbridge_notifications_total", help, {{"outcome", "failed"}});
    suppressed_ = &m.counter("faxbridge_notifications_total", help, {{"outcome", "suppressed"}});
  }
}

Notifier::~Notifier() { stop(); }

void Notifier::start() {
  stage_->consumer.start();
  stage_->feed.start();
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = false;
  }
  watch_thread_ = std::thread(&Notifier::watch_loop, this);
}

void Notifier::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (watch_thread_.joinable()) watch_thread_.join();
  stage_->feed.stop();
  stage_->consumer.stop();
  sessions_->close_all();
}

bool Notifier::connected() const { return stage_->feed.connected(); }

db::Queue& Notifier::queue() { return stage_->queue; }

void Notifier::announce(std::int64_t id) {
  if (auto r = bus::announce_work(publisher_, db::notification_queue().stage(), id); !r) {
    log::debug("notifier.announce_failed", {{"id", id}});
  }
}

std::shared_ptr<const db::SettingsSnapshot> Notifier::settings() {
  auto version = pool_.transact([](db::Tx& tx) { return db::settings::version(tx); });
  {
    std::lock_guard lock(settings_mutex_);
    if (snapshot_ && (!version || snapshot_->version == *version)) return snapshot_;
  }
  auto snap = pool_.transact([](db::Tx& tx) { return db::settings::load(tx); });
  std::lock_guard lock(settings_mutex_);
  if (snap) {
    snapshot_ = std::make_shared<db::SettingsSnapshot>(std::move(*snap));
  } else if (!snapshot_) {
    return nullptr;
  }
  return snapshot_;
}

void Notifier::watch_loop() {
  std::unique_lock lock(stop_mutex_);
  while (!stop_cv_.wait_for(lock, settings_.watch_interval, [&] { return stopping_; })) {
    lock.unlock();
    if (auto r = watch_once(); !r) log::write_error(log::Level::kWarn, "notifier.watch_failed", r.error());
    lock.lock();
  }
}

Result<int> Notifier::watch_once() {
  auto snap = settings();
  if (!snap) return Error(Code::k_db_unavailable, "The settings could not be read.");
  const auto admin = snap->get_string("company.admin_email");
  if (admin.empty()) return 0;  // nobody to tell
  const auto interval = std::chrono::minutes(std::max<std::int64_t>(1, snap->get_int("notifications.admin_alert_interval_min")));
  std::vector<std::int64_t> written;
  auto r = pool_.transact([&](db::Tx& tx) -> Result<void> {
    written.clear();
    auto facts = db::notifications::health_facts(tx);
    if (!facts) return facts.error();
    WatchFacts f;
    f.queued_due = static_cast<long>(facts->queued_due);
    f.oldest_queued_due_s = facts->oldest_queued_due_s;
    f.since_last_attempt_s = facts->since_last_attempt_s;
    f.conversions_failed_last_hour = static_cast<long>(facts->conversions_failed_last_hour);
    f.gateways_down = facts->gateways_down;
    f.longest_gateway_down_s = facts->longest_gateway_down_s;
    for (const auto& alert : watch_alerts(f, settings_.watch)) {
      auto seen = db::notifications::alert_written_since(tx, alert.cause,
                                                         std::chrono::duration_cast<std::chrono::seconds>(interval));
      if (!seen) return seen.error();
      if (*seen) continue;
      db::NewNotification n;
      n.kind = "admin_alert";
      n.channel = "email";
      n.recipient = admin;
      n.payload_json = json{{"cause", alert.cause}, {"error", {{"code", alert.cause}, {"message", alert.message}}}}.dump();
      auto id = db::notifications::enqueue(tx, n);
      if (!id) return id.error();
      written.push_back(*id);
    }
    return ok();
  });
  if (!r) return r.error();
  for (auto id : written) {
    log::info("notifier.watch_alert", {{"id", id}});
    announce(id);
  }
  return static_cast<int>(written.size());
}

Result<void> Notifier::handle(const Claim& claim, const bus::LeaseToken& lease) {
  auto channel = pool_.transact([&](db::Tx& tx) -> Result<std::string> {
    auto row = db::notifications::get(tx, claim.id);
    if (!row) return row.error();
    return row->channel;
  });
  if (!channel) return channel.error();
  if (*channel == "webhook") {
    if (settings_.webhook) return settings_.webhook(claim, lease);
    return Error(Code::k_notification_not_configured, "This notifier delivers no webhooks.");
  }
  return deliver_mail(claim.id, lease);
}

Result<void> Notifier::record_failure(std::int64_t id, const Error& error) {
  auto snap = settings();
  if (!snap) return Error(Code::k_db_unavailable, "The settings could not be read.");
  RetryPolicy policy = settings_.retry;
  if (settings_.window_from_settings) {
    if (const auto h = snap->get_int("notifications.retry_hours"); h > 0) policy.window = std::chrono::hours(h);
  }
  std::optional<std::int64_t> alert_id;
  bool retried = false;
  auto r = pool_.transact([&](db::Tx& tx) -> Result<void> {
    alert_id.reset();
    auto row = db::notifications::get(tx, id);
    if (!row) return row.error();
    const Verdict v = decide(error, row->attempts, age_of(row->created_at), policy, row->kind == "admin_alert");
    retried = v.retry;
    if (v.retry) return lease_lost_is_fine(db::notifications::retry_later(tx, queue(), id, v.delay, v.error));
    auto failed = db::notifications::mark_failed(tx, queue(), id, v.error);
    if (!failed) return failed.error();
    if (!*failed) return ok();
    log::write_error(log::Level::kWarn, "notifier.failed", v.error);
    const auto admin = snap->get_string("company.admin_email");
    if (!v.alert_admin || admin.empty()) return ok();
    db::NewNotification n;
    n.kind = "admin_alert";
    n.channel = "email";
    n.recipient = admin;
    n.job_id = row->job_id;
    n.received_fax_id = row->received_fax_id;
    json payload{{"cause", "notification." + std::string(v.error.name())},
                 {"error", {{"code", std::string(v.error.name())},
                            {"message", "A " + row->kind + " mail to " + row->recipient +
                                            " could not be delivered: " + v.error.message}}},
                 {"notification_id", id}};
    n.payload_json = payload.dump();
    auto created = db::notifications::enqueue(tx, n);
    if (!created) return created.error();
    alert_id = *created;
    return ok();
  });
  if (!r) return r;
  if (retried && retried_) retried_->inc();
  if (!retried && failed_) failed_->inc();
  if (alert_id) announce(*alert_id);
  return ok();
}

Result<void> Notifier::deliver_mail(std::int64_t id, const bus::LeaseToken& lease) {
  auto snap = settings();
  if (!snap) return Error(Code::k_db_unavailable, "The settings could not be read.");
  auto config = smtp_config(*snap);
  if (!config) {
    const Code c = config.error().code;
    if (c == Code::k_secret_key_missing || c == Code::k_secret_key_invalid || c == Code::k_secret_unreadable) {
      // The password cannot be opened (FAXBRIDGE_SECRET_KEY missing or changed): the mail
      // waits for the administrator to fix the key or store the password again, inside
      // its retry window, rather than failing every mail of the outage.
      return record_failure(id, Error(Code::k_notification_not_configured,
                                      "The SMTP password cannot be read: " + config.error().message));
    }
    return record_failure(id, config.error());
  }
  if (const auto t = snap->get_int("smtp.timeout_s"); t > 0) config->smtp.timeout = std::chrono::seconds(t);

  // Everything the mail says, read in one transaction; the Message-ID fixed before the
  // first send.
  struct Prepared {
    db::NotificationRow row;
    MailContent content;
    TemplateSet set;
  };
  auto prepared = pool_.transact([&](db::Tx& tx) -> Result<Prepared> {
    auto row = db::notifications::get(tx, id);
    if (!row) return row.error();
    if (!row->message_id) {
      row->message_id = "notification-" + std::to_string(id) + "@" + domain_of(config->from.email);
      if (auto r = db::notifications::set_message_id(tx, id, *row->message_id); !r) return r.error();
    }
    auto content = load_mail_content(tx, *row, *snap);
    if (!content) return content.error();
    auto set = load_template(tx, row->kind, content->language);
    if (!set) return set.error();
    return Prepared{std::move(*row), std::move(*content), std::move(*set)};
  });
  if (!prepared) {
    if (prepared.error().kind() == ErrorKind::kUnavailable && prepared.error().code != Code::k_notification_waiting) {
      return prepared.error();  // the database: the consumer gives the row back
    }
    return record_failure(id, prepared.error());
  }
  auto& p = *prepared;

  if (p.row.kind == "admin_alert") {
    const auto interval = std::chrono::minutes(std::max<std::int64_t>(1, snap->get_int("notifications.admin_alert_interval_min")));
    bool suppressed = false;
    auto r = pool_.transact([&](db::Tx& tx) -> Result<void> {
      auto slot = db::notifications::take_alert_slot(tx, p.content.alert_cause,
                                                     std::chrono::duration_cast<std::chrono::seconds>(interval));
      if (!slot) return slot.error();
      if (*slot) return ok();
      suppressed = true;
      return lease_lost_is_fine(db::notifications::mark_suppressed(tx, queue(), id, p.content.alert_cause));
    });
    if (!r) return r;
    if (suppressed) {
      if (suppressed_) suppressed_->inc();
      log::info("notifier.alert_suppressed", {{"id", id}, {"cause", p.content.alert_cause}});
      return ok();
    }
  }

  auto rendered = render(p.set, p.content.values);
  if (!rendered) {
    Error e(Code::k_template_render_failed, "The " + p.row.kind + " template (" + p.content.language +
                                                ") could not be rendered: " + rendered.error().message);
    return record_failure(id, e);
  }
  auto to = mail::parse_address(p.row.recipient);
  if (!to) return record_failure(id, to.error());

  mail::OutgoingMessage m;
  m.from = config->from;
  m.to = {*to};
  m.subject = rendered->subject;
  m.text = rendered->text;
  m.html = rendered->html;
  m.inline_images = std::move(p.content.inline_images);
  m.attachments = std::move(p.content.attachments);
  m.message_id = *p.row.message_id;
  m.in_reply_to = p.content.in_reply_to;
  m.auto_submitted = p.content.auto_submitted;
  auto bytes = mail::compose(m);
  if (!bytes) return record_failure(id, bytes.error());

  if (lease.should_stop()) return ok();  // the row goes back (stop) or is another's (lost)
  const std::string key = session_key(config->smtp);
  bool reused = false;
  auto session = sessions_->take(key, config->smtp, reused);
  const mail::Envelope envelope{config->from.email, {to->email}};
  auto sent = session->send(envelope, *bytes);
  if (!sent && reused && sent.error().code == Code::k_smtp_unreachable) {
    // The server closed the kept connection while it was idle: once more on a new one.
    sent = session->send(envelope, *bytes);
  }
  sessions_->give_back(key, std::move(session));
  if (!sent) {
    log::write_error(log::Level::kInfo, "notifier.try_failed", sent.error());
    return record_failure(id, sent.error());
  }
  auto done = pool_.transact([&](db::Tx& tx) { return db::notifications::mark_sent(tx, queue(), id); });
  if (!done) {
    // Sent, but the database did not take it: the row comes back to a notifier after its
    // lease and is sent again, with the same Message-ID.
    return done.error();
  }
  if (sent_) sent_->inc();
  log::info("notifier.sent", {{"id", id}, {"kind", p.row.kind}, {"message_id", *p.row.message_id}});
  return ok();
}

}  // namespace faxbridge::notifier
