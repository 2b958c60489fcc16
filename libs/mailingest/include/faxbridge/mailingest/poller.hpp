#pragma once
// One poll of the email-to-fax mailbox: every waiting message is fetched, read
// (ingest::parse_fax_request), its sender checked (a user with that mail address, send
// enabled, level 2 or higher, not disabled) and, in ONE transaction, its jobs and
// documents written the way web-api's POST /api/v1/faxes writes them (db::faxes::create,
// source "email", all jobs sharing the stored documents) or its refusal reply queued in
// the notifications outbox (kind ingest_refused), together with its row in the
// ingested_messages ledger. Only after that commit is the message moved (processed or
// failed folder) or deleted (POP3): a crash before the commit leaves it to the next poll,
// a crash after it finds the ledger row next time and creates nothing twice.
// Messages go in batches (1, 2, 4, ... mails up to 40; at most 16 MiB of
// mail unless a single mail is larger): a batch's transactions are one, each
// message in its own savepoint (db::within_savepoint), so the batch pays one commit
// and a message found in the ledger rolls back only its own writes; the batch's
// messages are then moved together (one IMAP COPY, STORE and EXPUNGE per folder). A
// batch is written on a thread of the poll's own while the next one is fetched, and
// the batch before it is moved while it is written.
// Automatic mails (auto-replies, bounces, our own notices) are recorded and moved to
// processed, never answered.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "faxbridge/core/metrics.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/mailingest/mailbox_config.hpp"

namespace faxbridge::mailingest {

struct PollReport {
  int seen = 0;        // messages listed
  int faxed = 0;       // messages that made jobs
  int jobs = 0;        // jobs made
  int refused = 0;     // messages answered with a refusal
  int automatic = 0;   // automatic messages, not answered
  int duplicates = 0;  // already in the ledger: moved, nothing made
  int failed = 0;      // not handled this time (left for the next poll)
};

class Poller final {
 public:
  // announce: called for each job after its commit (the service publishes it on the
  // conversion stage; the converter's sweep finds it anyway). metrics: the process's
  // registry (may be null):
  //   faxbridge_mail_ingest_messages_total{outcome=faxed|refused|automatic|duplicate|failed}
  //   faxbridge_mail_ingest_jobs_total
  //   faxbridge_mail_ingest_refusals_total{code=<error code>}
  //   faxbridge_mail_ingest_poll_seconds (histogram: one whole poll)
  Poller(db::Pool& pool, std::function<void(std::int64_t job_id)> announce, metrics::Registry* metrics = nullptr);

  // Errors: the mailbox session's (mail.mailbox_*), when it cannot even list; then an
  // admin_alert is written for config.admin_email, one per error code per
  // config.alert_interval (mailbox_alert.cpp). A single message that fails is counted in
  // `failed` and left where it is.
  Result<PollReport> poll(const MailIngestConfig& config);

  // Tests only: called at "fetched" (a message's bytes are in, nothing written), at
  // "committed" (its batch's transaction committed, nothing of it moved yet) and at
  // "moved" (the batch's messages for one folder moved, or for POP3 marked deleted,
  // which the server carries out only at QUIT);
  // true stops the poll there at once, as a crash would (no further move, no QUIT).
  // The service's test pause (poll_loop.hpp) is built on it.
  void set_crash_point(std::function<bool(const std::string& point)> crash) { crash_ = std::move(crash); }

 private:
  db::Pool& pool_;
  std::function<void(std::int64_t)> announce_;
  metrics::Registry* metrics_;
  std::function<bool(const std::string&)> crash_;
};

}  // namespace faxbridge::mailingest
