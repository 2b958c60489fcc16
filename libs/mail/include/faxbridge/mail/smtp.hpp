#pragma once
// An SMTP client session over vmime: STARTTLS (587) or implicit TLS (465) or none (a
// relay on the same host), AUTH PLAIN/LOGIN through vmime's SASL when a user is set, and
// one connection kept open across a batch of mails (connect() happens on the first send
// and again after any failure).
//
// vmime makes the connection, TLS, AUTH and the commands (pipelined when the server offers
// PIPELINING, SIZE when it offers it); the mail transaction's DATA is ours: the message,
// already CRLF text, is dot-stuffed in one pass and written whole, where vmime's transport
// pushes it through a per-byte stream filter (Debian builds vmime without optimisation,
// and that filter was a tenth of the notifier's time). After a failure the session is
// closed, never RSET, so a half-done transaction cannot leak into the next mail.
//
// Certificates are verified by default against the system's CA bundle, or a private CA
// file; a pinned certificate (the SHA-256 of its DER form, as `openssl x509 -noout
// -fingerprint -sha256` prints it) is trusted alone, whoever signed it. STARTTLS is
// required when chosen: never a silent fall-back to plain text.
//
// What went wrong is an Error whose kind tells the caller what to do (docs/errors.md):
//   smtp.unreachable, smtp.temporary (4xx)    kUnavailable: try the mail again later
//   smtp.rejected (5xx)                       kFailedPrecondition: fail it, keep the answer
//   smtp.auth_failed, smtp.tls_failed         kFailedPrecondition: the settings are wrong
// The server's answer (code and text) is in the error's message and its `reply` context.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "faxbridge/core/result.hpp"
#include "faxbridge/mail/tls.hpp"

namespace faxbridge::mail {

struct SmtpSettings {
  std::string host;
  int port = 587;
  TlsMode tls = TlsMode::kStartTls;
  bool verify_certificate = true;
  std::string ca_file;        // PEM file of trusted CAs; empty: the system's bundle
  std::string pinned_sha256;  // hex, colons allowed; set: only this certificate is trusted
  std::string username;       // empty: no AUTH
  std::string password;
  std::chrono::milliseconds timeout{30000};  // per network operation
};

struct Envelope {
  std::string from;                // MAIL FROM (an addr-spec)
  std::vector<std::string> to;     // RCPT TO
};

// May this mail's body go (SmtpSession::send)? An error: no, and this error is the send's.
using BeforeBody = std::function<Result<void>()>;

class SmtpSession final {
 public:
  explicit SmtpSession(SmtpSettings settings);
  ~SmtpSession();
  SmtpSession(const SmtpSession&) = delete;
  SmtpSession& operator=(const SmtpSession&) = delete;

  // Connects (and authenticates) unless already connected.
  Result<void> connect();
  // Sends one message (RFC 5322 bytes with CRLF line ends, as compose() makes them).
  // On any error the connection is dropped; the next call connects again.
  // before_body, when set, is called once the server has answered DATA with 354, before
  // the body goes: the server has the mail only once the body and its end arrive. An error
  // from it is returned as it is, the body not sent and the connection dropped, so the
  // server has no mail (the notifier waits there for its previous mail's sent record, so
  // that commit overlaps this mail's composition and envelope).
  Result<void> send(const Envelope& envelope, const std::string& message, const BeforeBody& before_body = {});
  // QUIT, when connected.
  void close();
  bool connected() const;

  const SmtpSettings& settings() const { return settings_; }

 private:
  struct State;
  SmtpSettings settings_;
  std::unique_ptr<State> state_;
};

}  // namespace faxbridge::mail
