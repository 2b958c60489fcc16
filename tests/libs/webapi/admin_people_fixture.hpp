#pragma once
// The fixture of the administration tests (users, groups, tokens, audit), over
// WebApiFixture (the real WebApi over a throw-away Postgres): an administrator `root`
// (level 10), a fax user `alice` (inherits level 2) and `viewer` (level 0), each with a
// password and a token. Calls go through ApiClient, which validates every answer
// against docs/api/openapi.yaml.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "webapi_fixture.hpp"

namespace faxbridge::webapi {

inline constexpr const char* kPassword = testing_support::kTestPassword;

class AdminPeopleTest : public testing_support::WebApiFixture {
 protected:
  using json = nlohmann::json;
  using ApiClient = faxbridge::testing::ApiClient;
  using ApiReply = faxbridge::testing::ApiReply;

  AdminPeopleTest() : WebApiFixture("adminpeople") {}

  void SetUp() override {
    root_ = make_user("root", 10);
    alice_ = make_user("alice", std::nullopt);
    viewer_ = make_user("viewer", 0);
    WebApiSettings s;
    s.sessions = db::SessionPolicy{std::chrono::hours(1), std::chrono::hours(8)};
    s.address_throttle = api::ThrottleRule{100, std::chrono::seconds(1)};
    ASSERT_NO_FATAL_FAILURE(start_api(s));
    admin_ = std::make_unique<ApiClient>(port_);
    admin_->bearer(token_for(root_));
  }

  std::string path_of(std::int64_t id) { return "/api/v1/admin/users/" + std::to_string(id); }

  // The "field code" pairs of a 422.
  static std::set<std::string> field_errors(const json& problem) {
    std::set<std::string> out;
    for (const auto& e : problem.value("errors", json::array())) {
      out.insert(e.value("field", "") + " " + e.value("code", ""));
    }
    return out;
  }

  std::int64_t root_ = 0, alice_ = 0, viewer_ = 0;
  std::unique_ptr<ApiClient> admin_;
};

}  // namespace faxbridge::webapi
