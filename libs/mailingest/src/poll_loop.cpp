// DESIGN: see poll_loop.hpp. The wait between polls is the MailboxWatch's (IMAP IDLE
// where offered, else sleeping; a stop signal ends either at once); the settings are read
// at the start of every round, so the interval itself is a setting that reloads. A
// message about the configuration is logged when it changes, not every round: a disabled
// mailbox must not fill the log. The test pause
// holds the poll thread inside the Poller's crash hook: nothing after that point of the
// message runs (no move, no QUIT), exactly the state a SIGKILL there leaves.
#include "faxbridge/mailingest/poll_loop.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "faxbridge/core/log.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/mailingest/mailbox_config.hpp"
#include "faxbridge/mailingest/mailbox_watch.hpp"
#include "faxbridge/mailingest/poller.hpp"

namespace faxbridge::mailingest {

namespace {

// Creates the marker once the poll is held, so the test's kill can only land after it.
void write_pause_marker(const std::string& path, const std::string& point) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    log::warn("mailingest.test_pause_marker_failed", {{"file", path}, {"reason", std::strerror(errno)}});
    return;
  }
  const std::string text = point + "\n";
  (void)!::write(fd, text.data(), text.size());
  ::close(fd);
}

}  // namespace

void run_poll_loop(db::Pool& pool, const PollLoopHooks& hooks) {
  Poller poller(pool, hooks.announce, hooks.metrics);
  bool paused = false;
  if (!hooks.pause_at.empty()) {
    log::warn("mailingest.test_pause_armed", {{"point", hooks.pause_at}, {"file", hooks.pause_file},
                                              {"detail", "a test setting: the first poll to reach the point "
                                                         "stops there until the process is stopped"}});
    poller.set_crash_point([&](const std::string& point) {
      if (paused || point != hooks.pause_at) return false;
      paused = true;
      log::warn("mailingest.test_paused", {{"point", point}});
      write_pause_marker(hooks.pause_file, point);
      while (!hooks.stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return true;  // a SIGTERM meanwhile: leave the poll as the crash would
    });
  }
  std::string last_state;
  // Whether the state differs from the last one logged (and remember it).
  auto changed = [&](const std::string& state) {
    if (state == last_state) return false;
    last_state = state;
    return true;
  };
  MailboxWatch watch(hooks.metrics);
  std::optional<std::chrono::steady_clock::time_point> woken_at;  // by IDLE, for the poll after it
  while (!hooks.stopping()) {
    std::chrono::seconds interval{20};
    auto snapshot = pool.transact([](db::Tx& tx) { return db::settings::load(tx); });
    if (!snapshot) {
      if (changed("db:" + std::string(snapshot.error().name())))
        log::warn("mailingest.settings_unreadable",
                  {{"code", std::string(snapshot.error().name())}, {"reason", snapshot.error().message}});
    } else {
      interval = std::chrono::seconds(snapshot->get_int("mail.poll_interval_s"));
      auto config = mail_ingest_config(*snapshot);
      if (!config) {
        watch.disarm();
        if (changed("invalid:" + config.error().message))
          log::warn("mailingest.not_configured",
                    {{"code", std::string(config.error().name())}, {"reason", config.error().message}});
      } else if (!config->enabled) {
        watch.disarm();
        if (changed("disabled"))
          log::info("mailingest.disabled", {{"detail", "mail.enabled is off (or outgoing.enabled)"}});
      } else {
        if (changed("polling:" + config->mailbox_name))
          log::info("mailingest.polling",
                    {{"mailbox", config->mailbox_name}, {"interval_s", std::to_string(interval.count())}});
        watch.arm(config->mailbox);
        auto report = poller.poll(*config);
        if (woken_at && hooks.metrics)
          hooks.metrics
              ->histogram("faxbridge_mail_ingest_idle_latency_seconds",
                          "From IMAP IDLE announcing a new mail to the end of the poll that took it.",
                          {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60})
              .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - *woken_at).count());
        if (!report) {
          log::warn("mailingest.poll_failed",
                    {{"code", std::string(report.error().name())}, {"reason", report.error().message}});
        } else if (report->seen > 0) {
          log::info("mailingest.polled", {{"seen", std::to_string(report->seen)},
                                          {"faxed", std::to_string(report->faxed)},
                                          {"jobs", std::to_string(report->jobs)},
                                          {"refused", std::to_string(report->refused)},
                                          {"automatic", std::to_string(report->automatic)},
                                          {"duplicates", std::to_string(report->duplicates)},
                                          {"failed", std::to_string(report->failed)}});
        }
      }
    }
    woken_at = watch.wait(interval, hooks.stopping);
  }
}

}  // namespace faxbridge::mailingest
