#pragma once
// Repositories of the smaller tables the services keep: cover page templates, gateway
// health, per-number capabilities, API tokens, webhook endpoints and the mail-ingest
// ledger.
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

namespace cover_pages {
Result<void> put(Tx& tx, const CoverPage& page);  // insert or replace; a new default demotes the old
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

struct ApiToken {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string name;
  std::optional<TimePoint> expires_at;
};

namespace api_tokens {
// Stores the SHA-256 of the token (computed by the server), never the token.
Result<ApiToken> create(Tx& tx, std::int64_t user_id, const std::string& name, const std::string& token,
                        std::optional<TimePoint> expires_at = std::nullopt);
// The token's owner when it exists, is not revoked and has not expired; marks its use.
Result<std::optional<ApiToken>> authenticate(Tx& tx, const std::string& token);
Result<bool> revoke(Tx& tx, std::int64_t id);
}  // namespace api_tokens

struct WebhookEndpoint {
  std::int64_t id = 0;
  std::string url;
  std::string secret;
  std::vector<std::string> events;  // empty: every event
  std::optional<std::int64_t> user_id;
};

namespace webhooks {
Result<WebhookEndpoint> create(Tx& tx, const WebhookEndpoint& w);
// Enabled endpoints subscribed to `event` (system-wide ones and the user's).
Result<std::vector<WebhookEndpoint>> for_event(Tx& tx, const std::string& event,
                                               std::optional<std::int64_t> user_id);
}  // namespace webhooks

namespace ingested_messages {
// Records a mail as turned into jobs. false: it was already recorded (a redelivery or
// a crash before the mail was deleted): the caller must not create the jobs again.
Result<bool> record(Tx& tx, const std::string& mailbox, const std::string& message_id,
                    const std::vector<std::int64_t>& job_ids, const std::string& outcome);
}  // namespace ingested_messages

}  // namespace faxbridge::db
