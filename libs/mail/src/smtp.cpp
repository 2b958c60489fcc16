#include "faxbridge/mail/smtp.hpp"

#include <sodium.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <vmime/net/smtp/SMTPExceptions.hpp>
#include <vmime/security/cert/certificateException.hpp>
#include <vmime/security/cert/defaultCertificateVerifier.hpp>
#include <vmime/vmime.hpp>

#include "coalescing_socket.hpp"
#include "vmime_platform.hpp"

namespace faxbridge::mail {
namespace {

namespace cert = vmime::security::cert;

// Every network operation gets `limit`; vmime polls isTimeOut() while it waits and gives
// up when handleTimeOut() says so.
class Deadline final : public vmime::net::timeoutHandler {
 public:
  explicit Deadline(std::chrono::milliseconds limit) : limit_(limit) { resetTimeOut(); }
  bool isTimeOut() override { return std::chrono::steady_clock::now() >= deadline_; }
  void resetTimeOut() override { deadline_ = std::chrono::steady_clock::now() + limit_; }
  bool handleTimeOut() override { return false; }

 private:
  std::chrono::milliseconds limit_;
  std::chrono::steady_clock::time_point deadline_;
};

class DeadlineFactory final : public vmime::net::timeoutHandlerFactory {
 public:
  explicit DeadlineFactory(std::chrono::milliseconds limit) : limit_(limit) {}
  std::shared_ptr<vmime::net::timeoutHandler> create() override { return vmime::make_shared<Deadline>(limit_); }

 private:
  std::chrono::milliseconds limit_;
};

std::string normalized_hex(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

std::string sha256_hex(const vmime::byteArray& bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, bytes.data(), bytes.size());
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

// Each PEM block of a bundle ("-----BEGIN CERTIFICATE-----" ... "-----END ...").
std::vector<std::shared_ptr<cert::X509Certificate>> read_pem_bundle(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  std::vector<std::shared_ptr<cert::X509Certificate>> out;
  const std::string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
  for (std::size_t at = text.find(begin); at != std::string::npos; at = text.find(begin, at)) {
    const std::size_t stop = text.find(end, at);
    if (stop == std::string::npos) break;
    const std::string block = text.substr(at, stop + end.size() - at) + "\n";
    if (auto c = cert::X509Certificate::import(reinterpret_cast<const vmime::byte_t*>(block.data()), block.size()))
      out.push_back(c);
    at = stop;
  }
  return out;
}

// Pinned: the leaf must be exactly that certificate. Otherwise the chain must lead to a
// trusted CA and name the host (vmime's default verifier), unless verification is off.
class Verifier final : public cert::certificateVerifier {
 public:
  explicit Verifier(const SmtpSettings& s) : pin_(normalized_hex(s.pinned_sha256)), verify_(s.verify_certificate) {
    if (pin_.empty() && verify_) {
      const std::string file = s.ca_file.empty() ? "/etc/ssl/certs/ca-certificates.crt" : s.ca_file;
      roots_ = read_pem_bundle(file);
      ca_source_ = file;
    }
  }
  void verify(std::shared_ptr<cert::certificateChain> chain, const vmime::string& hostname) override {
    if (!pin_.empty()) {
      if (chain->getCount() == 0) throw cert::certificateException("the server sent no certificate");
      const std::string seen = sha256_hex(chain->getAt(0)->getEncoded());
      if (seen != pin_)
        throw cert::certificateException("the server's certificate (SHA-256 " + seen + ") is not the pinned one");
      return;
    }
    if (!verify_) return;
    if (roots_.empty()) throw cert::certificateException("no trusted CA could be read from " + ca_source_);
    cert::defaultCertificateVerifier v;
    v.setX509RootCAs(roots_);
    v.verify(chain, hostname);
  }

 private:
  std::string pin_;
  bool verify_;
  std::string ca_source_;
  std::vector<std::shared_ptr<cert::X509Certificate>> roots_;
};

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
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
    transport->setCertificateVerifier(vmime::make_shared<Verifier>(settings_));
    transport->setTimeoutHandlerFactory(vmime::make_shared<DeadlineFactory>(settings_.timeout));
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
