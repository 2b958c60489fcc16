// DESIGN: see http_post.hpp. cpp-httplib's per-read timeouts alone would let a receiver
// answering one byte every few seconds keep the connection forever, so a watchdog thread
// calls Client::stop() (which shuts the socket down, the one thread-safe thing it
// offers) at the deadline. Redirects are not followed (Standard Webhooks: a 3xx is a
// failure; the URL should be updated), and the host -> address map makes the client
// connect to the address the SSRF check passed while Host and TLS SNI keep the name.
// TLS: cpp-httplib verifies the chain and the host name by default; we say so anyway
// (a library default is no contract) and hand it its trust store ourselves, the system's
// bundle plus webhooks.ca_file, because its own set_ca_cert_path would replace the bundle
// and a private CA would then cost every public receiver its delivery.
#include "http_post.hpp"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace faxbridge::webhook::detail {
namespace {

std::string printable(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) out += (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' ? static_cast<char>(c) : '?';
  return out;
}

class Watchdog {
 public:
  Watchdog(httplib::Client& client, std::chrono::steady_clock::time_point deadline)
      : thread_([this, &client, deadline] {
          std::unique_lock lock(mutex_);
          if (!cv_.wait_until(lock, deadline, [this] { return done_; })) {
            fired_ = true;
            client.stop();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  bool fired() {
    std::lock_guard lock(mutex_);
    return fired_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;  // last: started once the members above exist
};

// The trust store of one https POST: the system's CA bundle, and the PEM file ca_file when
// set. None, with the reason in `why`, when that file cannot be read (or holds no
// certificate): better refused with the file named than trusting less than asked.
X509_STORE* trust_store(const std::string& ca_file, std::string& why) {
  X509_STORE* store = X509_STORE_new();
  if (!store) {
    why = "no memory for a certificate store";
    return nullptr;
  }
  X509_STORE_set_default_paths(store);
  if (!ca_file.empty() && X509_STORE_load_file(store, ca_file.c_str()) != 1) {
    char text[256] = {};
    ERR_error_string_n(ERR_get_error(), text, sizeof text);
    ERR_clear_error();
    why = "the CA file " + ca_file + " (webhooks.ca_file) cannot be read as PEM certificates: " + text;
    X509_STORE_free(store);
    return nullptr;
  }
  return store;
}

}  // namespace

PostOutcome post(const Target& t, const std::map<std::string, std::string>& headers, const std::string& body,
                 std::chrono::milliseconds timeout, std::size_t max_response_bytes, const std::string& ca_file) {
  PostOutcome out;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + timeout;
  const std::string host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  const std::string where = t.scheme + "://" + host + ":" + std::to_string(t.port) + " (" + t.address + ")";
  httplib::Client client(t.scheme + "://" + host + ":" + std::to_string(t.port));
  const bool tls = t.scheme == "https";
  if (tls) {
    std::string why;
    X509_STORE* store = trust_store(ca_file, why);
    if (!store) {
      out.error = Error(Code::k_webhook_tls_failed, "Could not deliver to " + where + ": " + why + ".");
      return out;
    }
    client.set_ca_cert_store(store);  // the client's SSL_CTX owns it from here
    client.enable_server_certificate_verification(true);
  }
  client.set_hostname_addr_map({{t.host, t.address}});
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  client.set_follow_location(false);
  client.set_keep_alive(false);
  client.set_compress(false);
  client.set_decompress(false);  // what we read is what came: no inflating a small bomb

  httplib::Request req;
  req.method = "POST";
  req.path = t.path;
  for (const auto& [k, v] : headers) req.set_header(k, v);
  req.body = body;
  std::string answer;
  bool too_large = false, late = false;
  req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
    if (std::chrono::steady_clock::now() >= deadline) {
      late = true;
      return false;
    }
    if (answer.size() + n > max_response_bytes) {
      too_large = true;
      return false;
    }
    answer.append(data, n);
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool sent = false;
  bool fired = false;
  {
    Watchdog dog(client, deadline);
    sent = client.send(req, res, err);
    fired = dog.fired();
  }
  const auto now = std::chrono::steady_clock::now();
  out.duration = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
  out.excerpt = printable(answer.substr(0, kExcerptBytes));
  if (res.status > 0) out.status = res.status;
  const std::string secs = std::to_string(timeout.count() / 1000.0).substr(0, 4);
  if (too_large) {
    out.error = Error(Code::k_webhook_response_too_large,
                      "The receiver at " + where + " answered with more than " +
                          std::to_string(max_response_bytes / 1024) + " KiB; the delivery counts as failed.");
  } else if (late || fired || (!sent && now >= deadline)) {
    out.error = Error(Code::k_webhook_timeout,
                      "The receiver at " + where + " did not answer within " + secs + " s.");
  } else if (!sent && tls && err == httplib::Error::SSLServerVerification) {
    // cpp-httplib checks the chain during the handshake and the name after it: a chain
    // that verified means the name was what failed.
    const long verify = client.get_openssl_verify_result();
    const std::string why = verify != X509_V_OK
                                ? "its certificate is not signed by a trusted CA (" +
                                      std::string(X509_verify_cert_error_string(verify)) +
                                      "); a private CA goes in webhooks.ca_file"
                                : "its certificate is not for the host name " + t.host;
    out.error = Error(Code::k_webhook_tls_failed, "Refused to deliver to " + where + ": " + why + ". Nothing was sent.")
                    .with("verify_result", std::to_string(verify));
  } else if (!sent && tls && (err == httplib::Error::SSLConnection || err == httplib::Error::SSLLoadingCerts)) {
    out.error = Error(Code::k_webhook_tls_failed,
                      "Could not deliver to " + where + ": the TLS handshake failed (" + httplib::to_string(err) +
                          "; is it an https server?). Nothing was sent.");
  } else if (!sent) {
    out.error = Error(Code::k_webhook_unreachable,
                      "Could not deliver to " + where + ": " + httplib::to_string(err) + ".");
  } else if (res.status < 200 || res.status > 299) {
    out.error = Error(Code::k_webhook_http_error,
                      "The receiver at " + where + " answered HTTP " + std::to_string(res.status) + ".");
  }
  return out;
}

}  // namespace faxbridge::webhook::detail
