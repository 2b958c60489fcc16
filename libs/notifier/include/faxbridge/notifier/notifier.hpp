#pragma once
// The notifier: delivers the notifications outbox (ARCHITECTURE.md: the durable outbox).
//
// One claim-and-sweep stage (bus::Consumer over db::notification_queue(), woken by the
// bus's notifications.pending announcements) hands each claimed row to handle():
//   - channel email: the mail is built at delivery time from the rows it speaks of
//     (mail_content.cpp) and its template (templates.hpp), composed by libs/mail with the
//     row's one Message-ID (notification-<id>@<domain of the From address>, kept on the
//     row before the first send, so a resend after a crash carries the same id), and sent
//     through an SMTP session kept open across mails (SessionPool);
//   - channel webhook: the webhook handler the main wires in (libs/webhook).
// A backlog is taken in batches (NotifierSettings::batch): one read transaction for the
// batch's rows (their facts, one SMTP settings read, the Message-IDs in one statement),
// then each mail sent in turn over the kept session and its sent record handed to the
// SentLedger (sent_ledger.hpp) right after the server's 250. The ledger commits the records
// of all workers that are waiting together (group commit), and a worker sends its next
// mail's body (after DATA's 354; the server has a mail only once its body ended) only
// once its previous record is committed; it composes that mail and sends its envelope
// meanwhile. So a SIGKILL repeats at most the one mail each worker had taken and not
// yet recorded, with its same Message-ID. The price of the batch: a killed notifier's
// claimed rows not yet sent (up to workers x batch) wait for their lease to
// expire (a minute) before another notifier takes them; delayed, never lost.
// A failed try is one transaction on the row (db/notifications.hpp): sent; pending again
// after the backoff of policy.hpp; failed, with an administrator alert written in the
// same transaction (never for an alert); suppressed, for an alert whose cause was mailed
// within notifications.admin_alert_interval_min.
//
// The settings (SMTP, formats, retry window) are read per delivery from a snapshot
// reloaded when their version moves: a change applies to the next mail, no restart.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/bus/consumer.hpp"
#include "faxbridge/core/metrics.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/queue.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/notifier/policy.hpp"

namespace faxbridge::notifier {

inline constexpr const char* kNotificationsStage = "notifications.pending";

using WebhookHandler = std::function<Result<void>(const Claim& claim, const bus::LeaseToken& lease)>;

struct NotifierSettings {
  std::string instance = "notifier";
  int workers = 4;
  // Mails a worker takes at once from a backlog: one read for them; their sent records go
  // through the SentLedger one by one, so a batch does not widen what a crash repeats.
  int batch = 8;
  std::chrono::milliseconds sweep_interval{2000};
  RetryPolicy retry;  // window: setting notifications.retry_hours overrides it per delivery
  bool window_from_settings = true;
  WebhookHandler webhook;  // unset: webhook rows wait (retried) until a notifier has one
  // The watchdog (policy.hpp watch_alerts): how often it looks, and its thresholds.
  std::chrono::milliseconds watch_interval{std::chrono::seconds(60)};
  WatchThresholds watch;
  metrics::Registry* metrics = nullptr;
};

class SessionPool;
class SentLedger;

class Notifier final {
 public:
  Notifier(db::Pool& pool, bus::Publisher& publisher, std::string subscribe_endpoint, NotifierSettings settings);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void start();
  void stop();
  bool connected() const;

  // One claimed row, as a batch of one (public for tests that drive it directly).
  Result<void> handle(const Claim& claim, const bus::LeaseToken& lease);
  // The consumer's handler: claimed rows read in one transaction, each mail sent, the
  // rows the server took recorded sent in one transaction; one result per row.
  std::vector<Result<void>> handle_batch(const std::vector<bus::BatchItem>& items);
  db::Queue& queue();
  Result<int> watch_now() { return watch_once(); }  // tests

 private:
  struct Stage;
  struct PreparedMail;  // what handle_batch() reads for a mail (notifier.cpp)
  // What each mail of a batch says, read in the caller's transaction; each Message-ID
  // fixed there before the first send.
  Result<std::vector<PreparedMail>> prepare_all(db::Tx& tx, const std::vector<bus::BatchItem>& items,
                                                std::shared_ptr<const db::SettingsSnapshot> snapshot);
  // A prepared row taken as far as its outcome: true when the server took the mail and
  // it is still to be recorded sent; false when its outcome is recorded already (a
  // failure, a suppressed alert, a webhook) or it was given up (stop, lease lost).
  // The SMTP servers (by session key) a mail of this batch found unreachable, with that error.
  using Unreachable = std::map<std::string, Error>;
  // Called before a mail's body goes (mail::SmtpSession::send's before_body): waits for
  // the sent record of the worker's previous mail; an error keeps this mail from going.
  using BeforeBody = std::function<Result<void>()>;
  Result<bool> settle(PreparedMail& p, const bus::BatchItem& item, Unreachable& unreachable, const BeforeBody& before_body);
  Result<bool> send_mail(PreparedMail& p, const bus::LeaseToken& lease, Unreachable& unreachable,
                         const BeforeBody& before_body);
  // Records a failed try; the administrator alert (when due) in the same transaction.
  Result<void> record_failure(std::int64_t id, const Error& error);
  std::shared_ptr<const db::SettingsSnapshot> settings();
  Result<std::shared_ptr<const db::SettingsSnapshot>> settings_in(db::Tx& tx);
  void announce(std::int64_t id);
  void watch_loop();
  // One look: writes the alerts that are due; returns how many.
  Result<int> watch_once();

  db::Pool& pool_;
  bus::Publisher& publisher_;
  std::string subscribe_endpoint_;
  NotifierSettings settings_;
  std::unique_ptr<Stage> stage_;
  std::unique_ptr<SessionPool> sessions_;
  std::unique_ptr<SentLedger> ledger_;  // the sent records, group-committed (sent_ledger.hpp)
  std::thread watch_thread_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::mutex settings_mutex_;
  std::shared_ptr<const db::SettingsSnapshot> snapshot_;
  metrics::Counter* sent_ = nullptr;
  metrics::Counter* retried_ = nullptr;
  metrics::Counter* failed_ = nullptr;
  metrics::Counter* suppressed_ = nullptr;
};

}  // namespace faxbridge::notifier
