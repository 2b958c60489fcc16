#pragma once
// Test support: a private certificate authority made with the openssl CLI, for tests of
// TLS clients that must trust the CA they are told about and nothing else. It signs
// server certificates for the names a test chooses, so a test can tell apart "signed by
// the trusted CA, right name", "signed by it, another name" and "an issuer nobody
// trusts" (TestCertificate, mail_servers.hpp: the self-signed kind). EC P-256 keys: made
// in milliseconds, where RSA takes a good part of a second each.
#include <filesystem>
#include <stdexcept>
#include <string>

#include "faxbridge/testing/mail_servers.hpp"

namespace faxbridge::testing {

struct TestCa {
  std::filesystem::path dir;
  std::string cert_file, key_file;

  static TestCa make(const std::filesystem::path& dir, const std::string& name = "ca") {
    TestCa ca;
    ca.dir = dir;
    ca.cert_file = (dir / (name + "-cert.pem")).string();
    ca.key_file = (dir / (name + "-key.pem")).string();
    // openssl req -x509 marks it CA:TRUE (Debian's openssl.cnf, v3_ca).
    if (!mail_detail::run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3 "
                          "-subj '/CN=Faxbridge test CA " + name + "' -keyout " + ca.key_file + " -out " +
                          ca.cert_file + " >/dev/null 2>&1"))
      throw std::runtime_error("openssl could not make the test CA in " + dir.string());
    return ca;
  }

  // A server certificate signed by this CA for `san` ("DNS:localhost,IP:127.0.0.1"); its
  // sha256 is left empty (no test pins these).
  TestCertificate issue(const std::string& name, const std::string& san) const {
    TestCertificate c;
    c.cert_file = (dir / (name + "-cert.pem")).string();
    c.key_file = (dir / (name + "-key.pem")).string();
    const std::string csr = (dir / (name + ".csr")).string();
    const std::string ext = (dir / (name + ".ext")).string();
    mail_detail::write_file(ext, "subjectAltName=" + san +
                                     "\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n");
    if (!mail_detail::run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" +
                          name + " -keyout " + c.key_file + " -out " + csr + " >/dev/null 2>&1") ||
        !mail_detail::run("openssl x509 -req -in " + csr + " -CA " + cert_file + " -CAkey " + key_file +
                          " -CAcreateserial -days 3 -extfile " + ext + " -out " + c.cert_file + " >/dev/null 2>&1"))
      throw std::runtime_error("openssl could not issue the test certificate " + name);
    return c;
  }
};

}  // namespace faxbridge::testing
