#pragma once
// DESIGN: the web-api service without its main: the API server (libs/api) with the
// database authenticator and the /api/v1 endpoints, so that tests build it directly
// over a test database and a ManualClock, and services/web-api/main.cpp only reads the
// settings, hands it the runtime's pool and waits for the stop signal.
// The endpoints are described in docs/api/openapi.yaml (served at /api/v1/openapi.yaml,
// rendered at /api/docs).
#include <chrono>
#include <memory>

#include "faxbridge/api/server.hpp"
#include "faxbridge/api/throttle.hpp"
#include "faxbridge/core/clock.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/webapi/announcer.hpp"

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
  // Told about submitted faxes and cancelled calls after each commit; none: nobody is
  // told and the consumers' sweeps find the work (tests run without a bus).
  Announcer* announcer = nullptr;
  // Where uploads are written while they arrive (empty: the system's temp folder).
  std::string upload_directory;
  // How long an Idempotency-Key is remembered (the IETF draft suggests 24 hours).
  std::chrono::seconds idempotency_lifetime{24 * 3600};
  // Redoc's standalone script for the /api/docs page; empty: the npm package in the
  // source tree (FAXBRIDGE_DEFAULT_REDOC_JS).
  std::string redoc_script_path;
  // The web UI's built files (web_ui.hpp), served at every path outside /api/; empty:
  // the build tree's <build>/web/dist (FAXBRIDGE_DEFAULT_WEB_DIR).
  std::string web_directory;
  // FAXBRIDGE_SECRET_KEY (core/secret_box.hpp): the key secret settings (the mail
  // passwords) are sealed with when written and opened with by the SMTP Test action.
  // Empty: the API runs, and writing a secret is refused with secret.key_missing; a text
  // that is no key makes start() fail with secret.key_invalid.
  std::string secret_key;
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
