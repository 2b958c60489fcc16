#include "faxbridge/api/problem.hpp"

#include <gtest/gtest.h>

#include "faxbridge/api/request_id.hpp"
#include "faxbridge/api/response.hpp"

using namespace faxbridge;

TEST(Problem, RendersRfc9457MembersAndOurExtensions) {
  api::Problem p(Code::k_api_not_found, "No API endpoint has the path /x.");
  auto j = api::problem_json(p, "/x", "req-1");
  EXPECT_EQ(j["type"], "urn:faxbridge:error:api.not_found");
  EXPECT_EQ(j["title"], "Not Found");
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["detail"], "No API endpoint has the path /x.");
  EXPECT_EQ(j["instance"], "/x");
  EXPECT_EQ(j["code"], "api.not_found");
  EXPECT_EQ(j["request_id"], "req-1");
  EXPECT_FALSE(j.contains("errors"));
}

TEST(Problem, ValidationErrorsCarryPointerCodeAndDetail) {
  api::Problem p(Code::k_api_validation_failed, "2 fields are invalid; see errors.");
  p.errors.push_back({"/to", Code::k_phone_invalid, "Not a fax number."});
  p.errors.push_back({"/priority", Code::k_api_field_out_of_range, "Must be between 0 and 9."});
  auto j = api::problem_json(p, "/api/v1/faxes", "r");
  EXPECT_EQ(j["status"], 422);
  ASSERT_EQ(j["errors"].size(), 2u);
  EXPECT_EQ(j["errors"][0]["field"], "/to");
  EXPECT_EQ(j["errors"][0]["code"], "phone.invalid");
  EXPECT_EQ(j["errors"][1]["detail"], "Must be between 0 and 9.");
}

TEST(Problem, StatusComesFromTheCode) {
  EXPECT_EQ(api::http_status(Code::k_api_method_not_allowed), 405);
  EXPECT_EQ(api::http_status(Code::k_api_body_too_large), 413);
  EXPECT_EQ(api::http_status(Code::k_api_unsupported_media_type), 415);
  EXPECT_EQ(api::http_status(Code::k_api_rate_limited), 429);
  EXPECT_EQ(api::http_status(Code::k_api_length_required), 411);
  // Other codes by their kind.
  EXPECT_EQ(api::http_status(Code::k_job_not_found), 404);
  EXPECT_EQ(api::http_status(Code::k_phone_invalid), 400);
  EXPECT_EQ(api::http_status(Code::k_job_not_cancellable), 409);
  EXPECT_EQ(api::http_status(Code::k_user_exists), 409);
  EXPECT_EQ(api::http_status(Code::k_db_unavailable), 503);
  EXPECT_EQ(api::http_status(Code::k_db_query_failed), 500);
}

TEST(Problem, AnInternalErrorKeepsItsMessageOutOfTheBody) {
  Error e(Code::k_db_query_failed, "relation \"fax_jobs\" does not exist");
  api::Problem p(e);
  EXPECT_EQ(p.status(), 500);
  EXPECT_EQ(p.detail.find("fax_jobs"), std::string::npos);
  Error user_facing(Code::k_job_not_cancellable, "The fax was already sent.");
  EXPECT_EQ(api::Problem(user_facing).detail, "The fax was already sent.");
}

TEST(Problem, HeaderCarryingProblems) {
  auto m = api::method_not_allowed("/a", {"GET", "HEAD"});
  ASSERT_EQ(m.headers.size(), 1u);
  EXPECT_EQ(m.headers[0], (std::pair<std::string, std::string>{"Allow", "GET, HEAD"}));
  auto u = api::unauthenticated("no", true);
  EXPECT_EQ(u.status(), 401);
  EXPECT_EQ(u.headers[0].first, "WWW-Authenticate");
  EXPECT_NE(u.headers[0].second.find("invalid_token"), std::string::npos);
  EXPECT_EQ(api::unauthenticated("no").headers[0].second, R"(Bearer realm="faxbridge")");
  auto r = api::rate_limited(std::chrono::seconds(0), "wait");
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Retry-After", "1"}));
}

TEST(Reply, AnErrorBecomesAProblem) {
  api::Reply reply = Error(Code::k_job_not_found, "No fax 9.");
  ASSERT_TRUE(reply.is_problem());
  EXPECT_EQ(reply.problem().status(), 404);
  api::Reply ok = api::Response::json({{"a", 1}}, 201);
  ASSERT_FALSE(ok.is_problem());
  EXPECT_EQ(ok.response().body, R"({"a":1})");
  EXPECT_EQ(ok.response().content_type, "application/json");
}

TEST(RequestId, TakesSanePlainIdsAndReplacesOthers) {
  EXPECT_TRUE(api::is_acceptable_request_id("0f8c2a1e-5b7d-4c2a-9e61-3c1d2b4a5f60"));
  EXPECT_TRUE(api::is_acceptable_request_id("trace:abc.DEF_1"));
  EXPECT_FALSE(api::is_acceptable_request_id(""));
  EXPECT_FALSE(api::is_acceptable_request_id(std::string(129, 'a')));
  EXPECT_FALSE(api::is_acceptable_request_id("a b"));
  EXPECT_FALSE(api::is_acceptable_request_id("a\"b"));
  EXPECT_FALSE(api::is_acceptable_request_id("a\r\nSet-Cookie: x"));
  EXPECT_EQ(api::request_id_for("mine-1"), "mine-1");
  const auto fresh = api::request_id_for("bad id");
  EXPECT_EQ(fresh.size(), 32u);
  EXPECT_TRUE(api::is_acceptable_request_id(fresh));
  EXPECT_NE(api::new_request_id(), api::new_request_id());
}
