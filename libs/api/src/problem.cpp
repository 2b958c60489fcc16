// DESIGN: the status table and the problem document. The api.* codes are the HTTP
// conditions themselves, so each has its own status; every other code is answered by
// its kind, the same rule the retry policy uses, so a new domain code needs no entry.
#include "faxbridge/api/problem.hpp"

#include <algorithm>

namespace faxbridge::api {

namespace {
constexpr std::string_view kTypePrefix = "urn:faxbridge:error:";

int status_of_kind(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return 400;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kAlreadyExists: return 409;
    case ErrorKind::kPermissionDenied: return 403;
    case ErrorKind::kUnauthenticated: return 401;
    // The state of the resource forbids it (a fax already sent): the request is fine,
    // the moment is not.
    case ErrorKind::kFailedPrecondition: return 409;
    case ErrorKind::kAborted: return 409;
    case ErrorKind::kUnavailable: return 503;
    case ErrorKind::kResourceExhausted: return 429;
    case ErrorKind::kOutcomeUnknown: return 500;
    case ErrorKind::kInternal: return 500;
  }
  return 500;
}
}  // namespace

Problem::Problem(const Error& error) : code(error.code), detail(error.message) {
  if (code_kind(error.code) == ErrorKind::kInternal) {
    detail = "The request failed on the server; the log line with this request_id has the reason.";
  }
}

int Problem::status() const { return http_status(code); }

int http_status(Code code) {
  switch (code) {
    case Code::k_api_not_found: return 404;
    case Code::k_api_method_not_allowed: return 405;
    case Code::k_api_bad_request: return 400;
    case Code::k_api_uri_too_long: return 414;
    case Code::k_api_length_required: return 411;
    case Code::k_api_body_too_large: return 413;
    case Code::k_api_unsupported_media_type: return 415;
    case Code::k_api_invalid_json: return 400;
    case Code::k_api_multipart_invalid: return 400;
    case Code::k_api_validation_failed: return 422;
    case Code::k_api_unauthenticated: return 401;
    case Code::k_api_forbidden: return 403;
    case Code::k_api_csrf_invalid: return 403;
    case Code::k_api_rate_limited: return 429;
    case Code::k_api_internal: return 500;
    // The key was used with another body: the request contradicts an earlier one,
    // the draft's 422, not a malformed request.
    case Code::k_api_idempotency_key_reused: return 422;
    // A file whose bytes are not what its name or Content-Type says: well-formed
    // request, unprocessable content.
    case Code::k_file_type_mismatch: return 422;
    default: return status_of_kind(code_kind(code));
  }
}

std::string_view status_title(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Server Error" : "Client Error";
  }
}

nlohmann::json problem_json(const Problem& problem, std::string_view instance,
                            std::string_view request_id) {
  const int status = problem.status();
  const std::string code(code_name(problem.code));
  nlohmann::json body = {
      {"type", std::string(kTypePrefix) + code},
      {"title", std::string(status_title(status))},
      {"status", status},
      {"detail", problem.detail},
      {"instance", std::string(instance)},
      {"code", code},
      {"request_id", std::string(request_id)},
  };
  if (!problem.errors.empty()) {
    auto& errors = body["errors"] = nlohmann::json::array();
    for (const auto& e : problem.errors) {
      errors.push_back({{"field", e.field}, {"code", std::string(code_name(e.code))}, {"detail", e.detail}});
    }
  }
  return body;
}

Problem method_not_allowed(std::string_view path, const std::vector<std::string>& allowed) {
  std::string list;
  for (const auto& m : allowed) list += (list.empty() ? "" : ", ") + m;
  return Problem(Code::k_api_method_not_allowed,
                 "The path " + std::string(path) + " takes only " + list + ".")
      .with_header("Allow", list);
}

Problem unauthenticated(std::string detail, bool token_rejected) {
  Problem p(Code::k_api_unauthenticated, std::move(detail));
  p.with_header("WWW-Authenticate", token_rejected ? R"(Bearer realm="faxbridge", error="invalid_token")"
                                                   : R"(Bearer realm="faxbridge")");
  return p;
}

Problem rate_limited(std::chrono::seconds retry_after, std::string detail) {
  const auto seconds = std::max<std::chrono::seconds::rep>(1, retry_after.count());
  return Problem(Code::k_api_rate_limited, std::move(detail))
      .with_header("Retry-After", std::to_string(seconds));
}

}  // namespace faxbridge::api
