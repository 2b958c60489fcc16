#pragma once
// Test support: an HTTP client for the API tests that checks every reply against the
// contract. Each ApiClient is one caller (a bearer token, a signed-in session with its
// cookie and CSRF token, or nobody) over cpp-httplib; every reply it receives is
// passed to tests/support/openapi_check.py (one python3 process per test process,
// spoken to over pipes) and a reply the document does not describe — an unknown
// status, an undocumented content type, a body off its schema — fails the running test
// with the checker's sentence. So no test can pass on a response that docs/api/openapi.yaml
// would not promise.
#include <httplib.h>

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace faxbridge::testing {

struct ApiReply {
  int status = 0;              // 0: no answer (connection refused, reset, timeout)
  std::string content_type;    // without parameters
  std::string body;
  nlohmann::json json;         // the parsed body when it is JSON (problem+json too), else null
  httplib::Headers headers;
  std::string header(const std::string& name) const;
};

struct FilePart {
  std::string name;
  std::string content;
  std::string filename;      // empty: a text field
  std::string content_type;  // empty: none sent
};

class ApiClient {
 public:
  explicit ApiClient(int port, std::string host = "127.0.0.1");

  void bearer(std::string token);
  // POST /api/v1/session; on success the cookie and CSRF token go with later requests
  // (the token on unsafe methods only, as a browser's page would send it).
  bool sign_in(const std::string& username, const std::string& password);
  void anonymous();
  const std::string& csrf_token() const { return csrf_token_; }

  ApiReply get(const std::string& path_and_query, const httplib::Headers& h = {});
  ApiReply post(const std::string& path, const nlohmann::json& body, const httplib::Headers& h = {});
  ApiReply put(const std::string& path, const nlohmann::json& body, const httplib::Headers& h = {});
  ApiReply patch(const std::string& path, const nlohmann::json& body, const httplib::Headers& h = {});
  ApiReply del(const std::string& path, const httplib::Headers& h = {});
  ApiReply post_multipart(const std::string& path, const std::vector<FilePart>& parts,
                          const httplib::Headers& h = {});
  // Any method and body, for bad input; still validated.
  ApiReply send(const std::string& method, const std::string& path, const std::string& body,
                const std::string& content_type, const httplib::Headers& h = {});

 private:
  httplib::Headers with_credentials(const std::string& method, const httplib::Headers& h) const;
  ApiReply finish(const std::string& method, const std::string& path, const httplib::Result& result);

  std::string host_;
  int port_;
  std::string bearer_;
  std::string cookie_;
  std::string csrf_token_;
};

// The reply is a problem document with this status and code, a detail and a request id;
// returns it for further checks.
nlohmann::json expect_problem(const ApiReply& reply, int status, std::string_view code);

// Checks one reply against the document without a client (for replies made another
// way); the checker's sentence, or empty when the reply is described.
std::string openapi_violation(const std::string& method, const std::string& path, int status,
                              const std::string& content_type, const std::string& body);

}  // namespace faxbridge::testing
