// DESIGN: the few Response shapes handlers build; JSON is compact (no indentation),
// since clients parse it and bytes cost on every request.
#include "faxbridge/api/response.hpp"

namespace faxbridge::api {

Response Response::json(const nlohmann::json& body, int status) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump();
  return r;
}

Response Response::text(std::string body, std::string content_type, int status) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::no_content() {
  Response r;
  r.status = 204;
  return r;
}

}  // namespace faxbridge::api
