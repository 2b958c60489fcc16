// DESIGN: see faxbridge/testing/api_client.hpp. The checker is a child process started
// on first use and kept for the life of the test process (starting Python and loading
// the document per reply would cost ~100 ms each); a mutex makes the line exchange
// atomic for tests that call from several threads. If the checker cannot start or dies,
// every reply fails: a silent pass would make the contract untested.
#include "faxbridge/testing/api_client.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>

namespace faxbridge::testing {
namespace {

class Checker {
 public:
  static Checker& instance() {
    static Checker checker;
    return checker;
  }

  std::string check(const nlohmann::json& line) {
    std::lock_guard lock(mu_);
    if (!to_ || !from_) return "the OpenAPI checker (" FAXBRIDGE_OPENAPI_CHECK ") is not running";
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (std::fwrite(text.data(), 1, text.size(), to_) != text.size() || std::fflush(to_) != 0) {
      return "could not write to the OpenAPI checker";
    }
    std::string answer;
    for (int c; (c = std::fgetc(from_)) != EOF && c != '\n';) answer.push_back(static_cast<char>(c));
    auto verdict = nlohmann::json::parse(answer, nullptr, false);
    if (!verdict.is_object()) return "the OpenAPI checker answered no verdict: " + answer;
    if (verdict.value("ok", false)) return "";
    return verdict.value("error", std::string("(no reason given)"));
  }

 private:
  Checker() {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      // Debian's python3 and its python3-jsonschema/python3-yaml, not whichever python3
      // comes first on PATH.
      execl("/usr/bin/python3", "python3", FAXBRIDGE_OPENAPI_CHECK, FAXBRIDGE_OPENAPI_DOCUMENT,
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (pid_ < 0) return;
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
  }
  ~Checker() {
    if (to_) std::fclose(to_);  // EOF ends the checker's loop
    if (from_) std::fclose(from_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }

  std::mutex mu_;
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

std::string media_type(const std::string& content_type) {
  auto end = content_type.find(';');
  std::string m = content_type.substr(0, end);
  while (!m.empty() && m.back() == ' ') m.pop_back();
  return m;
}

bool is_unsafe(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace

std::string ApiReply::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return "";
}

std::string openapi_violation(const std::string& method, const std::string& path, int status,
                              const std::string& content_type, const std::string& body) {
  return Checker::instance().check({{"method", method},
                                    {"path", path},
                                    {"status", status},
                                    {"content_type", media_type(content_type)},
                                    // A binary body (PDF, TIFF, PNG) is not text JSON can carry; the
                                    // checker validates only JSON bodies and needs to know of others
                                    // only that there is one.
                                    {"body", media_type(content_type).ends_with("json") || body.empty()
                                                 ? body
                                                 : "<" + std::to_string(body.size()) + " bytes>"}});
}

ApiClient::ApiClient(int port, std::string host) : host_(std::move(host)), port_(port) {}

void ApiClient::bearer(std::string token) {
  anonymous();
  bearer_ = std::move(token);
}

void ApiClient::anonymous() {
  bearer_.clear();
  cookie_.clear();
  csrf_token_.clear();
}

bool ApiClient::sign_in(const std::string& username, const std::string& password) {
  anonymous();
  auto reply = post("/api/v1/session", {{"username", username}, {"password", password}});
  if (reply.status != 201) return false;
  const std::string set_cookie = reply.header("Set-Cookie");
  cookie_ = set_cookie.substr(0, set_cookie.find(';'));
  csrf_token_ = reply.json.value("csrf_token", "");
  return !cookie_.empty();
}

httplib::Headers ApiClient::with_credentials(const std::string& method, const httplib::Headers& h) const {
  httplib::Headers headers = h;
  if (!bearer_.empty() && !headers.count("Authorization")) headers.emplace("Authorization", "Bearer " + bearer_);
  if (!cookie_.empty() && !headers.count("Cookie")) headers.emplace("Cookie", cookie_);
  if (!csrf_token_.empty() && is_unsafe(method) && !headers.count("X-CSRF-Token")) {
    headers.emplace("X-CSRF-Token", csrf_token_);
  }
  return headers;
}

ApiReply ApiClient::finish(const std::string& method, const std::string& path, const httplib::Result& result) {
  ApiReply reply;
  if (!result) {
    ADD_FAILURE() << method << " " << path << ": no answer (" << httplib::to_string(result.error()) << ")";
    return reply;
  }
  reply.status = result->status;
  reply.headers = result->headers;
  reply.body = result->body;
  reply.content_type = media_type(result->get_header_value("Content-Type"));
  if (reply.content_type == "application/json" || reply.content_type == "application/problem+json") {
    reply.json = nlohmann::json::parse(reply.body, nullptr, false);
    if (reply.json.is_discarded()) reply.json = nullptr;
  }
  const std::string violation = openapi_violation(method, path, reply.status, reply.content_type, reply.body);
  if (!violation.empty()) ADD_FAILURE() << "docs/api/openapi.yaml does not describe this reply: " << violation;
  return reply;
}

ApiReply ApiClient::send(const std::string& method, const std::string& path, const std::string& body,
                         const std::string& content_type, const httplib::Headers& h) {
  httplib::Client client(host_, port_);
  client.set_read_timeout(120, 0);
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.headers = with_credentials(method, h);
  if (!content_type.empty()) req.headers.emplace("Content-Type", content_type);
  req.body = body;
  return finish(method, path, client.send(req));
}

ApiReply ApiClient::get(const std::string& path, const httplib::Headers& h) { return send("GET", path, "", "", h); }

ApiReply ApiClient::post(const std::string& path, const nlohmann::json& body, const httplib::Headers& h) {
  return send("POST", path, body.dump(), "application/json", h);
}

ApiReply ApiClient::put(const std::string& path, const nlohmann::json& body, const httplib::Headers& h) {
  return send("PUT", path, body.dump(), "application/json", h);
}

ApiReply ApiClient::patch(const std::string& path, const nlohmann::json& body, const httplib::Headers& h) {
  return send("PATCH", path, body.dump(), "application/json", h);
}

ApiReply ApiClient::del(const std::string& path, const httplib::Headers& h) { return send("DELETE", path, "", "", h); }

ApiReply ApiClient::post_multipart(const std::string& path, const std::vector<FilePart>& parts,
                                   const httplib::Headers& h) {
  httplib::Client client(host_, port_);
  client.set_read_timeout(120, 0);
  httplib::MultipartFormDataItems items;
  for (const auto& p : parts) items.push_back({p.name, p.content, p.filename, p.content_type});
  return finish("POST", path, client.Post(path.c_str(), with_credentials("POST", h), items));
}

nlohmann::json expect_problem(const ApiReply& reply, int status, std::string_view code) {
  EXPECT_EQ(reply.status, status) << reply.body;
  EXPECT_EQ(reply.content_type, "application/problem+json") << reply.body;
  if (!reply.json.is_object()) {
    ADD_FAILURE() << "not a problem document: " << reply.body;
    return {};
  }
  EXPECT_EQ(reply.json.value("code", ""), code) << reply.body;
  EXPECT_EQ(reply.json.value("status", 0), status) << reply.body;
  EXPECT_FALSE(reply.json.value("detail", "").empty()) << reply.body;
  EXPECT_FALSE(reply.json.value("request_id", "").empty()) << reply.body;
  return reply.json;
}

}  // namespace faxbridge::testing
