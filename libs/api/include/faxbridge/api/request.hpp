#pragma once
// DESIGN: what a handler sees of a request, detached from cpp-httplib: the matched
// route and its path parameters, query, headers, the request id, the caller (on routes
// that need one) and the body as the route declared it: parsed JSON, or multipart read
// on demand into the sinks the handler chooses. RequestData is plain, so a handler can
// be unit-tested with a hand-made Request.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "faxbridge/api/auth.hpp"
#include "faxbridge/api/multipart.hpp"
#include "faxbridge/api/problem.hpp"
#include "faxbridge/api/router.hpp"

namespace faxbridge::api {

struct RequestData {
  std::string method;
  std::string path;
  std::string route;  // the pattern that matched ("/api/v1/faxes/{id}")
  PathParams params;
  std::vector<std::pair<std::string, std::string>> query;
  Headers headers;
  std::string request_id;
  std::string remote_address;
  std::optional<Principal> principal;
  std::string body;     // BodyKind::kRaw routes, unless multipart
  std::string content_type;  // its media type, parameters removed ("image/svg+xml")
  nlohmann::json json;  // BodyKind::kJson routes
  // BodyKind::kMultipart routes: reads the body, once.
  std::function<ProblemOr<MultipartForm>(const SinkFactory&)> read_multipart;
  bool multipart_body = false;  // read_multipart was set (stays true once it is used)
};

class Request {
 public:
  explicit Request(RequestData data) : d_(std::move(data)) {}

  const std::string& method() const { return d_.method; }
  const std::string& path() const { return d_.path; }
  const std::string& route() const { return d_.route; }
  const std::string& request_id() const { return d_.request_id; }
  const std::string& remote_address() const { return d_.remote_address; }

  // A path parameter of the route ("id" of "/faxes/{id}"); empty when the route has none
  // by that name (a programming error the tests of the endpoint catch).
  std::string_view param(std::string_view name) const;
  std::optional<std::string> query(std::string_view name) const;
  // Every query parameter, in order (an endpoint that refuses unknown ones reads them all).
  const std::vector<std::pair<std::string, std::string>>& query_parameters() const { return d_.query; }
  std::optional<std::string> header(std::string_view name) const;  // case-insensitive

  // BodyKind::kRaw: the body as sent and its media type (lower case, no parameters);
  // both empty when the body is multipart/form-data (read it with multipart()).
  const std::string& body() const { return d_.body; }
  const std::string& content_type() const { return d_.content_type; }
  // The caller, set on every route whose Access needs one.
  const Principal* principal() const { return d_.principal ? &*d_.principal : nullptr; }
  const nlohmann::json& json() const { return d_.json; }
  // On a BodyKind::kJsonOrMultipart route: the body is multipart (read it with
  // multipart()), else it was JSON and json() holds it.
  bool is_multipart() const { return d_.multipart_body; }
  // Streams the multipart body: fields in memory (limited), files into sinks. A second
  // call, or a call on a route that is not BodyKind::kMultipart, is a problem.
  ProblemOr<MultipartForm> multipart(const SinkFactory& sinks);

 private:
  RequestData d_;
};

}  // namespace faxbridge::api
