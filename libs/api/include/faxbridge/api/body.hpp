#pragma once
// DESIGN: the decisions about a request body that need only its headers, made before
// a byte of it is read: whether the endpoint takes a body at all, its media type, its
// encoding, and its declared length against the endpoint's limit. The server applies
// them both to a plain request and to one that sent `Expect: 100-continue` (then the
// refusal goes out before the client sends the body). Reading itself is in the server
// (it needs cpp-httplib's ContentReader); these stay pure and unit-tested.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "faxbridge/api/multipart.hpp"
#include "faxbridge/api/problem.hpp"

namespace faxbridge::api {

enum class BodyKind {
  // A document as the body itself, any media type (the handler checks it: PUT of an SVG
  // cover page), read whole up to BodyLimits::raw_max_bytes into Request::body(); or
  // multipart/form-data (an HTML form's upload), read through Request::multipart().
  kRaw,
  kNone,       // a small body is read and ignored (clients that POST "{}"); more is 413
  kJson,       // application/json or application/*+json, parsed before the handler runs
  kMultipart,  // multipart/form-data, read by the handler through Request::multipart()
  // Either, chosen by the request's Content-Type (POST /faxes takes file ids as JSON or
  // the files themselves as multipart); Request::is_multipart() tells the handler which.
  kJsonOrMultipart,
};

struct BodyLimits {
  std::size_t json_max_bytes = 1 << 20;     // 1 MiB: the largest JSON request (a broadcast)
  std::size_t ignored_max_bytes = 4 << 10;  // what a body-less endpoint reads and drops
  MultipartLimits multipart;
  std::size_t raw_max_bytes = 1 << 20;      // 1 MiB: a BodyKind::kRaw body (a cover page SVG)
};

struct BodyHeaders {
  std::string content_type;               // as sent, parameters included
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  std::string content_encoding;
  bool length_malformed = false;          // Content-Length present but not a number

  bool has_body() const { return chunked || (content_length && *content_length > 0); }
};

// "Application/JSON; charset=utf-8" -> "application/json".
std::string media_type(std::string_view content_type);
// A parameter of a Content-Type ("boundary"), quotes removed; empty when absent.
std::string media_type_parameter(std::string_view content_type, std::string_view name);
bool is_json_media_type(std::string_view content_type);

// The problem that refuses the body before reading, or nullopt to go on.
std::optional<Problem> precheck_body(BodyKind kind, const BodyHeaders& headers, const BodyLimits& limits);

// The JSON document, or api.invalid_json with the byte offset of the fault.
ProblemOr<nlohmann::json> parse_json_body(std::string_view body);

// The 413 problem for a body over `limit` bytes.
Problem body_too_large(std::uint64_t limit, std::string_view what = "The request body");

}  // namespace faxbridge::api
