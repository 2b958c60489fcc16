// The notifier's stage and the delivery of one mail (notifier.hpp).
#include "faxbridge/notifier/notifier.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/notifications.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/mail/message.hpp"
#include "faxbridge/notifier/smtp_config.hpp"
#include "faxbridge/notifier/templates.hpp"
#include "mail_content.hpp"
#include "sent_ledger.hpp"
#include "session_pool.hpp"

namespace faxbridge::notifier {

struct Notifier::Stage {
  db::Queue queue;
  bus::Consumer consumer;
  bus::WorkFeed feed;
  Stage(db::Pool& pool, const std::string& owner, bus::ConsumerSettings cs, bus::BatchHandler h,
        const std::string& endpoint)
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

struct Notifier::PreparedMail {
  std::shared_ptr<const db::SettingsSnapshot> settings;
  db::NotificationRow row;
  std::optional<SmtpConfig> config;
  std::optional<Error> config_error;   // the SMTP settings are unusable: recorded as the try's failure
  MailContent content;
  TemplateSet set;
  std::optional<Error> content_error;  // the facts or the template could not be read
};

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
  // A sweep claims a second row per worker, held until one is free: one claim commit
  // then serves two mails of a backlog.
  cs.prefetch = settings_.workers;
  // A backlog goes in batches: one read and one outcome transaction for several mails.
  cs.batch = std::max(1, settings_.batch);
  stage_ = std::make_unique<Stage>(pool_, settings_.instance, cs,
                                   [this](const std::vector<bus::BatchItem>& items) { return handle_batch(items); },
                                   subscribe_endpoint_);
  ledger_ = std::make_unique<SentLedger>(pool_, stage_->queue);
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
  ledger_->restart();
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
  ledger_->stop();
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

Result<std::shared_ptr<const db::SettingsSnapshot>> Notifier::settings_in(db::Tx& tx) {
  // One short query per mail, inside the mail's own read: a change the administrator
  // saves (the attachment format, the server) is seen by the next mail, with no restart.
  auto version = db::settings::version(tx);
  if (!version) return version.error();
  {
    std::lock_guard lock(settings_mutex_);
    if (snapshot_ && snapshot_->version == *version) return snapshot_;
  }
  auto snap = db::settings::load(tx);
  if (!snap) return snap.error();
  auto fresh = std::make_shared<const db::SettingsSnapshot>(std::move(*snap));
  std::lock_guard lock(settings_mutex_);
  snapshot_ = fresh;
  return fresh;
}

std::shared_ptr<const db::SettingsSnapshot> Notifier::settings() {
  auto snap = pool_.transact([&](db::Tx& tx) { return settings_in(tx); });
  if (snap) return *snap;
  std::lock_guard lock(settings_mutex_);
  return snapshot_;  // the last one read, if any: better than none while the database is away
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

Result<std::vector<Notifier::PreparedMail>> Notifier::prepare_all(db::Tx& tx, const std::vector<bus::BatchItem>& items,
                                                                  std::shared_ptr<const db::SettingsSnapshot> snapshot) {
  // One statement for the rows with their Message-IDs and one per kind of fact
  // (read_batch_facts); what a kind needs beyond those, each mail reads itself.
  std::vector<std::int64_t> ids;
  for (const auto& item : items) ids.push_back(item.claim.id);
  auto config = smtp_config(*snapshot);
  std::optional<std::string> domain;
  if (config) {
    if (const auto t = snapshot->get_int("smtp.timeout_s"); t > 0) config->smtp.timeout = std::chrono::seconds(t);
    domain = domain_of(config->from.email);
  }
  // Each email row's Message-ID is written here before its first send (that commit need
  // not wait for the disk: were it lost in a database crash, the next try derives the
  // same id from the same id and From domain).
  auto rows = db::notifications::get_all_naming(tx, ids, domain);
  if (!rows) return rows.error();
  if (rows->size() != ids.size()) {
    // A row went with its fax or job: the batch goes row by row, so that one is told.
    for (auto id : ids) {
      if (auto r = db::notifications::get(tx, id); !r) return r.error();
    }
    return Error(Code::k_notification_not_found, "A notification of the batch could not be read.");
  }
  if (domain) {
    for (auto& row : *rows) {
      if (row.channel == "webhook" || row.message_id) continue;
      auto again = db::notifications::get(tx, row.id);  // named by another notifier meanwhile
      if (!again) return again.error();
      row.message_id = again->message_id;
    }
  }
  auto facts = read_batch_facts(tx, *rows, *snapshot);
  if (!facts) return facts.error();
  std::map<std::string, TemplateSet> templates;  // by kind and language, for this batch
  std::vector<PreparedMail> all;
  all.reserve(rows->size());
  for (auto& row : *rows) {
    PreparedMail p;
    p.settings = snapshot;
    p.row = std::move(row);
    if (p.row.channel == "webhook") {
      all.push_back(std::move(p));
      continue;
    }
    if (!config) {
      p.config_error = config.error();
      all.push_back(std::move(p));
      continue;
    }
    p.config = *config;
    auto content = load_mail_content(tx, p.row, *p.settings, *facts);
    if (!content) {
      p.content_error = content.error();
      all.push_back(std::move(p));
      continue;
    }
    p.content = std::move(*content);
    const std::string key = p.row.kind + "\n" + p.content.language;
    if (auto known = templates.find(key); known != templates.end()) {
      p.set = known->second;
    } else if (auto set = load_template(tx, p.row.kind, p.content.language); set) {
      p.set = *set;
      templates.emplace(key, std::move(*set));
    } else {
      p.content_error = set.error();
    }
    all.push_back(std::move(p));
  }
  return all;
}

Result<void> Notifier::handle(const Claim& claim, const bus::LeaseToken& lease) {
  return std::move(handle_batch({{claim, &lease}}).front());
}

std::vector<Result<void>> Notifier::handle_batch(const std::vector<bus::BatchItem>& items) {
  std::vector<Result<void>> results(items.size(), ok());
  // Everything the mails say, read in one transaction with the settings and the rows;
  // each Message-ID fixed before its first send.
  auto prepared = pool_.transact([&](db::Tx& tx) -> Result<std::vector<PreparedMail>> {
    auto snap = settings_in(tx);
    if (!snap) return snap.error();
    return prepare_all(tx, items, *snap);
  });
  if (!prepared) {
    if (prepared.error().kind() == ErrorKind::kUnavailable) {
      results.assign(items.size(), prepared.error());  // the database: the consumer gives the rows back
    } else if (items.size() > 1) {
      // One row's read broke the shared transaction: each row on its own, so only that
      // one fails.
      for (std::size_t i = 0; i < items.size(); ++i) results[i] = handle(items[i].claim, *items[i].lease);
    } else {
      results[0] = record_failure(items[0].claim.id, prepared.error());
    }
    return results;
  }

  Unreachable unreachable;
  // The worker's mail the server took whose sent record is not committed yet: at most
  // one, since the next mail's body goes only after that commit (the hook below).
  SentLedger::Ticket unrecorded;
  std::size_t unrecorded_index = 0;
  const auto settle_unrecorded = [&]() -> Result<void> {
    if (!unrecorded) return ok();
    const std::size_t i = unrecorded_index;
    auto done = ledger_->wait(unrecorded);
    unrecorded.reset();
    if (!done) {
      // Sent, but the database did not take it: the row comes back to a notifier after
      // its lease and is sent again, with the same Message-ID.
      results[i] = done.error();
      return done.error();
    }
    if (sent_) sent_->inc();
    const auto& row = (*prepared)[i].row;
    log::info("notifier.sent", {{"id", row.id}, {"kind", row.kind}, {"message_id", *row.message_id}});
    return ok();
  };
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& p = (*prepared)[i];
    const auto& lease = *items[i].lease;
    const auto before_body = [&]() -> Result<void> {
      if (auto previous = settle_unrecorded(); !previous) return previous.error();
      // The wait may have been long (the database away): the row may be another's now.
      if (lease.lost()) return Error(Code::k_queue_lease_lost, "The lease of this notification was lost.");
      return ok();
    };
    const bool mails = p.row.channel != "webhook" && !p.config_error && !p.content_error;
    // Anything but a mail (a webhook goes out too) waits for the record first, so only
    // mails overlap it, and only up to their body.
    if (!mails) (void)settle_unrecorded();
    auto sent = settle(p, items[i], unreachable, before_body);
    if (!sent) {
      results[i] = sent.error();
      continue;
    }
    if (!*sent) continue;  // its outcome is recorded already, or it was given up
    unrecorded = ledger_->submit(items[i].claim.id, lease);
    unrecorded_index = i;
  }
  (void)settle_unrecorded();
  return results;
}

Result<bool> Notifier::settle(PreparedMail& p, const bus::BatchItem& item, Unreachable& unreachable,
                              const BeforeBody& before_body) {
  const auto recorded = [](Result<void> r) -> Result<bool> {
    if (!r) return r.error();
    return false;
  };
  const std::int64_t id = item.claim.id;
  if (p.row.channel == "webhook") {
    if (settings_.webhook) return recorded(settings_.webhook(item.claim, *item.lease));
    return Error(Code::k_notification_not_configured, "This notifier delivers no webhooks.");
  }
  if (p.config_error) {
    const Code c = p.config_error->code;
    if (c == Code::k_secret_key_missing || c == Code::k_secret_key_invalid || c == Code::k_secret_unreadable) {
      // The password cannot be opened (FAXBRIDGE_SECRET_KEY missing or changed): the mail
      // waits for the administrator to fix the key or store the password again, inside
      // its retry window, rather than failing every mail of the outage.
      return recorded(record_failure(id, Error(Code::k_notification_not_configured,
                                                 "The SMTP password cannot be read: " + p.config_error->message)));
    }
    return recorded(record_failure(id, *p.config_error));
  }
  if (p.content_error) {
    if (p.content_error->kind() == ErrorKind::kUnavailable && p.content_error->code != Code::k_notification_waiting) {
      return *p.content_error;  // the database: the consumer gives the row back
    }
    return recorded(record_failure(id, *p.content_error));
  }
  return send_mail(p, *item.lease, unreachable, before_body);
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

Result<bool> Notifier::send_mail(PreparedMail& p, const bus::LeaseToken& lease, Unreachable& unreachable,
                                 const BeforeBody& before_body) {
  const auto recorded = [](Result<void> r) -> Result<bool> {
    if (!r) return r.error();
    return false;
  };
  const std::int64_t id = p.row.id;
  const auto& snap = p.settings;
  const auto& config = p.config;
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
    if (!r) return r.error();
    if (suppressed) {
      if (suppressed_) suppressed_->inc();
      log::info("notifier.alert_suppressed", {{"id", id}, {"cause", p.content.alert_cause}});
      return false;
    }
  }

  auto rendered = render(p.set, p.content.values);
  if (!rendered) {
    Error e(Code::k_template_render_failed, "The " + p.row.kind + " template (" + p.content.language +
                                                ") could not be rendered: " + rendered.error().message);
    return recorded(record_failure(id, e));
  }
  auto to = mail::parse_address(p.row.recipient);
  if (!to) return recorded(record_failure(id, to.error()));

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
  if (!bytes) return recorded(record_failure(id, bytes.error()));

  if (lease.lost()) return false;  // another notifier holds the row now
  if (lease.stopping()) return Error(Code::k_service_stopping, "The service is stopping.");
  const std::string key = session_key(config->smtp);
  if (auto down = unreachable.find(key); down != unreachable.end()) {
    // This server did not answer a mail of this very batch a moment ago: the rest wait
    // for their retry too, rather than each waiting out its own connection timeout.
    return recorded(record_failure(id, down->second));
  }
  bool reused = false;
  auto session = sessions_->take(key, config->smtp, reused);
  const mail::Envelope envelope{config->from.email, {to->email}};
  std::optional<Error> held_back;
  const mail::BeforeBody before_body_sent = [&]() -> Result<void> {
    auto go = before_body ? before_body() : ok();
    if (!go) held_back = go.error();
    return go;
  };
  auto sent = session->send(envelope, *bytes, before_body_sent);
  if (!sent && !held_back && reused && sent.error().code == Code::k_smtp_unreachable) {
    // The server closed the kept connection while it was idle: once more on a new one.
    sent = session->send(envelope, *bytes, before_body_sent);
  }
  sessions_->give_back(key, std::move(session));
  // Not ended because of the previous mail's record or this row's lease: no try of this
  // mail, so nothing to record; the consumer gives the row back (or leaves it to its holder).
  if (held_back) return *held_back;
  if (!sent) {
    log::write_error(log::Level::kInfo, "notifier.try_failed", sent.error());
    if (sent.error().code == Code::k_smtp_unreachable) unreachable.emplace(key, sent.error());
    return recorded(record_failure(id, sent.error()));
  }
  return true;  // the caller records it sent, with the rest of its batch
}

}  // namespace faxbridge::notifier
