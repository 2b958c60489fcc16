#pragma once
// The `faxbridge` tool's client of the REST API (/api/v1): one HTTP call in, one answer
// out, with every way a call can fail reduced to what the person at the shell needs to
// know: the API refused (its problem+json: code, detail, field errors), the API could
// not be reached (which URL, and which variable points elsewhere), or something that is
// not the Faxbridge API answered. The commands (fax_commands.cpp) print and decide; this
// file only talks HTTP (cpp-httplib's client, kept out of the header).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "faxbridge/core/config.hpp"

namespace faxbridge::cli {

inline constexpr const char* kDefaultApiUrl = "http://127.0.0.1:8080";

// Where the API is and who calls it: from --api-url/--token, else FAXBRIDGE_API_URL
// (default kDefaultApiUrl) and FAXBRIDGE_API_TOKEN.
struct ApiArgs {
  std::string url = kDefaultApiUrl;
  std::string token;
  bool url_from_flag = false;  // for the hint on a connection error
};
ApiArgs resolve_api_args(const std::optional<std::string>& url_flag, const std::optional<std::string>& token_flag,
                         const config::Env& env);

// "http://host:port[/prefix]" split for the HTTP client; nullopt when it is not an
// http(s) URL with a host.
struct ApiUrl {
  std::string scheme_host_port;  // "http://127.0.0.1:8080"
  std::string base_path;         // "" or "/fax" (no trailing slash)
};
std::optional<ApiUrl> parse_api_url(const std::string& url);

struct ApiFailure {
  enum class Kind {
    kUnreachable,  // no HTTP answer: refused, timed out, TLS failed, connection broke
    kProblem,      // the API answered with a problem document
    kNotTheApi,    // an HTTP answer that is not the API's (HTML, no code, bad JSON)
  };
  Kind kind = Kind::kUnreachable;
  std::string url;     // the URL tried (base URL + path)
  int status = 0;      // HTTP status, 0 when unreachable
  std::string code;    // the problem's stable code ("fax.not_found")
  std::string detail;  // the problem's sentence, or the transport's reason
  std::vector<std::pair<std::string, std::string>> field_errors;  // JSON pointer, detail
};

struct ApiAnswer {
  int status = 0;
  nlohmann::json body;  // the parsed JSON body (null for an empty one)
  std::optional<ApiFailure> failure;
  bool ok() const { return !failure.has_value(); }
};

struct UploadPart {
  std::string name;          // form field name: "file", "to", "subject", ...
  std::string content;
  std::string filename;      // set for file parts
  std::string content_type;  // set for file parts
};

class ApiClient final {
 public:
  // `url` must have parsed (parse_api_url); the token goes as a bearer token when set.
  ApiClient(const ApiUrl& url, std::string display_url, std::string token,
            std::chrono::seconds read_timeout = std::chrono::seconds(120));
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // `path` is under the base URL, e.g. "/api/v1/faxes?limit=20".
  ApiAnswer get(const std::string& path);
  ApiAnswer post_json(const std::string& path, const nlohmann::json& body);
  // A multipart POST with an Idempotency-Key. When no HTTP answer came (the request may
  // or may not have arrived), it is sent once more with the same key, so the server
  // answers the retry with the first request's result instead of acting twice.
  ApiAnswer post_multipart_idempotent(const std::string& path, const std::vector<UploadPart>& parts,
                                      const std::string& idempotency_key);
  // How many HTTP requests were sent (a retry counts), for tests.
  int requests_sent() const { return requests_sent_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string display_url_;
  int requests_sent_ = 0;
};

// A fresh random Idempotency-Key (128 bits from the OS, hex).
std::string new_idempotency_key();

}  // namespace faxbridge::cli
