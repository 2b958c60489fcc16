// DESIGN: see web_api.hpp. Member order matters: the server refers to the authenticator
// and the context, so it is declared last and destroyed (stopped) first.
#include "faxbridge/webapi/web_api.hpp"

#include <sodium.h>

#include "context.hpp"
#include "faxbridge/core/password.hpp"
#include "faxbridge/webapi/authenticator.hpp"
#include "faxbridge/webapi/web_ui.hpp"

namespace faxbridge::webapi {
namespace {

// The decoy for unknown usernames: the hash of a random password, made once per
// process with the same parameters as real hashes, so verifying against it costs the
// same. Nobody can know the password, so nothing ever verifies against it.
std::string make_decoy_hash() {
  unsigned char bytes[24];
  if (sodium_init() >= 0) randombytes_buf(bytes, sizeof bytes);
  char hex[sizeof bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  auto h = password::hash(hex);
  // Only fails out of memory; an empty decoy still verifies nothing, just faster.
  return h ? *h : std::string();
}

}  // namespace

struct WebApi::Impl {
  Impl(db::Pool& pool, WebApiSettings s, const Clock& clock)
      : settings(std::move(s)),
        authenticator(pool, clock, settings.sessions),
        account_throttle(clock, settings.account_throttle),
        address_throttle(clock, settings.address_throttle),
        context{pool,
                clock,
                settings.sessions,
                CookieOptions{settings.server.session_cookie, settings.server.tls.enabled()},
                account_throttle,
                address_throttle,
                make_decoy_hash(),
                settings.announcer,
                settings.upload_directory,
                settings.idempotency_lifetime,
                secret_box::Key::parse(settings.secret_key),
                std::nullopt} {
    if (context.secret_key) context.link_key = signed_link::LinkKey::derive(*context.secret_key);
    auto options = settings.server;
    options.authenticator = &authenticator;
    options.fallback = [this](api::Request& r) { return web_ui.serve(r); };
    server = std::make_unique<api::Server>(std::move(options));
  }

  WebApiSettings settings;
  DbAuthenticator authenticator;
  api::Throttle account_throttle;
  api::Throttle address_throttle;
  Context context;
  std::string redoc_script;
  WebUi web_ui;  // loaded by start(), before the server serves
  std::unique_ptr<api::Server> server;
};

WebApi::WebApi(db::Pool& pool, WebApiSettings settings, const Clock& clock)
    : impl_(std::make_unique<Impl>(pool, std::move(settings), clock)) {}

WebApi::~WebApi() { stop(); }

Result<int> WebApi::start() {
  // A key that is set but is no key is a mistake to stop for; no key at all is a choice
  // (no secret settings), refused only when a secret is written.
  if (!impl_->context.secret_key && impl_->context.secret_key.error().code != Code::k_secret_key_missing) {
    return impl_->context.secret_key.error();
  }
  std::vector<api::Route> routes = meta_routes();
  impl_->redoc_script = load_redoc_script(
      impl_->settings.redoc_script_path.empty() ? FAXBRIDGE_DEFAULT_REDOC_JS : impl_->settings.redoc_script_path);
  for (auto&& r : docs_routes(impl_->redoc_script)) routes.push_back(std::move(r));
  impl_->web_ui = WebUi::load(impl_->settings.web_directory.empty() ? FAXBRIDGE_DEFAULT_WEB_DIR
                                                                     : impl_->settings.web_directory);
  for (auto&& r : session_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : token_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : password_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : file_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : fax_submit_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : fax_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : inbox_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : document_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : preference_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : stats_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : admin_users_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : admin_groups_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : admin_tokens_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : admin_audit_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : settings_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : smtp_test_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : mailbox_test_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : routing_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : cover_page_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : webhook_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto&& r : template_routes(impl_->context)) routes.push_back(std::move(r));
  for (auto& r : routes) {
    if (auto added = impl_->server->add(std::move(r)); !added) return added.error();
  }
  return impl_->server->start();
}

void WebApi::stop() { impl_->server->stop(); }

}  // namespace faxbridge::webapi
