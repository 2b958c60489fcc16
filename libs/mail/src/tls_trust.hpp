#pragma once
// What every vmime session of libs/mail (SMTP out, IMAP and POP3 in) trusts and how long
// it waits, in one place so the three protocols check certificates the same way:
//
// - A pinned certificate (the SHA-256 of its DER form, hex, colons allowed) is trusted
//   alone, whoever signed it: the leaf must be exactly that certificate.
// - Otherwise, unless verification is off, the chain must lead to a trusted CA (the
//   system's bundle, or a private CA file) and name the host (vmime's default verifier).
// - Every network operation gets the same limit: vmime polls isTimeOut() while it waits
//   and gives up when handleTimeOut() says so.
#include <chrono>
#include <memory>
#include <string>
#include <vmime/net/timeoutHandler.hpp>
#include <vmime/security/cert/certificateVerifier.hpp>

namespace faxbridge::mail::detail {

struct TrustSettings {
  bool verify_certificate = true;
  std::string ca_file;        // PEM bundle; empty: the system's
  std::string pinned_sha256;  // set: only this certificate
};

std::shared_ptr<vmime::security::cert::certificateVerifier> make_certificate_verifier(const TrustSettings& trust);
std::shared_ptr<vmime::net::timeoutHandlerFactory> make_deadline_factory(std::chrono::milliseconds limit);

// CR and LF as spaces, trailing spaces cut: a server's answer fit for one log line.
std::string one_line(std::string s);

}  // namespace faxbridge::mail::detail
