#pragma once
// mail-ingest's life: poll, wait mail.poll_interval_s (or less: a new mail announced by
// IMAP IDLE ends the wait, mailbox_watch.hpp), poll again, until told to stop.
// Each round reads the settings anew (one snapshot), so a change made through the API
// or the CLI takes effect at the next poll without a restart; email-to-fax disabled
// or unusable is logged once per change and the loop keeps waiting.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "faxbridge/core/metrics.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::mailingest {

struct PollLoopHooks {
  std::function<void(std::int64_t job_id)> announce;  // after each job's commit
  std::function<bool()> stopping;                     // true: leave the loop
  // The process's (poller.hpp and mailbox_watch.hpp name them), and
  // faxbridge_mail_ingest_idle_latency_seconds: from IDLE announcing a new mail to the
  // end of the poll that took it.
  metrics::Registry* metrics = nullptr;
  // Tests only (the service's FAXBRIDGE_MAIL_INGEST_TEST_PAUSE_AT and _FILE): the first
  // time a poll reaches this point of a message ("fetched", "committed" or "moved":
  // Poller::set_crash_point), the loop creates `pause_file` and holds the poll there
  // until stopped, so a test can SIGKILL the process inside that window for sure.
  // Empty (the default): never.
  std::string pause_at;
  std::string pause_file;
};

// Runs until hooks.stopping() says so; returns then.
void run_poll_loop(db::Pool& pool, const PollLoopHooks& hooks);

}  // namespace faxbridge::mailingest
