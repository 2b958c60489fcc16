// faxbridge-web-api as a real process over the real Postgres harness and bus: it
// serves the public version, a token made by `faxbridge tokens create` reads /me, a
// session signs in and out, its metrics are on the side port, and SIGTERM stops it
// cleanly. Its FAXBRIDGE_SECRET_KEY is never logged; one that is no key stops start-up.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "faxbridge/core/password.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/testing/process.hpp"

namespace faxbridge {
namespace {

using nlohmann::json;
using testing::Child;
using testing::eventually;

constexpr const char* kSecretKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

// Runs the CLI with the database in its environment; its stdout.
std::string run_cli(const std::string& dsn, const std::string& args, int& status) {
  const std::string command = "FAXBRIDGE_DB_DSN='" + dsn + "' " FAXBRIDGE_CLI_BIN " " + args + " 2>/dev/null";
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  status = ::pclose(p);
  return out;
}

TEST(WebApiService, ServesSignInAndTokensAndStopsOnSigterm) {
  const std::string dsn = db::testing::migrated_database("webapi_svc");
  {
    db::Pool pool(db::PoolSettings{dsn, 1});
    auto u = pool.transact([](db::Tx& tx) -> Result<db::User> {
      db::User user;
      user.username = "admin";
      user.display_name = "Fax Admin";
      user.own_permission_level = 10;
      auto h = password::hash("a long enough secret");
      if (!h) return h.error();
      user.password_hash = *h;
      return db::users::create(tx, user);
    });
    ASSERT_TRUE(u) << u.error().to_string();
  }
  testing::Ports ports;
  auto bus = testing::start_bus(FAXBRIDGE_BUS_BIN, ports);
  const int api_port = testing::free_port();
  const int side_port = testing::free_port();
  const std::string log =
      std::filesystem::temp_directory_path() / ("faxbridge-web-api-" + std::to_string(api_port) + ".log");
  Child api(FAXBRIDGE_WEB_API_BIN, {},
            {{"FAXBRIDGE_DB_DSN", dsn},
             {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", ports.publish_endpoint()},
             {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", ports.subscribe_endpoint()},
             {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
             {"FAXBRIDGE_HTTP_PORT", std::to_string(side_port)},
             {"FAXBRIDGE_API_BIND", "127.0.0.1"},
             {"FAXBRIDGE_API_PORT", std::to_string(api_port)},
             {"FAXBRIDGE_SECRET_KEY", kSecretKey}},
            log);
  httplib::Client client("127.0.0.1", api_port);
  ASSERT_TRUE(eventually([&] {
    auto r = client.Get("/api/v1/version");
    return r && r->status == 200;
  })) << "see " << log;

  int status = -1;
  const std::string printed = run_cli(dsn, "tokens create admin --name smoke", status);
  ASSERT_EQ(status, 0);
  ASSERT_EQ(printed.rfind("fbx_", 0), 0u) << printed;
  const std::string token = printed.substr(0, printed.find('\n'));
  auto me = client.Get("/api/v1/me", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(me);
  ASSERT_EQ(me->status, 200) << me->body;
  EXPECT_EQ(json::parse(me->body)["level"], 10);

  auto signed_in = client.Post("/api/v1/session", R"({"username":"admin","password":"a long enough secret"})",
                               "application/json");
  ASSERT_TRUE(signed_in);
  ASSERT_EQ(signed_in->status, 201) << signed_in->body;
  const auto set_cookie = signed_in->get_header_value("Set-Cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf = json::parse(signed_in->body)["csrf_token"];
  auto out = client.Delete("/api/v1/session", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 204);
  auto after = client.Get("/api/v1/me", {{"Cookie", cookie}});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 401);
  EXPECT_EQ(json::parse(after->body)["code"], "api.unauthenticated");

  httplib::Client side("127.0.0.1", side_port);
  auto metrics = side.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("faxbridge_api_requests_total"), std::string::npos);

  api.signal(SIGTERM);
  auto exit_status = api.wait(std::chrono::seconds(20));
  ASSERT_TRUE(exit_status) << "did not stop; see " << log;
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0) << "see " << log;
  std::ifstream in(log);
  const std::string logged((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(logged.find("FAXBRIDGE_SECRET_KEY"), std::string::npos) << "the effective configuration names it";
  EXPECT_EQ(logged.find(std::string(kSecretKey).substr(0, 16)), std::string::npos) << "but masks it: " << logged;
  std::filesystem::remove(log);
}

TEST(WebApiService, ASecretKeyThatIsNoKeyStopsStartUp) {
  const std::string log = std::filesystem::temp_directory_path() / "faxbridge-web-api-bad-key.log";
  Child api(FAXBRIDGE_WEB_API_BIN, {},
            {{"FAXBRIDGE_DB_DSN", "host=127.0.0.1 port=1 dbname=none"},
             {"FAXBRIDGE_HTTP_PORT", "0"},
             {"FAXBRIDGE_API_PORT", "0"},
             {"FAXBRIDGE_SECRET_KEY", "my-password"}},
            log);
  auto exit_status = api.wait(std::chrono::seconds(20));
  ASSERT_TRUE(exit_status);
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 2);
  std::ifstream in(log);
  const std::string printed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(printed.find("[secret.key_invalid]"), std::string::npos) << printed;
  EXPECT_EQ(printed.find("my-password"), std::string::npos) << printed;
  std::filesystem::remove(log);
}

}  // namespace
}  // namespace faxbridge
