#pragma once
// DESIGN: what a handler returns. A Reply is either a Response (any status, body and
// headers the handler chose) or a Problem (an error, rendered by the server as
// problem+json with the request id); an Error from a lib converts to a Problem, so a
// handler can `return result.error();` without translating it.
#include <string>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "faxbridge/api/problem.hpp"

namespace faxbridge::api {

struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
  Headers headers;

  static Response json(const nlohmann::json& body, int status = 200);
  static Response text(std::string body, std::string content_type, int status = 200);
  static Response no_content();
  Response& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

class Reply {
 public:
  Reply(Response response) : v_(std::move(response)) {}  // NOLINT: implicit by design
  Reply(Problem problem) : v_(std::move(problem)) {}     // NOLINT
  Reply(const Error& error) : v_(Problem(error)) {}      // NOLINT

  bool is_problem() const { return v_.index() == 1; }
  Response& response() { return std::get<0>(v_); }
  const Response& response() const { return std::get<0>(v_); }
  Problem& problem() { return std::get<1>(v_); }
  const Problem& problem() const { return std::get<1>(v_); }

 private:
  std::variant<Response, Problem> v_;
};

}  // namespace faxbridge::api
