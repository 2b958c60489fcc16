// faxbridge-notifier: fax-to-email, receipts, administrator alerts and webhooks, from
// the notifications outbox.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "faxbridge/core/log.hpp"
#include "faxbridge/core/secret_box.hpp"

#include "faxbridge/notifier/notifier.hpp"
#include "faxbridge/service/runtime.hpp"
#include "faxbridge/webhook/dispatcher.hpp"

using namespace faxbridge;
using namespace std::chrono_literals;

constexpr const char* kUsage = R"(usage: faxbridge-notifier [--help]
Delivers the notifications outbox: fax-to-email, receipts, replies and administrator
alerts by SMTP (the smtp.* settings), and webhooks. Environment: the common
FAXBRIDGE_* variables (docs/configuration.md), plus
  FAXBRIDGE_NOTIFIER_WORKERS      notifications delivered at once (4)
  FAXBRIDGE_NOTIFIER_SWEEP_MS     sweep interval of the outbox (2000)
  FAXBRIDGE_NOTIFIER_RETRY_FIRST_MS  first retry delay of a temporary failure (60000)
  FAXBRIDGE_NOTIFIER_RETRY_MAX_MS    longest retry delay (3600000)
)";

int main(int argc, char** argv) {
  if (auto exit_status = service::handle_arguments(argc, argv, kUsage)) return *exit_status;
  config::ConfigReader cfg(config::process_env());
  auto settings = service::read_settings(cfg, "notifier", 9107);
  notifier::NotifierSettings ns;
  ns.instance = settings.instance;
  ns.workers = static_cast<int>(cfg.integer("FAXBRIDGE_NOTIFIER_WORKERS", 4, 1, 64));
  ns.sweep_interval = cfg.duration_ms("FAXBRIDGE_NOTIFIER_SWEEP_MS", 2000ms, 50ms, 600000ms);
  ns.retry.first = cfg.duration_ms("FAXBRIDGE_NOTIFIER_RETRY_FIRST_MS", 60000ms, 10ms, 86400000ms);
  ns.retry.max = cfg.duration_ms("FAXBRIDGE_NOTIFIER_RETRY_MAX_MS", 3600000ms, 10ms, 86400000ms);
  if (auto r = cfg.finish(); !r) {
    std::fprintf(stderr, "faxbridge-notifier: %s\n", r.error().to_string().c_str());
    return 2;
  }
  service::Runtime rt(settings);  // before any thread starts: it blocks SIGTERM/SIGINT
  ns.metrics = &rt.metrics();
  return service::run_main([&] {
    service::log_effective_config(cfg);
    if (const char* key = std::getenv("FAXBRIDGE_SECRET_KEY"); key == nullptr || *key == '\0') {
      log::warn("notifier.secret_key_missing",
                {{"detail", "FAXBRIDGE_SECRET_KEY is not set: a stored SMTP password cannot be read, so mails "
                            "through an authenticating server wait until it is set (docs/configuration.md)."}});
    }
    if (auto exit_status = rt.start_or_exit_status()) return *exit_status;
    // Webhook rows go to libs/webhook's dispatcher, which finishes them on the notifier's
    // queue (made with the notifier, hence set before its first claim, at start()).
    std::unique_ptr<webhook::Dispatcher> hooks;
    ns.webhook = [&hooks](const Claim& c, const bus::LeaseToken& l) { return hooks->handle(c, l); };
    notifier::Notifier n(rt.pool(), rt.publisher(), settings.bus.subscribe, ns);
    webhook::DispatcherSettings ws;
    ws.metrics = &rt.metrics();
    // Opens the sealed Ed25519 signing keys and signs the bodies' download links.
    if (const auto& key = secret_box::environment_key()) ws.secret_key = *key;
    hooks = std::make_unique<webhook::Dispatcher>(rt.pool(), n.queue(), ws);
    rt.add_connection_check("subscriptions", [&] { return n.connected(); });
    n.start();
    rt.wait();
    n.stop();
    return 0;
  });
}
