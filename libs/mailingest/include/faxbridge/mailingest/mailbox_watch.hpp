#pragma once
// The wait between two polls of the email-to-fax mailbox. With an IMAP server that offers
// IDLE (RFC 2177), a second session, the watch, idles on the folder and a new mail ends
// the wait at once, so it becomes a fax within about a second instead of at the next
// poll. Otherwise (POP3, no IDLE, the watch failing) the wait is the whole interval. A
// stop ends either at once. The interval's poll stays as the safety net: IDLE only
// shortens the wait, so a watch that misses something costs time, never a mail.
//
// The watch is opened before each poll (arm), so a mail that arrives while the poll runs
// is announced when the IDLE starts rather than missed until the next interval; the price
// is one extra, empty poll when the announced mail is one that poll already took.
//
// Metrics (the registry may be null):
//   faxbridge_mail_ingest_idle_wakes_total   waits ended by a new mail
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "faxbridge/core/metrics.hpp"
#include "faxbridge/mail/mailbox.hpp"

namespace faxbridge::mailingest {

class MailboxWatch final {
 public:
  explicit MailboxWatch(metrics::Registry* metrics = nullptr) : metrics_(metrics) {}

  // Before a poll: opens the watch for these settings, or keeps the open one when they
  // have not changed. Nothing for POP3, nor again for settings whose server said no IDLE.
  void arm(const mail::MailboxSettings& settings);
  // Nothing to watch (email-to-fax disabled or unusable): the watch is closed.
  void disarm();
  // After a poll: returns when the next poll is due, with the moment the server announced
  // a new mail when that is what ended the wait.
  std::optional<std::chrono::steady_clock::time_point> wait(std::chrono::milliseconds interval,
                                                            const std::function<bool()>& stopping);
  bool idling() const { return session_ != nullptr; }

 private:
  void sleep(std::chrono::steady_clock::time_point until, const std::function<bool()>& stopping);
  void give_up(const std::string& why_key, const std::string& event, const Error* error);

  metrics::Registry* metrics_;
  std::unique_ptr<mail::MailboxSession> session_;
  std::optional<mail::MailboxSettings> no_idle_for_;  // settings whose server has no IDLE
  std::string last_problem_;                          // logged once per change
};

}  // namespace faxbridge::mailingest
