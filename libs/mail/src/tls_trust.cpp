// Certificate trust and deadlines shared by the SMTP, IMAP and POP3 sessions
// (tls_trust.hpp says the rules).
#include "tls_trust.hpp"

#include <sodium.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>
#include <vmime/security/cert/certificateException.hpp>
#include <vmime/security/cert/defaultCertificateVerifier.hpp>
#include <vmime/vmime.hpp>

namespace faxbridge::mail::detail {
namespace {

namespace cert = vmime::security::cert;

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

class Verifier final : public cert::certificateVerifier {
 public:
  explicit Verifier(const TrustSettings& s) : pin_(normalized_hex(s.pinned_sha256)), verify_(s.verify_certificate) {
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

}  // namespace

std::shared_ptr<cert::certificateVerifier> make_certificate_verifier(const TrustSettings& trust) {
  return vmime::make_shared<Verifier>(trust);
}

std::shared_ptr<vmime::net::timeoutHandlerFactory> make_deadline_factory(std::chrono::milliseconds limit) {
  return vmime::make_shared<DeadlineFactory>(limit);
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace faxbridge::mail::detail
