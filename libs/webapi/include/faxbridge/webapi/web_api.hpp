#pragma once
// DESIGN: the web-api service without its main: the API server (libs/api) with the
// database authenticator and the /api/v1 endpoints, so that tests build it directly
// over a test database and a ManualClock, and services/web-api/main.cpp only reads the
// settings, hands it the runtime's pool and waits for the stop signal.
// Endpoints today: POST/DELETE /api/v1/session, GET /api/v1/me, GET /api/v1/version,
// POST/GET /api/v1/tokens, DELETE /api/v1/tokens/{id}.
#include <chrono>
#include <memory>

#include "faxbridge/api/server.hpp"
#include "faxbridge/api/throttle.hpp"
#include "faxbridge/core/clock.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::webapi {

struct WebApiSettings {
  // Bind address, port, TLS, body limits, threads, metrics. The authenticator is
  // WebApi's own; the session cookie is Secure exactly when TLS is on.
  api::ServerOptions server;
  db::SessionPolicy sessions;
  // Per account: 5 quick attempts, then one a minute (a guesser gets ~1,400 a day per
  // account; a person who mistypes 5 times waits a minute).
  api::ThrottleRule account_throttle{5, std::chrono::seconds(60)};
  // Per remote address: more, since an office's users may share one address behind
  // NAT, yet few enough that one address cannot try a password on every account.
  api::ThrottleRule address_throttle{30, std::chrono::seconds(2)};
};

class WebApi final {
 public:
  WebApi(db::Pool& pool, WebApiSettings settings, const Clock& clock = SystemClock::instance());
  ~WebApi();  // stops
  WebApi(const WebApi&) = delete;
  WebApi& operator=(const WebApi&) = delete;

  // Binds and serves; the bound port.
  Result<int> start();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faxbridge::webapi
