#include "faxbridge/mail/smtp.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include <vmime/net/smtp/SMTPCommandSet.hpp>
#include <vmime/net/smtp/SMTPConnection.hpp>
#include <vmime/net/smtp/SMTPExceptions.hpp>
#include <vmime/net/smtp/SMTPResponse.hpp>
#include <vmime/net/smtp/SMTPTransport.hpp>
#include <vmime/security/cert/certificateException.hpp>
#include <vmime/vmime.hpp>

#include "coalescing_socket.hpp"
#include "tls_trust.hpp"
#include "vmime_platform.hpp"

namespace faxbridge::mail {
namespace {

namespace cert = vmime::security::cert;
using detail::one_line;

namespace smtp = vmime::net::smtp;

// The message as DATA carries it (RFC 5321 4.5.2): a line that starts with a dot gets a
// second one, and the end is CRLF.CRLF. One pass with memchr over the lines.
std::string dot_stuffed(const std::string& message) {
  std::string out;
  out.reserve(message.size() + 64);
  std::size_t pos = 0;
  while (pos < message.size()) {
    if (message[pos] == '.') out.push_back('.');
    const void* nl = std::memchr(message.data() + pos, '\n', message.size() - pos);
    const std::size_t end = nl ? static_cast<const char*>(nl) - message.data() + 1 : message.size();
    out.append(message, pos, end - pos);
    pos = end;
  }
  const bool ends_with_crlf = out.size() >= 2 && out.compare(out.size() - 2, 2, "\r\n") == 0;
  out += ends_with_crlf ? ".\r\n" : "\r\n.\r\n";
  return out;
}

void expect(const std::string& command, const smtp::SMTPResponse& answer, int code, int also = 0) {
  const int got = answer.getCode();
  if (got == code || (also != 0 && got == also)) return;
  throw smtp::SMTPCommandError(command, answer.getText(), got, answer.getEnhancedCode());
}

// One mail transaction on vmime's connection: MAIL, RCPT and DATA built and answered by
// vmime's own commands and response parser (pipelined when the server offers it, SIZE
// when it takes it), the body written here. vmime's transport would copy the body
// through its dot-stuffing stream, which in Debian's build costs a function call per
// byte: a third of the notifier's time for a mail with a 2-page PDF (bench/notifier).
// No RSET before MAIL: a session is closed after any failure, so a transaction always
// starts on a connection whose last one ended with 250.
// With `before_body`, the server's 354 is awaited and the hook decides whether the body
// goes: its error is returned with the transaction left open (the caller drops the
// connection, so the server has no mail, RFC 5321 4.1.1.4). The body is then written in
// one piece with its end: a tail held back on its own (the final ".") would wait for the
// server's delayed ACK of the body under Nagle's algorithm, 40 ms (measured).
std::optional<Error> transact(smtp::SMTPConnection& c, const Envelope& envelope, const std::string& message,
                              const BeforeBody& before_body) {
  auto commands = smtp::SMTPCommandSet::create(c.hasExtension("PIPELINING"));
  const vmime::mailbox from{vmime::emailAddress(envelope.from)};
  commands->addCommand(c.hasExtension("SIZE") ? smtp::SMTPCommand::MAIL(from, false, message.size())
                                              : smtp::SMTPCommand::MAIL(from, false));
  for (const auto& to : envelope.to) commands->addCommand(smtp::SMTPCommand::RCPT(vmime::mailbox(vmime::emailAddress(to)), false));
  commands->addCommand(smtp::SMTPCommand::DATA());
  const auto answer = [&](int code, int also = 0) {
    commands->writeToSocket(c.getSocket(), c.getTracer());  // all at once when pipelined
    auto r = c.readResponse();
    expect(commands->getLastCommandSent()->getText(), *r, code, also);
  };
  answer(250);                                                   // MAIL
  for (std::size_t i = 0; i < envelope.to.size(); ++i) answer(250, 251);  // RCPT
  answer(354);                                                   // DATA
  const std::string body = dot_stuffed(message);
  if (before_body) {
    if (auto go = before_body(); !go) return go.error();
  }
  c.getSocket()->sendRaw(reinterpret_cast<const vmime::byte_t*>(body.data()), body.size());
  expect("DATA", *c.readResponse(), 250);
  return std::nullopt;
}

}  // namespace

bool parse_tls_mode(const std::string& text, TlsMode& out) {
  if (text == "none") out = TlsMode::kNone;
  else if (text == "starttls") out = TlsMode::kStartTls;
  else if (text == "tls") out = TlsMode::kImplicit;
  else return false;
  return true;
}

const char* tls_mode_name(TlsMode mode) {
  switch (mode) {
    case TlsMode::kNone: return "none";
    case TlsMode::kStartTls: return "starttls";
    case TlsMode::kImplicit: return "tls";
  }
  return "none";
}

struct SmtpSession::State {
  std::shared_ptr<vmime::net::session> session;
  std::shared_ptr<vmime::net::transport> transport;
};

SmtpSession::SmtpSession(SmtpSettings settings) : settings_(std::move(settings)), state_(std::make_unique<State>()) {}

SmtpSession::~SmtpSession() { close(); }

bool SmtpSession::connected() const { return state_->transport && state_->transport->isConnected(); }

namespace {

// What the server or the network said, as one of our codes.
Error classify(const std::string& server, const char* step) {
  try {
    throw;
  } catch (const vmime::net::smtp::SMTPCommandError& e) {
    const int status = e.statusCode();
    const std::string reply = one_line(e.response());
    const std::string command = one_line(e.command());
    const bool auth = command.rfind("AUTH", 0) == 0;
    Code code = status >= 500 ? Code::k_smtp_rejected : Code::k_smtp_temporary;
    if (auth && status >= 500) code = Code::k_smtp_auth_failed;
    if (command.rfind("STARTTLS", 0) == 0 && status >= 500) code = Code::k_smtp_tls_failed;
    return Error(code, "The mail server " + server + " answered \"" + reply + "\" to " +
                           (command.empty() ? std::string(step) : command.substr(0, command.find(' '))) + ".")
        .with("reply", reply)
        .with("status", std::to_string(status));
  } catch (const vmime::exceptions::authentication_error& e) {
    return Error(Code::k_smtp_auth_failed, "The mail server " + server + " refused the SMTP user name or password: " +
                                               one_line(e.response()) + ". Check the SMTP settings.")
        .with("reply", one_line(e.response()));
  } catch (const vmime::exceptions::authentication_exception& e) {
    return Error(Code::k_smtp_auth_failed,
                 "Could not sign in to the mail server " + server + ": " + one_line(e.what()) + ". Check the SMTP settings.");
  } catch (const cert::certificateException& e) {
    return Error(Code::k_smtp_tls_failed, "The mail server " + server + "'s certificate is not trusted: " +
                                              one_line(e.what()) + ". Fix the server's certificate or the TLS settings.");
  } catch (const vmime::exceptions::tls_exception& e) {
    return Error(Code::k_smtp_tls_failed, "TLS with the mail server " + server + " failed: " + one_line(e.what()) + ".");
  } catch (const vmime::exceptions::command_error& e) {
    // vmime's own refusals, e.g. STARTTLS required but not offered.
    const std::string reply = one_line(e.response());
    const bool tls = one_line(e.command()).rfind("STARTTLS", 0) == 0;
    return Error(tls ? Code::k_smtp_tls_failed : Code::k_smtp_temporary,
                 "The mail server " + server + " answered \"" + reply + "\" to " + one_line(e.command()) + ".")
        .with("reply", reply);
  } catch (const vmime::exceptions::operation_timed_out&) {
    return Error(Code::k_smtp_unreachable, "The mail server " + server + " did not answer in time (" + step + ").");
  } catch (const vmime::exceptions::net_exception& e) {
    return Error(Code::k_smtp_unreachable, "The mail server " + server + " could not be reached (" + step +
                                               "): " + one_line(e.what()) + ".");
  } catch (const vmime::exception& e) {
    return Error(Code::k_smtp_unreachable, "Talking to the mail server " + server + " failed (" + step + "): " +
                                               one_line(e.what()) + ".");
  } catch (const std::exception& e) {
    return Error(Code::k_smtp_unreachable, "Talking to the mail server " + server + " failed (" + step + "): " +
                                               one_line(e.what()) + ".");
  }
}

}  // namespace

Result<void> SmtpSession::connect() {
  if (connected()) return {};
  detail::ensure_vmime_platform();
  const std::string server = settings_.host + ":" + std::to_string(settings_.port);
  if (settings_.host.empty() || settings_.port <= 0 || settings_.port > 65535)
    return Error(Code::k_smtp_unreachable, "No mail server is configured (SMTP host and port).");
  try {
    state_->transport.reset();
    state_->session = vmime::net::session::create();
    const bool implicit = settings_.tls == TlsMode::kImplicit;
    vmime::utility::url url(implicit ? "smtps" : "smtp", settings_.host, settings_.port);
    auto transport = state_->session->getTransport(url);
    const bool starttls = settings_.tls == TlsMode::kStartTls;
    transport->setProperty("connection.tls", starttls);
    transport->setProperty("connection.tls.required", starttls);
    const bool auth = !settings_.username.empty();
    transport->setProperty("options.need-authentication", auth);
    if (auth) {
      transport->setProperty("auth.username", settings_.username);
      transport->setProperty("auth.password", settings_.password);
    }
    transport->setCertificateVerifier(detail::make_certificate_verifier(
        {settings_.verify_certificate, settings_.ca_file, settings_.pinned_sha256}));
    transport->setTimeoutHandlerFactory(detail::make_deadline_factory(settings_.timeout));
    transport->setSocketFactory(
        vmime::make_shared<detail::CoalescingSocketFactory>(vmime::platform::getHandler()->getSocketFactory()));
    transport->connect();
    state_->transport = transport;
    return {};
  } catch (...) {
    Error e = classify(server, "connect");
    state_->transport.reset();
    return e.with("server", server);
  }
}

Result<void> SmtpSession::send(const Envelope& envelope, const std::string& message, const BeforeBody& before_body) {
  if (envelope.to.empty()) return Error(Code::k_mail_invalid_message, "The mail has no recipient.");
  auto c = connect();
  if (!c) return c.error();
  const std::string server = settings_.host + ":" + std::to_string(settings_.port);
  try {
    auto transport = vmime::dynamicCast<smtp::SMTPTransport>(state_->transport);
    if (!transport || !transport->getConnection()) throw vmime::exceptions::not_connected();
    if (auto held = transact(*transport->getConnection(), envelope, message, before_body)) {
      // In DATA with no body: dropped without QUIT (which would be taken for the body),
      // so the server has no mail.
      if (auto socket = transport->getConnection()->getSocket()) socket->disconnect();
      close();
      return *held;
    }
    return {};
  } catch (...) {
    Error e = classify(server, "send");
    close();  // a connection in an unknown state is never reused
    return e.with("server", server);
  }
}

void SmtpSession::close() {
  if (!state_->transport) return;
  try {
    if (state_->transport->isConnected()) state_->transport->disconnect();
  } catch (const std::exception&) {
    // QUIT is a courtesy: the connection goes either way.
  }
  state_->transport.reset();
}

}  // namespace faxbridge::mail
