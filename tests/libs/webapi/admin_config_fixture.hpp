#pragma once
// The configuration administration tests' common ground, over WebApiFixture (the real
// WebApi on a loopback port over a throw-away Postgres): one ApiClient per kind of
// caller (an administrator, a fax user, a level-0 account, nobody), each holding an API
// token (the administrator also signs in, for the CSRF cases). Every reply goes through
// the harness, which checks it against docs/api/openapi.yaml.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "faxbridge/db/records.hpp"
#include "webapi_fixture.hpp"

namespace faxbridge::webapi::testing {

using faxbridge::testing::ApiClient;
using faxbridge::testing::ApiReply;
using faxbridge::testing::expect_problem;
using nlohmann::json;

inline constexpr const char* kPassword = testing_support::kTestPassword;

class AdminConfigTest : public testing_support::WebApiFixture {
 protected:
  AdminConfigTest() : WebApiFixture("webapi_admin") {}

  void SetUp() override {
    admin_id_ = make_user("root", 10);
    user_id_ = make_user("alice", std::nullopt);  // inherits the default level, 2
    nofax_id_ = make_user("guest", 0);
    ASSERT_NO_FATAL_FAILURE(start_api());
    admin_ = std::make_unique<ApiClient>(port_);
    admin_->bearer(token_for(admin_id_));
    user_ = std::make_unique<ApiClient>(port_);
    user_->bearer(token_for(user_id_));
    nofax_ = std::make_unique<ApiClient>(port_);
    nofax_->bearer(token_for(nofax_id_));
    nobody_ = std::make_unique<ApiClient>(port_);
  }

  // The audit rows of an action, oldest first, as {actor, object_id, details}.
  std::vector<json> audit(const std::string& action) {
    std::vector<json> out;
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    for (const auto& r : w.exec_params("SELECT actor, object_id, details::text FROM audit_events WHERE action = $1 "
                                       "ORDER BY id",
                                       action)) {
      out.push_back({{"actor", r[0].as<std::string>()},
                     {"object_id", r[1].as<std::string>()},
                     {"details", json::parse(r[2].as<std::string>())}});
    }
    return out;
  }

  // The answers every admin endpoint gives to callers who may not use it.
  void expect_admin_only(const std::string& method, const std::string& path, const json& body = json::object()) {
    auto call = [&](ApiClient& c) {
      if (method == "GET") return c.get(path);
      if (method == "DELETE") return c.del(path);
      return c.send(method, path, body.dump(), "application/json");
    };
    expect_problem(call(*nobody_), 401, "api.unauthenticated");
    expect_problem(call(*user_), 403, "api.forbidden");
    expect_problem(call(*nofax_), 403, "api.forbidden");
  }

  std::int64_t admin_id_ = 0, user_id_ = 0, nofax_id_ = 0;
  std::unique_ptr<ApiClient> admin_, user_, nofax_, nobody_;
};

}  // namespace faxbridge::webapi::testing
