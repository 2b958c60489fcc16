#include "faxbridge/core/error.hpp"

#include <array>

namespace faxbridge {
namespace {

struct Row {
  std::string_view name;
  ErrorKind kind;
};

constexpr std::array kRows = {
#define FAXBRIDGE_X(e, name, kind) Row{name, ErrorKind::kind},
    FAXBRIDGE_ERROR_CODES(FAXBRIDGE_X)
#undef FAXBRIDGE_X
};

}  // namespace

std::string_view code_name(Code code) { return kRows[static_cast<std::size_t>(code)].name; }

ErrorKind code_kind(Code code) { return kRows[static_cast<std::size_t>(code)].kind; }

std::string_view kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return "invalid_argument";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kAlreadyExists: return "already_exists";
    case ErrorKind::kPermissionDenied: return "permission_denied";
    case ErrorKind::kUnauthenticated: return "unauthenticated";
    case ErrorKind::kFailedPrecondition: return "failed_precondition";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kAborted: return "aborted";
    case ErrorKind::kResourceExhausted: return "resource_exhausted";
    case ErrorKind::kOutcomeUnknown: return "outcome_unknown";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

bool code_from_name(std::string_view name, Code& out) {
  for (std::size_t i = 0; i < kRows.size(); ++i) {
    if (kRows[i].name == name) {
      out = static_cast<Code>(i);
      return true;
    }
  }
  return false;
}

RetryScope retry_scope(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUnavailable:
      return RetryScope::kCall;
    case ErrorKind::kAborted:
    case ErrorKind::kResourceExhausted:
    case ErrorKind::kInternal:
      return RetryScope::kJob;
    default:
      return RetryScope::kNone;
  }
}

bool is_retryable_call(Code code) { return retry_scope(code_kind(code)) == RetryScope::kCall; }

bool is_retryable_job(Code code) { return retry_scope(code_kind(code)) != RetryScope::kNone; }

std::string Error::to_string() const {
  std::string s = "[";
  s += name();
  s += "] ";
  s += message;
  if (!context.empty()) {
    s += " (";
    for (std::size_t i = 0; i < context.size(); ++i) {
      if (i) s += ", ";
      s += context[i].first + "=" + context[i].second;
    }
    s += ")";
  }
  return s;
}

}  // namespace faxbridge
