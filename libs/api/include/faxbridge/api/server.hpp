#pragma once
// DESIGN: the HTTP API server web-api stands on. Routes are declared as data (method,
// pattern, who may call it, what body it takes, the handler); the server does the rest
// the same way for every route, in this order:
//   request id -> route match (404/405) -> caller (401/403, via the Authenticator)
//   -> body checks from the headers (411/413/415) -> body read within limits (400/413)
//   -> handler -> response or problem+json -> access log line and metrics.
// A handler's exception becomes a 500 problem (api.internal) and a log line with the
// request id; the server keeps serving. A body refused before it was read is drained
// when small (so the client reads its answer on a clean connection) and otherwise left
// unread: the answer then carries `Connection: close` and the connection is closed, so
// a 200 MB upload costs the server a few socket buffers, not 200 MB.
// TLS: with a certificate and key configured, the server speaks HTTPS only
// (cpp-httplib's SSLServer; Debian builds it with OpenSSL).
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "faxbridge/api/auth.hpp"
#include "faxbridge/api/body.hpp"
#include "faxbridge/api/request.hpp"
#include "faxbridge/api/response.hpp"
#include "faxbridge/core/metrics.hpp"
#include "faxbridge/core/result.hpp"

namespace faxbridge::api {

using Handler = std::function<Reply(Request&)>;

struct Route {
  std::string method;   // GET, POST, PUT, PATCH, DELETE (GET also answers HEAD)
  std::string pattern;  // "/api/v1/faxes/{id}/cancel"
  Access access;        // kPublic, kSignedIn, kFaxUser, kAdministrator
  BodyKind body = BodyKind::kNone;
  Handler handler;
};

struct TlsFiles {
  std::string certificate_file;  // PEM; both empty: plain HTTP
  std::string private_key_file;
  bool enabled() const { return !certificate_file.empty() || !private_key_file.empty(); }
};

struct ServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;                 // 0: an ephemeral port, returned by start()
  std::size_t threads = 8;      // requests served at once; more connections wait in line
  BodyLimits limits;
  std::chrono::seconds read_timeout{30};   // a client that stops sending mid-body
  std::chrono::seconds write_timeout{30};
  std::chrono::seconds keep_alive_timeout{5};  // idle keep-alive; also bounds stop()
  TlsFiles tls;
  std::string session_cookie = "faxbridge_session";
  std::string csrf_header = "X-CSRF-Token";
  Authenticator* authenticator = nullptr;  // none: routes that need a caller answer 401
  // GET/HEAD of a path no route has, outside /api/ (the web UI's files and its client
  // routes). Public: it sees no caller. None: such paths answer 404 like any other.
  Handler fallback;
  metrics::Registry* metrics = nullptr;    // none: no series
};

class Server final {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Before start(). Fails (internal) on a bad pattern or a duplicate route.
  Result<void> add(Route route);
  // Binds (io.failed naming the address and reason; config.invalid when the TLS files
  // do not load) and serves on a background thread. Returns the bound port.
  Result<int> start();
  // Graceful: stops accepting, lets the requests in progress finish (idle keep-alive
  // connections end within keep_alive_timeout), then returns. Idempotent.
  void stop();
  bool tls() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faxbridge::api
