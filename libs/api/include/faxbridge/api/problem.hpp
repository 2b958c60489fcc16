#pragma once
// DESIGN: every API error leaves as one RFC 9457 problem document
// (application/problem+json): type, title, status, detail, instance, plus our
// extensions `code` (a stable dotted code from core/error.hpp, the contract clients
// switch on), `request_id` (the line to look for in the logs) and, for validation,
// `errors` ({field: JSON pointer, code, detail} per offending field).
// The HTTP status is a function of the code (http_status), never chosen by a handler,
// so one code always travels with one status. `type` is "urn:faxbridge:error:<code>":
// a stable identifier, not a page to fetch (RFC 9457 3.1.1 allows non-resolvable URIs).
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "faxbridge/core/error.hpp"

namespace faxbridge::api {

inline constexpr const char* kProblemJson = "application/problem+json";

using Headers = std::vector<std::pair<std::string, std::string>>;

struct FieldError {
  std::string field;  // JSON pointer into the request body: "/recipients/2/number"
  Code code;
  std::string detail;
};

struct Problem {
  Code code = Code::k_api_internal;
  std::string detail;               // a sentence the caller can act on
  std::vector<FieldError> errors;   // validation only
  Headers headers;                  // Allow, WWW-Authenticate, Retry-After

  Problem() = default;
  Problem(Code c, std::string d) : code(c), detail(std::move(d)) {}
  // A lib's Error as a problem. Internal-kind errors keep their message out of the
  // body (it may name hosts or SQL); the server logs it with the request id instead.
  explicit Problem(const Error& error);

  int status() const;
  Problem& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// The status a code answers with: the api.* codes have their own, other codes go by kind
// (invalid_argument 400, not_found 404, already_exists 409, ..., unavailable 503).
int http_status(Code code);
// The status's reason phrase ("Unprocessable Content"), used as the problem's title.
std::string_view status_title(int status);

// The body of a problem as sent: `instance` is the request path.
nlohmann::json problem_json(const Problem& problem, std::string_view instance,
                            std::string_view request_id);

// Problems that carry a header the RFCs require with their status.
Problem method_not_allowed(std::string_view path, const std::vector<std::string>& allowed);
// 401 with `WWW-Authenticate: Bearer`; `token_rejected` adds error="invalid_token" (RFC 6750 3.1).
Problem unauthenticated(std::string detail, bool token_rejected = false);
// 429 with `Retry-After` in whole seconds, at least 1.
Problem rate_limited(std::chrono::seconds retry_after, std::string detail);

// A value or the problem that prevented it (body parsing, multipart).
template <typename T>
class [[nodiscard]] ProblemOr {
 public:
  ProblemOr(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit by design
  ProblemOr(Problem problem) : v_(std::in_place_index<1>, std::move(problem)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  T& operator*() & { return value(); }
  const Problem& problem() const& { return std::get<1>(v_); }
  Problem&& problem() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Problem> v_;
};

}  // namespace faxbridge::api
