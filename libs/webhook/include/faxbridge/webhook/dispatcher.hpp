#pragma once
// The webhook side of the notifier: one claimed `notifications` row of the webhook
// channel in, one signed POST out, its outcome written back (libs/webhook/README is this
// comment and src/dispatcher.cpp's DESIGN note).
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/bus/consumer.hpp"
#include "faxbridge/core/metrics.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/core/secret_box.hpp"
#include "faxbridge/core/signed_link.hpp"
#include "faxbridge/core/work_queue.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/queue.hpp"

namespace faxbridge::webhook {

// Standard Webhooks' example schedule, shortened to a day's worth: the delay after the
// 1st, 2nd, ... failed try. One try more than delays: 8 tries over ~33 hours.
std::vector<std::chrono::milliseconds> standard_backoff();

struct DispatcherSettings {
  std::chrono::milliseconds timeout{10000};  // the whole POST: connect, send, answer
  std::size_t max_response_bytes = 64 * 1024;  // read at most this much of an answer
  // FAXBRIDGE_SECRET_KEY (secret_box::environment_key() in the notifier): opens the
  // sealed Ed25519 signing keys (and seals one still stored in clear), and its sub-key
  // signs the download links of the body (core/signed_link.hpp). None: ed25519 endpoints
  // fail with secret.key_missing and bodies carry "links": null.
  std::optional<secret_box::Key> secret_key;
  metrics::Registry* metrics = nullptr;
  std::vector<std::chrono::milliseconds> backoff = standard_backoff();
  double jitter = 0.1;  // each delay stretched by up to this fraction, at random
};

class Dispatcher {
 public:
  Dispatcher(db::Pool& pool, db::Queue& queue, DispatcherSettings settings);

  // One claimed `notifications` row whose channel is 'webhook' (claim.id), already in state
  // 'sending' under queue's lease: POST it, log the try, and finish the row itself in its own
  // transaction through queue.finish(tx, id, ...) (sent; back to 'pending' with not_before and
  // attempts per the backoff; 'failed' with the error, endpoint disabled, owner told).
  // Returns an error only when the database failed (the consumer then gives the row back).
  Result<void> handle(const Claim& claim, const bus::LeaseToken& lease);

 private:
  db::Pool& pool_;
  db::Queue& queue_;
  DispatcherSettings settings_;
  std::optional<signed_link::LinkKey> link_key_;  // derived once from settings_.secret_key
};

}  // namespace faxbridge::webhook
