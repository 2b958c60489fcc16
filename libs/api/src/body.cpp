// DESIGN: see body.hpp. The order of the checks is the order a client fixes them in:
// can this endpoint take a body at all, in this encoding, of this type, of this size.
#include "faxbridge/api/body.hpp"

#include <algorithm>
#include <cctype>

namespace faxbridge::api {

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::string media_type(std::string_view content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

std::string media_type_parameter(std::string_view content_type, std::string_view name) {
  auto semi = content_type.find(';');
  while (semi != std::string_view::npos) {
    content_type.remove_prefix(semi + 1);
    semi = content_type.find(';');
    const auto param = trim(content_type.substr(0, semi));
    const auto eq = param.find('=');
    if (eq == std::string_view::npos || lower(trim(param.substr(0, eq))) != lower(name)) continue;
    auto value = trim(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return std::string(value);
  }
  return {};
}

bool is_json_media_type(std::string_view content_type) {
  const auto type = media_type(content_type);
  if (type == "application/json") return true;
  // application/problem+json, application/merge-patch+json (RFC 6839 structured suffix)
  return type.rfind("application/", 0) == 0 && type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0;
}

Problem body_too_large(std::uint64_t limit, std::string_view what) {
  return Problem(Code::k_api_body_too_large,
                 std::string(what) + " is larger than " + std::to_string(limit) + " bytes, the limit of this endpoint.");
}

std::optional<Problem> precheck_body(BodyKind kind, const BodyHeaders& headers, const BodyLimits& limits) {
  if (headers.length_malformed) {
    return Problem(Code::k_api_bad_request, "The Content-Length header is not a number of bytes.");
  }
  if (kind == BodyKind::kJsonOrMultipart) {
    if (media_type(headers.content_type) == "multipart/form-data") {
      return precheck_body(BodyKind::kMultipart, headers, limits);
    }
    if (headers.has_body() && !headers.content_type.empty() && !is_json_media_type(headers.content_type)) {
      return Problem(Code::k_api_unsupported_media_type, "This endpoint takes application/json or multipart/form-data, not " +
                                                             media_type(headers.content_type) + ".");
    }
    return precheck_body(BodyKind::kJson, headers, limits);
  }
  if (!headers.has_body()) {
    if (kind == BodyKind::kJson) {
      return Problem(Code::k_api_invalid_json, "The body is empty; this endpoint takes a JSON object.");
    }
    if (kind == BodyKind::kMultipart) {
      return Problem(Code::k_api_multipart_invalid, "The body is empty; this endpoint takes a multipart/form-data upload.");
    }
    return std::nullopt;
  }
  // Decompressing would let a small body grow past every limit we check on the wire;
  // no client of ours needs it, so only the identity encoding is taken.
  if (!headers.content_encoding.empty() && lower(trim(headers.content_encoding)) != "identity") {
    return Problem(Code::k_api_unsupported_media_type,
                   "Content-Encoding " + headers.content_encoding + " is not accepted; send the body uncompressed.");
  }
  switch (kind) {
    case BodyKind::kNone:
      if (headers.content_length && *headers.content_length > limits.ignored_max_bytes) {
        return body_too_large(limits.ignored_max_bytes, "This endpoint takes no body; the one sent");
      }
      return std::nullopt;
    case BodyKind::kJson:
      if (!is_json_media_type(headers.content_type)) {
        return Problem(Code::k_api_unsupported_media_type,
                       "This endpoint takes application/json" +
                           (headers.content_type.empty() ? std::string(", and the request has no Content-Type.")
                                                         : ", not " + media_type(headers.content_type) + "."));
      }
      if (headers.content_length && *headers.content_length > limits.json_max_bytes) {
        return body_too_large(limits.json_max_bytes);
      }
      return std::nullopt;
    case BodyKind::kJsonOrMultipart:  // decided above
      return std::nullopt;
    case BodyKind::kMultipart:
      if (media_type(headers.content_type) != "multipart/form-data") {
        return Problem(Code::k_api_unsupported_media_type,
                       "This endpoint takes multipart/form-data" +
                           (headers.content_type.empty() ? std::string(", and the request has no Content-Type.")
                                                         : ", not " + media_type(headers.content_type) + "."));
      }
      if (media_type_parameter(headers.content_type, "boundary").empty()) {
        return Problem(Code::k_api_multipart_invalid, "The multipart/form-data Content-Type has no boundary.");
      }
      if (!headers.content_length) {
        return Problem(Code::k_api_length_required, "Send multipart uploads with a Content-Length, not chunked.");
      }
      if (*headers.content_length > limits.multipart.max_total_bytes) {
        return body_too_large(limits.multipart.max_total_bytes);
      }
      return std::nullopt;
    case BodyKind::kRaw:
      if (media_type(headers.content_type) == "multipart/form-data") {
        return precheck_body(BodyKind::kMultipart, headers, limits);
      }
      if (headers.content_length && *headers.content_length > limits.raw_max_bytes) {
        return body_too_large(limits.raw_max_bytes);
      }
      return std::nullopt;
  }
  return std::nullopt;
}

ProblemOr<nlohmann::json> parse_json_body(std::string_view body) {
  try {
    return nlohmann::json::parse(body.begin(), body.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() repeats nlohmann's id ("[json.exception.parse_error.101] ..."); the byte
    // offset is what the caller needs to find the fault.
    return Problem(Code::k_api_invalid_json,
                   "The body is not valid JSON (at byte " + std::to_string(e.byte) + ").");
  }
}

}  // namespace faxbridge::api
