// DESIGN: see mailbox_watch.hpp. A watch that fails (the server away, a TLS problem) is
// closed and the wait falls back to sleeping out the interval; the next arm() tries again,
// so a server that comes back is watched again from the next poll on. The poll itself
// reports and alerts about an unreachable mailbox (mailbox_alert.cpp): the watch only
// logs, once per change, so a long outage does not fill the log.
#include "faxbridge/mailingest/mailbox_watch.hpp"

#include <thread>

#include "faxbridge/core/log.hpp"

namespace faxbridge::mailingest {

void MailboxWatch::arm(const mail::MailboxSettings& settings) {
  if (session_ && session_->settings() == settings) return;
  session_.reset();
  auto endpoint = mail::resolve_endpoint(settings);
  if (!endpoint || endpoint->protocol != mail::MailboxProtocol::kImap) return;
  if (no_idle_for_ && *no_idle_for_ == settings) return;
  no_idle_for_.reset();
  session_ = std::make_unique<mail::MailboxSession>(settings);
  auto watching = session_->watch();
  if (!watching) {
    give_up("watch:" + std::string(watching.error().name()), "mailingest.idle_failed", &watching.error());
  } else if (!*watching) {
    no_idle_for_ = settings;
    give_up("unsupported", "mailingest.idle_unsupported", nullptr);
  }
}

void MailboxWatch::disarm() { session_.reset(); }

void MailboxWatch::give_up(const std::string& why_key, const std::string& event, const Error* error) {
  if (why_key != last_problem_) {
    last_problem_ = why_key;
    if (error)
      log::warn(event, {{"code", std::string(error->name())},
                        {"reason", error->message},
                        {"detail", "waiting the whole poll interval instead"}});
    else
      log::info(event, {{"detail", "the mailbox server does not offer IMAP IDLE: polling only"}});
  }
  session_.reset();
}

void MailboxWatch::sleep(std::chrono::steady_clock::time_point until, const std::function<bool()>& stopping) {
  while (!stopping() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

std::optional<std::chrono::steady_clock::time_point> MailboxWatch::wait(std::chrono::milliseconds interval,
                                                                        const std::function<bool()>& stopping) {
  const auto until = std::chrono::steady_clock::now() + interval;
  if (!session_) {
    sleep(until, stopping);
    return std::nullopt;
  }
  auto result = session_->idle(interval, stopping);
  if (!result) {
    give_up("idle:" + std::string(result.error().name()), "mailingest.idle_failed", &result.error());
    sleep(until, stopping);
    return std::nullopt;
  }
  switch (*result) {
    case mail::IdleResult::kNewMail:
      last_problem_.clear();
      if (metrics_) metrics_->counter("faxbridge_mail_ingest_idle_wakes_total", "Waits between polls ended by IMAP IDLE announcing a new mail.").inc();
      return std::chrono::steady_clock::now();
    case mail::IdleResult::kUnsupported:
      no_idle_for_ = session_->settings();
      give_up("unsupported", "mailingest.idle_unsupported", nullptr);
      sleep(until, stopping);
      return std::nullopt;
    case mail::IdleResult::kTimedOut:
      last_problem_.clear();
      break;
    case mail::IdleResult::kStopped:
      break;
  }
  return std::nullopt;
}

}  // namespace faxbridge::mailingest
