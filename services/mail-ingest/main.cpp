// faxbridge-mail-ingest: email-to-fax. Polls the mailbox the mail.* settings name and
// turns each mail into fax jobs, or a reply saying why it cannot be faxed
// (libs/mailingest: run_poll_loop over Poller).
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/queue.hpp"
#include "faxbridge/mailingest/poll_loop.hpp"
#include "faxbridge/service/runtime.hpp"

using namespace faxbridge;

constexpr const char* kUsage = R"(usage: faxbridge-mail-ingest [--help]
Email-to-fax: polls the IMAP or POP3 mailbox of the mail.* settings every
mail.poll_interval_s seconds and turns each mail to <number>@<fax domain> into fax
jobs, or a reply saying why it cannot be faxed. The settings reload without a restart.
Environment: the common FAXBRIDGE_* variables (docs/configuration.md); the mailbox
password is opened with FAXBRIDGE_SECRET_KEY.
)";

int main(int argc, char** argv) {
  if (auto exit_status = service::handle_arguments(argc, argv, kUsage)) return *exit_status;
  config::ConfigReader cfg(config::process_env());
  auto settings = service::read_settings(cfg, "mail-ingest", 9108);
  mailingest::PollLoopHooks hooks;  // the test pause: unset in production (docs/configuration.md)
  hooks.pause_at = cfg.one_of("FAXBRIDGE_MAIL_INGEST_TEST_PAUSE_AT", "", {"fetched", "committed", "moved"});
  hooks.pause_file = cfg.string("FAXBRIDGE_MAIL_INGEST_TEST_PAUSE_FILE", "", "the file created when paused");
  if (auto r = cfg.finish(); !r || hooks.pause_at.empty() != hooks.pause_file.empty()) {
    std::fprintf(stderr, "faxbridge-mail-ingest: %s\n",
                 r ? "FAXBRIDGE_MAIL_INGEST_TEST_PAUSE_AT and _FILE go together" : r.error().to_string().c_str());
    return 2;
  }
  service::Runtime rt(settings);  // before any thread starts: it blocks SIGTERM/SIGINT
  return service::run_main([&] {
    service::log_effective_config(cfg);
    if (auto exit_status = rt.start_or_exit_status()) return *exit_status;
    const std::string stage = db::conversion_queue().stage();
    hooks.announce = [&](std::int64_t id) { (void)bus::announce_work(rt.publisher(), stage, id); };
    hooks.stopping = [&] { return rt.stopping(); };
    hooks.metrics = &rt.metrics();
    std::thread polls([&] { mailingest::run_poll_loop(rt.pool(), hooks); });
    rt.wait();
    polls.join();
    return 0;
  });
}
