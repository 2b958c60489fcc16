// DESIGN: see poller.hpp. The order per message is the contract that makes a crash
// harmless: fetch -> decide (pure) -> one transaction {ledger row, jobs + documents or
// the reply} -> commit -> announce -> move/delete. The ledger INSERT comes last in the
// transaction and rolls everything back when the row already exists (the message was
// handled before a crash kept it from being moved), so a message seen twice makes no
// second job and no second reply. POP3 deletions take effect at QUIT (close()). A
// mailbox that cannot be listed at all is an admin_alert (mailbox_alert.cpp).
// Batches keep that order for each message: fetch and read a batch, then one
// transaction with each message's writes in a savepoint (a duplicate undoes only its
// own), commit, then announce and move the batch. Should the batch's transaction fail
// as a whole, each of its messages is written again in a transaction of its own, as
// without batches, so one message that cannot be written holds no other back.
// A writer thread writes batch N while this thread fetches and reads batch N+1 (the
// MIME parse is this process's CPU, the writes PostgreSQL's). Once batch N has
// committed, batch N+1's write starts at once and this thread, which alone uses the
// session, announces and moves batch N meanwhile: batches still commit in mailbox
// order, and each message is moved only after its own batch's commit.
#include "faxbridge/mailingest/poller.hpp"

#include <algorithm>
#include <future>
#include <map>

#include <nlohmann/json.hpp>

#include "faxbridge/core/log.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/faxes.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/savepoint.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/ingest/fax_request.hpp"
#include "faxbridge/mail/mailbox.hpp"
#include "mailbox_alert.hpp"

namespace faxbridge::mailingest {
namespace {

enum class Disposition { kProcessed, kFailed };

// A batch's messages share one transaction and one IMAP move, so one commit's WAL flush
// (3.7 ms on this machine's disk by pg_test_fsync; 11 ms seen under load) and the
// move's three Dovecot syncs (3-14 ms each) are paid once for them all. 40: those are
// then a small part of each mail's time, a batch holds the commit of its first mail
// back by no more than 40 fetches (about 20 ms with the Debian PDF), and its savepoints
// stay within the 64 subtransactions PostgreSQL caches per backend
// (PGPROC_MAX_CACHED_SUBXIDS; past that every snapshot reads pg_subtrans). 16 MiB: a
// batch of big mails keeps that much read at once (twice that with the batch being
// written), not 40 times the 25 MiB a mail may have.
constexpr std::size_t kBatchMessages = 40;
constexpr std::size_t kBatchBytes = 16u << 20;

struct Decision {
  std::vector<std::int64_t> jobs;
  Disposition where = Disposition::kProcessed;
  enum { kFaxed, kRefused, kAutomatic, kDuplicate } what = kFaxed;
  std::string refusal;  // the refusal's code, kRefused
};

// The sender's right to fax, as the router and web-api check it.
std::optional<Error> refuse_sender(const std::optional<db::User>& user, const std::string& email) {
  if (!user)
    return Error(Code::k_auth_send_not_enabled, "Email-to-fax is not enabled for " + email +
                                                    ": no Faxbridge user has this mail address. Ask your fax "
                                                    "administrator to add it to your account.");
  if (user->disabled)
    return Error(Code::k_auth_account_disabled, "Your Faxbridge account is disabled; ask your fax administrator.");
  if (!user->enable_send || user->permission_level < db::kPermissionFaxUser)
    return Error(Code::k_auth_send_not_enabled,
                 "Sending faxes is not enabled for your account; ask your fax administrator to enable it.");
  return std::nullopt;
}

// A [cover:<name>] tag that names no cover page, refused as the API refuses it: the
// converter would put the default cover in its place, and a typo in [cover:confidential]
// must not send a fax under another cover than the one asked for.
Result<std::optional<Error>> refuse_cover(db::Tx& tx, const std::string& name, const std::string& language) {
  auto exists = db::faxes::cover_page_exists(tx, name, language);
  if (!exists) return exists.error();
  if (*exists) return std::optional<Error>();
  return std::optional<Error>(Error(Code::k_cover_page_not_found,
                                    "There is no cover page named \"" + name + "\". Write the tag with the name of one "
                                    "of the cover pages, [cover:none] for no cover page, or leave the tag out for "
                                    "your usual one.")
                                  .with("cover_page", name));
}

Result<void> queue_reply(db::Tx& tx, const std::string& to, const Error& e, const std::string& subject,
                         const std::string& in_reply_to, std::optional<std::int64_t> user_id) {
  db::NewNotification n;
  n.kind = "ingest_refused";
  n.channel = "email";
  n.recipient = to;
  n.user_id = user_id;
  n.payload_json = nlohmann::json({{"error", {{"code", std::string(e.name())}, {"message", e.message}}},
                                   {"subject", subject},
                                   {"in_reply_to", in_reply_to}})
                       .dump();
  auto r = db::notifications::enqueue(tx, n);
  if (!r) return r.error();
  return {};
}

std::string without_brackets(std::string id) {
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  return id;
}

// A message fetched and read, waiting for its batch's commit, and what the write made of it.
struct Pending {
  std::string id;   // the mailbox's
  std::string key;  // the ledger's
  Result<ingest::FaxRequest> request;
  std::optional<Decision> decision;  // written
  std::optional<Error> error;        // not written (left for the next poll)
  bool duplicate = false, prior_refused = false;
};

// One message's writes: the jobs and documents or the reply, then its ledger row. A row
// already there returns an error, so the caller's rollback (the transaction's, or the
// message's savepoint in a batch) undoes this run's writes; p.duplicate says so.
// The senders a batch's transaction has looked up, by address: a backlog comes from a
// few senders, and each lookup is a round trip. Good for one transaction only.
using SenderCache = std::map<std::string, std::optional<db::User>>;

Result<Decision> write_message(db::Tx& tx, const MailIngestConfig& config, Pending& p, SenderCache& senders) {
  p.duplicate = false;  // the write may run again after a retryable failure, or alone after its batch
  p.prior_refused = false;
  const Result<ingest::FaxRequest>& request = p.request;
  const std::string& key = p.key;
  Decision d;
  std::string outcome;
  if (!request) {
    const Error& e = request.error();
    std::string sender;
    for (const auto& [k, v] : e.context)
      if (k == "sender") sender = v;
    if (e.code == Code::k_ingest_automatic_message) {
      d.what = Decision::kAutomatic;
      outcome = "automatic";
    } else {
      d.what = Decision::kRefused;
      d.where = Disposition::kFailed;
      d.refusal = std::string(e.name());
      outcome = "refused:" + d.refusal;
      if (!sender.empty()) {
        if (auto r = queue_reply(tx, sender, e, "", without_brackets(key.rfind("<", 0) == 0 ? key : ""),
                                 std::nullopt);
            !r)
          return r.error();
      }
    }
  } else {
    const ingest::FaxRequest& f = *request;
    auto cached = senders.find(f.sender_email);
    if (cached == senders.end()) {
      auto found = db::users::by_email(tx, f.sender_email);
      if (!found) return found.error();
      cached = senders.emplace(f.sender_email, std::move(*found)).first;
    }
    const std::optional<db::User>* user = &cached->second;
    auto refusal = refuse_sender(*user, f.sender_email);
    if (!refusal && f.cover == ingest::CoverChoice::kNamed) {
      auto refused_cover = refuse_cover(tx, f.cover_name, (*user)->language);
      if (!refused_cover) return refused_cover.error();
      refusal = *refused_cover;
    }
    if (refusal) {
      d.what = Decision::kRefused;
      d.where = Disposition::kFailed;
      d.refusal = std::string(refusal->name());
      outcome = "refused:" + d.refusal;
      if (auto r = queue_reply(tx, f.sender_email, *refusal, f.subject, f.message_id,
                               *user ? std::optional<std::int64_t>((*user)->id) : std::nullopt);
          !r)
        return r.error();
    } else {
      const db::User& u = **user;
      std::vector<std::int64_t> documents;
      for (const auto& doc : f.documents) {
        db::Document stored;
        stored.kind = "upload";
        stored.media_type = doc.media_type;
        stored.filename = doc.filename;
        stored.owner_user_id = u.id;
        stored.bytes = doc.bytes;
        auto put = db::documents::put(tx, std::move(stored));
        if (!put) return put.error();
        documents.push_back(put->id);
      }
      std::vector<db::NewJob> jobs;
      for (const auto& r : f.recipients) {
        db::NewJob n;
        n.source = "email";
        n.sender_user_id = u.id;
        n.recipient_number = r.number;
        n.recipient_canonical = r.number;
        n.recipient_name = r.name;
        n.subject = f.subject;
        n.note = f.note;
        // nullopt: the sender's own cover page (the converter's choice); "": none.
        if (f.cover == ingest::CoverChoice::kNamed) n.cover_page_name = f.cover_name;
        else if (f.cover == ingest::CoverChoice::kNone) n.cover_page_name = std::string();
        n.document_ids = documents;
        jobs.push_back(std::move(n));
      }
      auto ids = db::faxes::create(tx, jobs, {}, std::nullopt, u.username);
      if (!ids) return ids.error();
      d.jobs = *ids;
      outcome = "faxed";
    }
  }
  auto fresh = db::ingested_messages::record(tx, config.mailbox_name, key, d.jobs, outcome);
  if (!fresh) return fresh.error();
  if (!*fresh) {
    // Handled before: where it goes follows what was decided then (a refused mail
    // to the failed folder), not this run's decision, which the error rolls back.
    auto prior = db::ingested_messages::outcome(tx, config.mailbox_name, key);
    if (!prior) return prior.error();
    p.prior_refused = prior->value_or("").rfind("refused:", 0) == 0;
    p.duplicate = true;  // the error rolls the jobs and the reply back
    return Error(Code::k_db_constraint, "The message is in the ingested_messages ledger already.");
  }
  return d;
}

// A batch's writes: one transaction, each message in its own savepoint, so the batch
// pays one commit (a WAL flush) while a message found in the ledger rolls back only its
// own writes. Runs on the poll's writer thread: it touches the database and the batch
// only, never the mailbox session or the metrics.
void write_batch(db::Pool& pool, const MailIngestConfig& config, std::vector<Pending>& batch) {
  auto written = pool.transact([&](db::Tx& tx) -> Result<void> {
    SenderCache senders;  // the transaction may run again after a retryable failure: afresh
    for (auto& p : batch) {
      p.decision.reset();
      p.error.reset();
      // Left open until the commit (kAtCommit): one round trip fewer per message; a
      // message that fails is still undone alone.
      auto unit = db::within_savepoint(
          tx,
          [&](db::Tx& t) -> Result<void> {
            auto d = write_message(t, config, p, senders);
            if (!d) return d.error();
            p.decision = std::move(*d);
            return {};
          },
          db::SavepointRelease::kAtCommit);
      if (!unit && !p.duplicate) p.error = unit.error();  // this message alone is left for the next poll
    }
    return {};
  });
  if (written) return;
  // The batch's transaction failed as a whole (a statement failed, the connection
  // broke, or the commit's outcome is unknown): each message again in a transaction of
  // its own, so one message's failure holds no other back. After an unknown commit the
  // ledger finds the ones that did commit.
  log::warn("mailingest.batch_write_failed", {{"messages", std::to_string(batch.size())},
                                              {"code", std::string(written.error().name())},
                                              {"reason", written.error().message}});
  for (auto& p : batch) {
    p.decision.reset();
    p.error.reset();
    auto d = pool.transact([&](db::Tx& tx) {
      SenderCache senders;
      return write_message(tx, config, p, senders);
    });
    if (d) p.decision = std::move(*d);
    else if (!p.duplicate) p.error = d.error();
  }
}

}  // namespace

Poller::Poller(db::Pool& pool, std::function<void(std::int64_t)> announce, metrics::Registry* metrics)
    : pool_(pool), announce_(std::move(announce)), metrics_(metrics) {}

namespace {
void count(metrics::Registry* m, const char* outcome, int n = 1) {
  if (m && n > 0)
    m->counter("faxbridge_mail_ingest_messages_total", "Mailbox messages handled, by outcome.", {{"outcome", outcome}})
        .inc(n);
}
}  // namespace

Result<PollReport> Poller::poll(const MailIngestConfig& config) {
  const auto started = std::chrono::steady_clock::now();
  PollReport report;
  mail::MailboxSession session(config.mailbox);
  auto listed = session.list();
  if (!listed) {
    // Cannot connect, start TLS, sign in or open the folder: every poll fails the same
    // way until someone fixes it, so the administrator is told (mailbox_alert.cpp).
    auto alerted = alert_unreadable_mailbox(pool_, config, listed.error());
    if (!alerted) log::write_error(log::Level::kWarn, "mailingest.alert_failed", alerted.error());
    else if (*alerted) log::info("mailingest.alert_written", {{"cause", std::string(listed.error().name())},
                                                              {"mailbox", config.mailbox_name}});
    return listed.error();
  }
  report.seen = static_cast<int>(listed->size());

  // The batch being written on the writer thread, and that thread. Declared in this
  // order so that leaving the poll (a crash point) first waits for the write.
  std::vector<Pending> in_flight;
  std::future<void> writing;
  // Waits for the writer to commit in_flight and takes the batch back: it is then
  // announced and moved by finish(). False when a crash point stops the poll.
  std::vector<Pending> committed;
  const auto take_committed = [&]() -> bool {
    writing.get();
    committed = std::move(in_flight);
    in_flight.clear();
    return !(crash_ && crash_("committed"));
  };
  const auto start_writing = [&](std::vector<Pending> batch) {
    in_flight = std::move(batch);
    writing = std::async(std::launch::async, [this, &config, &in_flight] { write_batch(pool_, config, in_flight); });
  };
  // Announces, counts and moves the committed batch (this thread alone uses the
  // session), while the writer may be writing the next one. False when a crash point
  // stops the poll.
  const auto finish = [&]() -> bool {
    std::vector<std::string> to_processed, to_failed;
    for (auto& p : committed) {
      Decision d;
      if (p.error) {
        log::warn("mailingest.write_failed", {{"message", p.id}, {"code", std::string(p.error->name())},
                                              {"reason", p.error->message}});
        ++report.failed;
        count(metrics_, "failed");
        continue;
      }
      if (p.decision) {
        d = std::move(*p.decision);
      } else {
        d.what = Decision::kDuplicate;
        d.where = p.prior_refused ? Disposition::kFailed : Disposition::kProcessed;
      }
      for (auto id : d.jobs) announce_(id);
      switch (d.what) {
        case Decision::kFaxed:
          ++report.faxed;
          report.jobs += static_cast<int>(d.jobs.size());
          count(metrics_, "faxed");
          if (metrics_)
            metrics_->counter("faxbridge_mail_ingest_jobs_total", "Fax jobs made from mails.").inc(d.jobs.size());
          break;
        case Decision::kRefused:
          ++report.refused;
          count(metrics_, "refused");
          if (metrics_)
            metrics_->counter("faxbridge_mail_ingest_refusals_total", "Mails refused, by reason.",
                              {{"code", d.refusal}}).inc();
          break;
        case Decision::kAutomatic: ++report.automatic; count(metrics_, "automatic"); break;
        case Decision::kDuplicate: ++report.duplicates; count(metrics_, "duplicate"); break;
      }
      (d.where == Disposition::kFailed ? to_failed : to_processed).push_back(p.id);
    }
    // The batch's committed messages moved together: one COPY, STORE and EXPUNGE per
    // folder instead of per message (Dovecot syncs its files at each).
    for (const auto& [ids, failed_folder] : {std::pair{&to_processed, false}, std::pair{&to_failed, true}}) {
      if (ids->empty()) continue;
      auto moved = failed_folder ? session.move_to_failed(*ids) : session.mark_processed(*ids);
      if (!moved)
        log::warn("mailingest.move_failed", {{"messages", std::to_string(ids->size())},
                                             {"message", ids->front()},
                                             {"code", std::string(moved.error().name())},
                                             {"reason", moved.error().message}});
      if (crash_ && crash_("moved")) return false;
    }
    return true;
  };

  std::size_t next = 0;
  std::size_t batch_limit = 1;
  while (next < listed->size()) {
    // Fetch and read a batch: up to batch_limit messages, or kBatchBytes of mail (a mail
    // larger than that is a batch of its own). The limit doubles with each batch (1, 2,
    // 4, 8, 16, 32) up to kBatchMessages: a poll that finds a few mails (the usual
    // 20-second poll) commits and moves the first almost as soon as it is read, and a
    // backlog goes 40 at a time after 6 batches (63 mails). (It grew by one every second
    // batch before, 420 mails to reach 20, which left a 1,000-mail backlog paying twice
    // as many commits and moves: bench/mail.) Meanwhile the batch before is written on
    // the writer thread.
    std::vector<Pending> batch;
    std::size_t batch_bytes = 0;
    while (next < listed->size() && batch.size() < batch_limit && batch_bytes < kBatchBytes) {
      const auto& entry = (*listed)[next++];
      auto raw = session.fetch(entry.id, config.ingest.max_message_bytes);
      std::string bytes;
      std::optional<Error> fetch_refusal;
      if (!raw) {
        if (raw.error().code != Code::k_mail_message_too_large) {
          log::warn("mailingest.fetch_failed", {{"message", entry.id}, {"code", std::string(raw.error().name())},
                                                {"reason", raw.error().message}});
          ++report.failed;
          count(metrics_, "failed");
          continue;
        }
        fetch_refusal = raw.error();  // nothing downloaded: no sender to answer
      } else {
        bytes = std::move(*raw);
      }
      if (crash_ && crash_("fetched")) return report;
      batch_bytes += bytes.size();
      const std::string key = fetch_refusal ? "uid:" + config.mailbox_name + "/" + entry.id : ingest::message_key(bytes);
      batch.push_back(Pending{entry.id, key,
                              fetch_refusal ? Result<ingest::FaxRequest>(*fetch_refusal)
                                            : ingest::parse_fax_request(bytes, config.ingest),
                              std::nullopt, std::nullopt});
    }
    if (batch.empty()) continue;
    batch_limit = std::min(batch_limit * 2, kBatchMessages);
    // The batch before must have committed before this one is written (batches commit
    // in mailbox order); it is moved while this one is written (IMAP's COPY, STORE and
    // EXPUNGE wait on Dovecot's syncs, which need not hold PostgreSQL up).
    const bool before = writing.valid();
    if (before && !take_committed()) return report;
    start_writing(std::move(batch));
    if (before && !finish()) return report;
  }
  if (writing.valid() && !(take_committed() && finish())) return report;
  if (auto c = session.close(); !c)
    log::warn("mailingest.close_failed", {{"code", std::string(c.error().name())}, {"reason", c.error().message}});
  if (metrics_)
    metrics_->histogram("faxbridge_mail_ingest_poll_seconds", "Time of one whole poll of the mailbox.",
                        {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60})
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return report;
}

}  // namespace faxbridge::mailingest
