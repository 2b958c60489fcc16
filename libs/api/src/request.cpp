// DESIGN: see request.hpp; linear lookups, since a request has a handful of each.
#include "faxbridge/api/request.hpp"

#include <strings.h>

namespace faxbridge::api {

std::string_view Request::param(std::string_view name) const {
  for (const auto& [n, v] : d_.params) {
    if (n == name) return v;
  }
  return {};
}

std::optional<std::string> Request::query(std::string_view name) const {
  for (const auto& [n, v] : d_.query) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::optional<std::string> Request::header(std::string_view name) const {
  for (const auto& [n, v] : d_.headers) {
    if (n.size() == name.size() && ::strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  }
  return std::nullopt;
}

ProblemOr<MultipartForm> Request::multipart(const SinkFactory& sinks) {
  if (!d_.read_multipart) {
    return Problem(Code::k_api_internal, "The endpoint read its multipart body twice or has none.");
  }
  auto read = std::move(d_.read_multipart);
  d_.read_multipart = nullptr;
  return read(sinks);
}

}  // namespace faxbridge::api
