#pragma once
// Repositories of the smaller tables the services keep: cover page templates, gateway
// health, per-number capabilities, webhook endpoints and the mail-ingest ledger (API
// tokens are in auth.hpp).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

struct CoverPage {
  std::string name;  // "urgent", or localized "it_urgent"
  std::string svg;
  bool is_default = false;
};

// A cover page as the administration lists it (without its SVG).
struct CoverPageInfo {
  std::string name;
  bool is_default = false;
  std::int64_t size_bytes = 0;
  TimePoint updated_at{};
};

namespace cover_pages {
Result<void> put(Tx& tx, const CoverPage& page);  // insert or replace; a new default demotes the old
// Inserts the page only when no page has its name (a concurrent upload of the same name
// wins, and an edited page is never replaced); false when one was there. is_default
// is ignored: the page is inserted as no default.
Result<bool> insert_if_missing(Tx& tx, const CoverPage& page);
Result<std::vector<CoverPageInfo>> list(Tx& tx);  // by name
Result<std::optional<CoverPage>> get(Tx& tx, const std::string& name);
Result<std::optional<CoverPageInfo>> info(Tx& tx, const std::string& name);
// Makes the page the default (demoting the old one) or, with false, leaves no default
// (faxes whose sender chose none then go without a cover page). false: no such page.
Result<bool> set_default(Tx& tx, const std::string& name, bool is_default);
Result<bool> remove(Tx& tx, const std::string& name);
// The seed's lookup: "<lang>_<name>", then "<name>"; an empty name, or one no cover
// page has, means the default cover page (localized first). Empty only when the
// default has been deleted (then no cover page is sent).
Result<std::optional<CoverPage>> resolve(Tx& tx, const std::string& name, const std::string& language);
Result<std::vector<std::string>> names(Tx& tx);
}  // namespace cover_pages

struct GatewayHealth {
  std::string address;
  std::string state;  // up | down | unknown
  std::optional<int> rtt_ms;
  std::string detail;
  std::optional<int> last_status;  // SIP status of the last OPTIONS ping (a local 408: no answer)
  // Read by list() (report() sets them from the state).
  std::optional<TimePoint> last_ok_at;
  std::optional<TimePoint> last_fail_at;
  std::optional<TimePoint> updated_at;
};

namespace gateway_health {
Result<void> report(Tx& tx, const GatewayHealth& h);
Result<std::vector<GatewayHealth>> list(Tx& tx);
}  // namespace gateway_health

namespace remote_capabilities {
// T.38 failed in negotiation with this number: dial it on G.711 next time.
Result<void> mark_t38_failed(Tx& tx, const std::string& number);
// Whether T.38 failed with this number less than `memory_days` days ago (setting
// sip.g711_memory_days): a far end that was fixed gets T.38 again after that.
Result<bool> prefers_g711(Tx& tx, const std::string& number, int memory_days);
}  // namespace remote_capabilities

// The events a webhook endpoint can subscribe to (docs/api/openapi.yaml, WebhookEvent).
// The notifier delivers them; the API refuses any other name.
const std::vector<std::string>& webhook_event_types();

struct WebhookEndpoint {
  std::int64_t id = 0;
  std::string url;
  // Standard Webhooks: "whsec_" + base64 of the key. Sealed ("sealed:v1:...") when the web
  // API has FAXBRIDGE_SECRET_KEY, like previous_secret; in clear without one, and in rows
  // written before secrets were sealed, until the notifier seals them (seal_secrets).
  std::string secret;
  std::vector<std::string> events;  // empty: every event
  std::optional<std::int64_t> user_id;
  std::string description;
  bool enabled = true;
  // After a rotation: the old secret, still signed with (beside the new) until `until`.
  std::optional<std::string> previous_secret;
  std::optional<TimePoint> previous_secret_until;
  TimePoint created_at{};
  TimePoint updated_at{};
  // Standard Webhooks' two schemes: "hmac" (v1, with `secret`) or "ed25519" (v1a: signed
  // with signing_key "whsk_...", verified by receivers with public_key "whpk_...").
  std::string signing = "hmac";
  std::optional<std::string> public_key;
  // Sealed ("sealed:v1:...", core/secret_box.hpp) since the web API seals what it makes;
  // a row written before that holds "whsk_..." in clear until the notifier, which reads
  // either form, seals it at its first delivery (webhooks::seal_signing_key).
  std::optional<std::string> signing_key;
};

struct WebhookChange {
  std::optional<std::string> url;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> events;
  std::optional<bool> enabled;
};

namespace webhooks {
Result<WebhookEndpoint> create(Tx& tx, const WebhookEndpoint& w);
Result<std::vector<WebhookEndpoint>> list(Tx& tx);  // by id
Result<std::optional<WebhookEndpoint>> get(Tx& tx, std::int64_t id);
Result<std::optional<WebhookEndpoint>> update(Tx& tx, std::int64_t id, const WebhookChange& change);
Result<bool> remove(Tx& tx, std::int64_t id);
// A new secret; the old one stays valid for signing until now + overlap.
Result<std::optional<WebhookEndpoint>> rotate_secret(Tx& tx, std::int64_t id, const std::string& secret,
                                                     std::chrono::seconds overlap);
// Replaces a signing key stored in clear by its sealed text, provided it is still
// `plain` (another notifier may have sealed it first); whether this call did.
Result<bool> seal_signing_key(Tx& tx, std::int64_t id, const std::string& plain, const std::string& sealed);
// The same for the HMAC secrets: `secret` and, when given, `previous_secret`, each
// replaced only while it still holds its `plain` (a rotation or another notifier may
// have changed it since it was read); whether any was.
Result<bool> seal_secrets(Tx& tx, std::int64_t id, const std::string& plain, const std::string& sealed,
                          const std::optional<std::string>& previous_plain,
                          const std::optional<std::string>& previous_sealed);
// Enabled endpoints subscribed to `event` (system-wide ones and the user's).
Result<std::vector<WebhookEndpoint>> for_event(Tx& tx, const std::string& event,
                                               std::optional<std::int64_t> user_id);
}  // namespace webhooks

namespace ingested_messages {
// Records a mail as turned into jobs. false: it was already recorded (a redelivery or
// a crash before the mail was deleted): the caller must not create the jobs again.
Result<bool> record(Tx& tx, const std::string& mailbox, const std::string& message_id,
                    const std::vector<std::int64_t>& job_ids, const std::string& outcome);
// The outcome recorded for a mail ("faxed", "refused:<code>", "automatic"), nullopt when
// none: where a redelivered mail goes (a refused one to the failed folder).
Result<std::optional<std::string>> outcome(Tx& tx, const std::string& mailbox, const std::string& message_id);
}  // namespace ingested_messages

}  // namespace faxbridge::db
