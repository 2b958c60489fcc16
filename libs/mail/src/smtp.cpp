#include "faxbridge/mail/smtp.hpp"

#include <vmime/net/smtp/SMTPExceptions.hpp>
#include <vmime/security/cert/certificateException.hpp>
#include <vmime/vmime.hpp>

#include "coalescing_socket.hpp"
#include "tls_trust.hpp"
#include "vmime_platform.hpp"

namespace faxbridge::mail {
namespace {

namespace cert = vmime::security::cert;
using detail::one_line;

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

Result<void> SmtpSession::send(const Envelope& envelope, const std::string& message) {
  if (envelope.to.empty()) return Error(Code::k_mail_invalid_message, "The mail has no recipient.");
  auto c = connect();
  if (!c) return c.error();
  const std::string server = settings_.host + ":" + std::to_string(settings_.port);
  try {
    vmime::mailboxList recipients;
    for (const auto& to : envelope.to) recipients.appendMailbox(vmime::make_shared<vmime::mailbox>(vmime::emailAddress(to)));
    vmime::utility::inputStreamStringAdapter in(message);
    state_->transport->send(vmime::mailbox(vmime::emailAddress(envelope.from)), recipients, in, message.size());
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
