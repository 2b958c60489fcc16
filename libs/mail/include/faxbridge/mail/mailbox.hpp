#pragma once
// A mailbox session over vmime, IMAP or POP3, for mail-ingest: connect and sign in, count
// and list the waiting messages with an id that stays the same across sessions, fetch a
// message's raw bytes, and once its jobs are committed take it out of the way.
//
// - The protocol follows the port as the product guide says (110 POP3, 995 POP3 over
//   TLS, 143 IMAP, 993 IMAP over TLS) unless set; TLS follows the port too (implicit on
//   993 and 995, STARTTLS otherwise) unless set. STARTTLS, when chosen, is required.
// - Certificates are checked the way the SMTP session checks them (tls_trust.hpp): the
//   system's CA bundle, a private CA file, or a pinned SHA-256 trusted alone.
// - Ids: IMAP "<UIDVALIDITY>.<UID>" (RFC 3501 2.3.1.1: a UID is only stable together with
//   its folder's UIDVALIDITY), POP3 the server's UIDL.
// - After the jobs commit: IMAP copies the message to the processed folder (created when
//   missing), marks it \Deleted and expunges; with no processed folder set it stays where
//   it is, marked \Seen and \Flagged, and list() no longer shows it (vmime 0.9.2 has no
//   API for custom keywords, so \Flagged is the mark). POP3 deletes it: DELE now, which
//   the server carries out at QUIT, so a POP3 delete is committed by close().
// - A refused message goes to the failed folder (IMAP; created when missing). POP3 has
//   no folders: the message is deleted like a processed one, the ledger keeps the
//   outcome and the sender has had the reply.
//
// - IMAP IDLE (RFC 2177) where the server offers it: idle() waits on the open folder
//   until a new message arrives, so mail-ingest can poll at once instead of at the next
//   interval. vmime 0.9.2 has no IDLE; imap_idle.cpp speaks it on vmime's connection.
//
// Errors (docs/errors.md): mail.mailbox_unreachable (kUnavailable: try again at the
// next poll), mail.mailbox_auth_failed, mail.mailbox_tls_failed,
// mail.mailbox_protocol_unknown (the settings are wrong), mail.mailbox_failed (the
// server refused a command), mail.mailbox_message_gone (another reader took it),
// mail.message_too_large (over the caller's limit; nothing was downloaded).
// Any error drops the connection; the next call connects again.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/result.hpp"
#include "faxbridge/mail/tls.hpp"

namespace faxbridge::mail {

enum class MailboxProtocol { kImap, kPop3 };

// "imap", "pop3"; false for anything else.
bool parse_mailbox_protocol(const std::string& text, MailboxProtocol& out);
const char* mailbox_protocol_name(MailboxProtocol protocol);

struct MailboxSettings {
  std::string host;
  int port = 993;
  std::optional<MailboxProtocol> protocol;  // unset: from the port
  std::optional<TlsMode> tls;               // unset: implicit on 993/995, else STARTTLS
  bool verify_certificate = true;
  std::string ca_file;        // PEM file of trusted CAs; empty: the system's bundle
  std::string pinned_sha256;  // hex, colons allowed; set: only this certificate is trusted
  std::string username;
  std::string password;
  std::string folder = "INBOX";                // IMAP: the folder read
  std::string processed_folder = "processed";  // IMAP: empty: flag instead of move
  std::string failed_folder = "failed";        // IMAP
  std::chrono::milliseconds timeout{30000};    // per network operation

  bool operator==(const MailboxSettings&) const = default;
};

struct MailboxEndpoint {
  MailboxProtocol protocol = MailboxProtocol::kImap;
  TlsMode tls = TlsMode::kImplicit;
};

// The protocol and TLS mode the settings come to. Error: mail.mailbox_protocol_unknown
// when neither the protocol is set nor the port is one of the four known ones.
Result<MailboxEndpoint> resolve_endpoint(const MailboxSettings& settings);

enum class IdleResult {
  kNewMail,      // the server announced a new message in the folder
  kTimedOut,     // max_wait passed
  kStopped,      // stop() said so
  kUnsupported,  // POP3, or an IMAP server without IDLE: wait some other way
};

struct MailboxEntry {
  std::string id;         // stable across sessions (see above)
  std::size_t size = 0;   // bytes, as the server reports them
};

class MailboxSession final {
 public:
  explicit MailboxSession(MailboxSettings settings);
  ~MailboxSession();
  MailboxSession(const MailboxSession&) = delete;
  MailboxSession& operator=(const MailboxSession&) = delete;

  // Connects, signs in and opens the folder, unless already done.
  Result<void> connect();
  // Messages waiting (IMAP: in the folder; flagged ones included).
  Result<std::size_t> count();
  // The waiting messages, oldest first (IMAP without a processed folder: unflagged only).
  Result<std::vector<MailboxEntry>> list();
  // The message's bytes as stored (RFC 5322, CRLF). IMAP reads with BODY.PEEK, so the
  // message is not marked \Seen. Refused with mail.message_too_large, before anything
  // is downloaded, when the server reports it larger than max_bytes.
  Result<std::string> fetch(const std::string& id, std::size_t max_bytes);
  // After the jobs commit (see above). POP3: committed by close().
  Result<void> mark_processed(const std::string& id);
  // A message that cannot be faxed (see above).
  Result<void> move_to_failed(const std::string& id);
  // The same for several messages at once: one message set, so IMAP moves them with one
  // COPY, one STORE and one EXPUNGE. An id no longer there is the error
  // (mail.mailbox_message_gone, the first such id) once the others are moved.
  Result<void> mark_processed(const std::vector<std::string>& ids);
  Result<void> move_to_failed(const std::vector<std::string>& ids);
  // IMAP IDLE. watch() connects and readies the session for idle(); every mail that
  // arrives from then on is announced by the idle() calls after it, even one that
  // arrives before the first idle() starts. false: no IDLE here (POP3, or a server
  // without it). idle() (watching first when not yet) waits on the folder until a new
  // message, max_wait, or stop() (checked every 50 ms). An IDLE never lasts longer than
  // 25 minutes: a server may drop a client idle for 30 (RFC 2177), so a longer wait
  // idles again.
  Result<bool> watch();
  Result<IdleResult> idle(std::chrono::milliseconds max_wait, const std::function<bool()>& stop);
  // LOGOUT / QUIT (POP3: the deletions take effect here). An error means a POP3 server
  // may not have deleted what it was asked to: the ledger keeps them from faxing twice.
  Result<void> close();
  bool connected() const;

  const MailboxSettings& settings() const { return settings_; }

 private:
  struct State;
  Result<void> move(const std::vector<std::string>& ids, const std::string& folder, bool flag_only);
  MailboxSettings settings_;
  std::unique_ptr<State> state_;
};

}  // namespace faxbridge::mail
