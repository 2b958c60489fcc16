// The web API's sign-in and permissions over HTTP: the real WebApi (libs/api server,
// database authenticator, endpoints) on a loopback port over a real Postgres, with a
// ManualClock so throttling and session ends are tested without sleeping. Every error
// is checked as application/problem+json with its stable code.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "faxbridge/core/password.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/testing/api_client.hpp"
#include "faxbridge/webapi/web_api.hpp"
#include "webapi_fixture.hpp"

namespace faxbridge::webapi {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kPassword = testing_support::kTestPassword;

// The problem document of a response, after checking it is one, with this status and code.
json expect_problem(const httplib::Result& res, int status, std::string_view code) {
  EXPECT_TRUE(res);
  if (!res) return {};
  EXPECT_EQ(res->status, status) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("application/problem+json", 0), 0u)
      << res->get_header_value("Content-Type");
  auto body = json::parse(res->body, nullptr, false);
  EXPECT_TRUE(body.is_object()) << res->body;
  if (!body.is_object()) return {};
  EXPECT_EQ(body.value("code", ""), code) << res->body;
  EXPECT_EQ(body.value("status", 0), status);
  EXPECT_FALSE(body.value("request_id", "").empty());
  EXPECT_FALSE(body.value("detail", "").empty());
  return body;
}

json expect_json(const httplib::Result& res, int status) {
  EXPECT_TRUE(res);
  if (!res) return {};
  EXPECT_EQ(res->status, status) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("application/json", 0), 0u);
  return json::parse(res->body, nullptr, false);
}

class WebApiTest : public testing_support::WebApiFixture {
 protected:
  WebApiTest() : WebApiFixture("webapi") {}

  void SetUp() override {
    alice_ = make_user("alice", std::nullopt, {.fax_number = "+390297865403"});
    WebApiSettings s;
    s.sessions = db::SessionPolicy{1h, 8h};
    s.address_throttle = api::ThrottleRule{12, 2s};
    ASSERT_NO_FATAL_FAILURE(start_api(s));
  }

  // cpp-httplib's client with every reply checked against docs/api/openapi.yaml.
  class CheckedClient {
   public:
    explicit CheckedClient(int port) : c_("127.0.0.1", port) { c_.set_read_timeout(30, 0); }
    httplib::Result Get(const std::string& path, const httplib::Headers& h = {}) {
      return checked("GET", path, c_.Get(path, h));
    }
    httplib::Result Post(const std::string& path, const std::string& body, const std::string& type) {
      return checked("POST", path, c_.Post(path, body, type));
    }
    httplib::Result Post(const std::string& path, const httplib::Headers& h, const std::string& body,
                         const std::string& type) {
      return checked("POST", path, c_.Post(path, h, body, type));
    }
    httplib::Result Delete(const std::string& path, const httplib::Headers& h = {}) {
      return checked("DELETE", path, c_.Delete(path, h));
    }

   private:
    static httplib::Result checked(const char* method, const std::string& path, httplib::Result r) {
      if (r) {
        const auto violation = testing::openapi_violation(method, path, r->status,
                                                          r->get_header_value("Content-Type"), r->body);
        EXPECT_EQ(violation, "") << "docs/api/openapi.yaml does not describe this reply";
      }
      return r;
    }
    httplib::Client c_;
  };

  CheckedClient client() { return CheckedClient(port_); }

  httplib::Result sign_in(const std::string& user, const std::string& pw) {
    return client().Post("/api/v1/session", json({{"username", user}, {"password", pw}}).dump(), "application/json");
  }

  // Signs in; the cookie header to send and the CSRF token.
  std::pair<std::string, std::string> session(const std::string& user, const std::string& pw = kPassword) {
    auto res = sign_in(user, pw);
    EXPECT_TRUE(res && res->status == 201) << (res ? res->body : "no answer");
    if (!res || res->status != 201) return {};
    const auto set_cookie = res->get_header_value("Set-Cookie");
    const auto value = set_cookie.substr(0, set_cookie.find(';'));
    return {value, json::parse(res->body).value("csrf_token", "")};
  }

  std::int64_t alice_ = 0;
};

TEST_F(WebApiTest, SignInReadMeAndSignOutWithTheCookieAndCsrf) {
  auto res = sign_in("alice", kPassword);
  auto body = expect_json(res, 201);
  const auto set_cookie = res->get_header_value("Set-Cookie");
  EXPECT_EQ(set_cookie.rfind("faxbridge_session=", 0), 0u) << set_cookie;
  EXPECT_NE(set_cookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("; SameSite=Lax"), std::string::npos);
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << "plain HTTP: no Secure";
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf = body.value("csrf_token", "");
  EXPECT_EQ(csrf.size(), 43u);
  EXPECT_EQ(body["user"]["username"], "alice");
  EXPECT_FALSE(body.value("expires_at", "").empty());

  auto me = expect_json(client().Get("/api/v1/me", {{"Cookie", cookie}}), 200);
  EXPECT_EQ(me["id"], alice_);
  EXPECT_EQ(me["username"], "alice");
  EXPECT_EQ(me["name"], "alice Example");
  EXPECT_EQ(me["email"], "alice@example.com");
  EXPECT_EQ(me["level"], 2);
  EXPECT_EQ(me["level_inherited"], true);
  EXPECT_EQ(me["fax_number"], "+390297865403");
  EXPECT_EQ(me["auth"], "session");
  EXPECT_EQ(me["csrf_token"], csrf) << "a reloaded page gets the same token";

  // An unsafe method with the cookie alone is what a cross-site page could send.
  expect_problem(client().Delete("/api/v1/session", {{"Cookie", cookie}}), 403, "api.csrf_invalid");
  expect_problem(client().Delete("/api/v1/session", {{"Cookie", cookie}, {"X-CSRF-Token", csrf + "x"}}), 403,
                 "api.csrf_invalid");
  auto out = client().Delete("/api/v1/session", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 204);
  EXPECT_NE(out->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);

  expect_problem(client().Get("/api/v1/me", {{"Cookie", cookie}}), 401, "api.unauthenticated");
}

TEST_F(WebApiTest, AWrongPasswordAndAnUnknownUserGetTheSameAnswer) {
  make_user("nopassword", std::nullopt, {.password = std::nullopt});
  auto wrong = sign_in("alice", "not the password");
  auto unknown = sign_in("mallory", "not the password");
  auto no_web_login = sign_in("nopassword", "not the password");
  auto a = expect_problem(wrong, 401, "api.unauthenticated");
  auto b = expect_problem(unknown, 401, "api.unauthenticated");
  auto c = expect_problem(no_web_login, 401, "api.unauthenticated");
  for (auto* j : {&a, &b, &c}) j->erase("request_id");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  EXPECT_EQ(wrong->get_header_value("WWW-Authenticate"), unknown->get_header_value("WWW-Authenticate"));
  EXPECT_EQ(wrong->get_header_value("Set-Cookie"), "");
}

TEST_F(WebApiTest, TheSixthQuickWrongPasswordIsRefusedWith429AndRetryAfter) {
  for (int i = 0; i < 5; ++i) {
    expect_problem(sign_in("alice", "guess " + std::to_string(i)), 401, "api.unauthenticated");
  }
  auto sixth = sign_in("alice", "guess 6");
  expect_problem(sixth, 429, "api.rate_limited");
  const auto retry_after = sixth->get_header_value("Retry-After");
  ASSERT_FALSE(retry_after.empty());
  EXPECT_GE(std::stoi(retry_after), 1);
  EXPECT_LE(std::stoi(retry_after), 60);
  // The right password does not get through the throttle either: that is the point.
  expect_problem(sign_in("alice", kPassword), 429, "api.rate_limited");
  // Another account is not held back by alice's bucket.
  make_user("bob", std::nullopt);
  expect_json(sign_in("bob", kPassword), 201);

  clock_.advance(std::chrono::seconds(std::stoi(retry_after)));
  expect_json(sign_in("alice", kPassword), 201);
}

TEST_F(WebApiTest, OneAddressCannotSpreadGuessesOverManyAccounts) {
  // The test's address rule allows 12 quick attempts from one address.
  for (int i = 0; i < 12; ++i) {
    expect_problem(sign_in("user" + std::to_string(i), "guess"), 401, "api.unauthenticated");
  }
  auto refused = sign_in("user-next", "guess");
  expect_problem(refused, 429, "api.rate_limited");
  EXPECT_FALSE(refused->get_header_value("Retry-After").empty());
}

TEST_F(WebApiTest, ABearerTokenWorksUntilRevoked) {
  const auto token = token_for(alice_);
  const httplib::Headers bearer{{"Authorization", "Bearer " + token}};
  auto me = expect_json(client().Get("/api/v1/me", bearer), 200);
  EXPECT_EQ(me["username"], "alice");
  EXPECT_EQ(me["auth"], "token");
  EXPECT_FALSE(me.contains("csrf_token"));

  // No CSRF header needed with a token: a cross-site page cannot send it.
  auto made = expect_json(client().Post("/api/v1/tokens", bearer, R"({"name":"second"})", "application/json"), 201);
  const std::string second = made.value("token", "");
  EXPECT_EQ(second.rfind("fbx_", 0), 0u);
  const auto second_id = made.value("id", std::int64_t{0});

  auto listed = expect_json(client().Get("/api/v1/tokens", bearer), 200);
  ASSERT_EQ(listed["tokens"].size(), 2u);
  EXPECT_EQ(listed["tokens"][0]["name"], "second");
  EXPECT_FALSE(listed["tokens"][0].contains("token")) << "the plaintext is shown once";
  EXPECT_TRUE(listed["tokens"][0]["last_used_at"].is_null());
  EXPECT_TRUE(listed["tokens"][1]["last_used_at"].is_string()) << "the first token was used";

  auto revoke = client().Delete("/api/v1/tokens/" + std::to_string(second_id), bearer);
  ASSERT_TRUE(revoke);
  EXPECT_EQ(revoke->status, 204);
  auto refused = client().Get("/api/v1/me", {{"Authorization", "Bearer " + second}});
  expect_problem(refused, 401, "api.unauthenticated");
  EXPECT_NE(refused->get_header_value("WWW-Authenticate").find("invalid_token"), std::string::npos);
  expect_problem(client().Delete("/api/v1/tokens/" + std::to_string(second_id), bearer), 404,
                 "auth.token_not_found");
  expect_problem(client().Get("/api/v1/me", {{"Authorization", "Bearer fbx_made-up"}}), 401, "api.unauthenticated");
}

TEST_F(WebApiTest, AnotherUsersTokenIsNotFound) {
  const auto bob = make_user("bob", std::nullopt);
  auto bobs = pool_.transact(
      [&](db::Tx& tx) { return db::api_tokens::create(tx, bob, "bob's", std::nullopt, clock_.now()); });
  ASSERT_TRUE(bobs);
  const httplib::Headers alice{{"Authorization", "Bearer " + token_for(alice_)}};
  expect_problem(client().Delete("/api/v1/tokens/" + std::to_string(bobs->token.id), alice), 404,
                 "auth.token_not_found");
  expect_problem(client().Delete("/api/v1/tokens/not-a-number", alice), 404, "auth.token_not_found");
  auto still = expect_json(client().Get("/api/v1/me", {{"Authorization", "Bearer " + bobs->plaintext}}), 200);
  EXPECT_EQ(still["username"], "bob");
}

TEST_F(WebApiTest, ADisabledUserIsRefusedEveryWay) {
  const auto [cookie, csrf] = session("alice");
  const auto token = token_for(alice_);
  sql("UPDATE users SET disabled = true WHERE username = 'alice'");
  expect_problem(client().Get("/api/v1/me", {{"Cookie", cookie}}), 403, "auth.account_disabled");
  expect_problem(client().Get("/api/v1/me", {{"Authorization", "Bearer " + token}}), 403, "auth.account_disabled");
  expect_problem(sign_in("alice", kPassword), 403, "auth.account_disabled");
  // Without the password nobody learns the account is disabled.
  expect_problem(sign_in("alice", "wrong password"), 401, "api.unauthenticated");
}

TEST_F(WebApiTest, ALevelZeroUserSignsInAndReadsMeButGetsNoTokens) {
  make_user("viewer", 0);
  const auto [cookie, csrf] = session("viewer");
  auto me = expect_json(client().Get("/api/v1/me", {{"Cookie", cookie}}), 200);
  EXPECT_EQ(me["level"], 0);
  EXPECT_EQ(me["level_inherited"], false);
  EXPECT_TRUE(me["fax_number"].is_null());
  expect_problem(client().Post("/api/v1/tokens", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, R"({"name":"x"})",
                               "application/json"),
                 403, "api.forbidden");
  expect_problem(client().Get("/api/v1/tokens", {{"Cookie", cookie}}), 403, "api.forbidden");
}

TEST_F(WebApiTest, TheInheritedDefaultLevelDecidesForUsersWithoutTheirOwn) {
  const auto [cookie, csrf] = session("alice");
  ASSERT_TRUE(pool_.transact(
      [](db::Tx& tx) { return db::settings::set(tx, std::string(db::kDefaultPermissionLevelKey), "0"); }));
  auto me = expect_json(client().Get("/api/v1/me", {{"Cookie", cookie}}), 200);
  EXPECT_EQ(me["level"], 0) << "no restart, no new session";
  expect_problem(client().Get("/api/v1/tokens", {{"Cookie", cookie}}), 403, "api.forbidden");
}

TEST_F(WebApiTest, ASessionEndsWhenIdleTooLong) {
  const auto [cookie, csrf] = session("alice");
  clock_.advance(59min);
  expect_json(client().Get("/api/v1/me", {{"Cookie", cookie}}), 200);  // renews it
  clock_.advance(59min);
  expect_json(client().Get("/api/v1/me", {{"Cookie", cookie}}), 200);
  clock_.advance(61min);
  expect_problem(client().Get("/api/v1/me", {{"Cookie", cookie}}), 401, "api.unauthenticated");
}

TEST_F(WebApiTest, NoCredentialsIs401AndTheVersionIsPublic) {
  auto res = client().Get("/api/v1/me");
  expect_problem(res, 401, "api.unauthenticated");
  EXPECT_EQ(res->get_header_value("WWW-Authenticate").rfind("Bearer", 0), 0u);
  expect_problem(client().Get("/api/v1/me", {{"Cookie", "faxbridge_session=forged"}}), 401, "api.unauthenticated");
  expect_problem(client().Delete("/api/v1/session"), 401, "api.unauthenticated");

  auto v = expect_json(client().Get("/api/v1/version"), 200);
  EXPECT_FALSE(v.value("version", "").empty());
  EXPECT_EQ(v["api"], "v1");
  EXPECT_GE(v.value("schema", 0), 10);
}

TEST_F(WebApiTest, ABadSignInBodyIsRefusedWithTheFieldsNamed) {
  auto missing = expect_problem(
      client().Post("/api/v1/session", R"({"username":"alice","pasword":"x"})", "application/json"), 422,
      "api.validation_failed");
  ASSERT_TRUE(missing["errors"].is_array());
  std::set<std::string> fields;
  for (const auto& e : missing["errors"]) fields.insert(e.value("field", "") + " " + e.value("code", ""));
  EXPECT_TRUE(fields.count("/password api.field_required")) << missing.dump();
  EXPECT_TRUE(fields.count("/pasword api.field_unknown")) << missing.dump();
  expect_problem(client().Post("/api/v1/session", "username=alice", "application/x-www-form-urlencoded"), 415,
                 "api.unsupported_media_type");
  expect_problem(client().Post("/api/v1/session", "{", "application/json"), 400, "api.invalid_json");
}

TEST_F(WebApiTest, OverTlsTheSessionCookieIsSecure) {
  char tmpl[] = "/tmp/faxbridge-webapi-tls-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 -keyout " + key +
                          " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a test certificate";
  WebApiSettings s;
  s.server.bind_address = "127.0.0.1";
  s.server.tls = {cert, key};
  WebApi tls_api(pool_, s, clock_);
  auto port = tls_api.start();
  ASSERT_TRUE(port) << port.error().to_string();
  httplib::SSLClient c("127.0.0.1", *port);
  c.enable_server_certificate_verification(false);  // self-signed for the test
  auto res = c.Post("/api/v1/session", json({{"username", "alice"}, {"password", kPassword}}).dump(),
                    "application/json");
  expect_json(res, 201);
  const auto set_cookie = res->get_header_value("Set-Cookie");
  EXPECT_NE(set_cookie.find("; Secure"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("; HttpOnly"), std::string::npos);
  tls_api.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace faxbridge::webapi
