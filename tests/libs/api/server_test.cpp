// Integration tests: a real api::Server on an ephemeral loopback port, cpp-httplib's
// client for ordinary requests, and a raw socket where the test must control exactly
// which bytes are sent (a body that is never sent, an Expect: 100-continue).
#include "faxbridge/api/server.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include "faxbridge/api/throttle.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/core/clock.hpp"

using namespace faxbridge;
using nlohmann::json;

namespace {

// Tokens and one cookie session, as the web-api authenticator will keep them in the DB.
class FakeAuthenticator final : public api::Authenticator {
 public:
  Result<std::optional<api::Principal>> authenticate(const api::Credentials& c) override {
    if (c.bearer_token) {
      if (*c.bearer_token == "admin-token") return std::optional(principal(1, 10, api::AuthMethod::kToken));
      if (*c.bearer_token == "user-token") return std::optional(principal(2, 2, api::AuthMethod::kToken));
      if (*c.bearer_token == "level0-token") return std::optional(principal(3, 0, api::AuthMethod::kToken));
      return Error(Code::k_api_unauthenticated, "This API token is unknown or revoked.");
    }
    if (c.session_cookie) {
      if (*c.session_cookie != "session-1") return Error(Code::k_api_unauthenticated, "The session has expired.");
      if (auto csrf = api::check_csrf(c, "csrf-1"); !csrf) return csrf.error();
      return std::optional(principal(2, 2, api::AuthMethod::kSession));
    }
    return std::optional<api::Principal>{};
  }

 private:
  static api::Principal principal(std::int64_t id, int level, api::AuthMethod m) {
    return api::Principal{id, "user" + std::to_string(id), level, m};
  }
};

// Peak resident memory of this process (server and client both live here).
long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Sends `bytes` on a new connection, then reads until the server closes it.
std::string raw_exchange(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

json body_of_raw(const std::string& response) {
  const auto start = response.find("\r\n\r\n");
  return start == std::string::npos ? json() : json::parse(response.substr(start + 4), nullptr, false);
}

class ApiServer : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.threads = 4;
    options_.limits.json_max_bytes = 64 << 10;
    options_.limits.multipart.max_total_bytes = 1 << 20;
    options_.limits.multipart.max_file_bytes = 256 << 10;
    options_.limits.multipart.max_parts = 4;
    options_.keep_alive_timeout = std::chrono::seconds(1);
    options_.authenticator = &auth_;
    options_.metrics = &registry_;
  }

  void add_routes(api::Server& s) {
    auto add = [&](api::Route r) { ASSERT_TRUE(s.add(std::move(r))); };
    add({"GET", "/api/v1/version", api::kPublic, api::BodyKind::kNone,
         [](api::Request&) { return api::Response::json({{"version", "test"}}); }});
    add({"GET", "/api/v1/faxes/{id}", api::kFaxUser, api::BodyKind::kNone, [](api::Request& r) {
           return api::Response::json({{"id", std::string(r.param("id"))}, {"user", r.principal()->user_id}});
         }});
    add({"POST", "/api/v1/faxes/{id}/cancel", api::kFaxUser, api::BodyKind::kNone,
         [](api::Request&) { return api::Response::no_content(); }});
    add({"GET", "/api/v1/admin/users", api::kAdministrator, api::BodyKind::kNone,
         [](api::Request&) { return api::Response::json(json::array()); }});
    add({"POST", "/api/v1/faxes", api::kPublic, api::BodyKind::kJson, [](api::Request& r) -> api::Reply {
           std::string to;
           int priority = 5;
           api::Fields f(r.json());
           f.required("to", to, api::Text{.min = 1, .max = 20});
           f.optional("priority", priority, api::Range{.min = 0, .max = 9});
           if (auto problem = f.finish()) return *problem;
           return api::Response::json({{"to", to}, {"priority", priority}}, 201);
         }});
    add({"POST", "/api/v1/files", api::kPublic, api::BodyKind::kMultipart, [this](api::Request& r) -> api::Reply {
           auto form = r.multipart([](const api::PartInfo&) -> Result<std::unique_ptr<api::FileSink>> {
             auto sink = api::TempFileSink::create(::testing::TempDir());
             if (!sink) return sink.error();
             return std::unique_ptr<api::FileSink>(std::move(*sink));
           });
           if (!form) return std::move(form).problem();
           json files = json::array();
           for (const auto& f : form->files) files.push_back({{"name", f.info.name}, {"filename", f.info.filename}, {"size", f.size}});
           const auto* note = form->field("note");
           uploads_.fetch_add(1);
           return api::Response::json({{"files", files}, {"note", note ? *note : ""}}, 201);
         }});
    add({"POST", "/api/v1/session", api::kPublic, api::BodyKind::kNone, [this](api::Request& r) -> api::Reply {
           auto decision = throttle_.attempt("address:" + r.remote_address());
           if (!decision.allowed) return api::rate_limited(decision.retry_after, "Too many sign-in attempts.");
           return api::Response::no_content();
         }});
    add({"GET", "/api/v1/boom", api::kPublic, api::BodyKind::kNone,
         [](api::Request&) -> api::Reply { throw std::runtime_error("handler bug"); }});
  }

  int start() {
    server_ = std::make_unique<api::Server>(options_);
    add_routes(*server_);
    auto port = server_->start();
    EXPECT_TRUE(port) << port.error().to_string();
    port_ = port ? *port : 0;
    return port_;
  }

  httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    return c;
  }

  // The response is a problem+json of `status` and `code`, with the request id echoed.
  static json expect_problem(const httplib::Result& res, int status, const std::string& code) {
    EXPECT_TRUE(res) << "no response";
    if (!res) return {};
    EXPECT_EQ(res->status, status);
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/problem+json");
    auto body = json::parse(res->body, nullptr, false);
    EXPECT_EQ(body["status"], status);
    EXPECT_EQ(body["code"], code);
    EXPECT_EQ(body["type"], "urn:faxbridge:error:" + code);
    EXPECT_TRUE(body["title"].is_string());
    EXPECT_TRUE(body["detail"].is_string());
    EXPECT_TRUE(body["instance"].is_string());
    EXPECT_FALSE(res->get_header_value("X-Request-Id").empty());
    EXPECT_EQ(body["request_id"], res->get_header_value("X-Request-Id"));
    return body;
  }

  FakeAuthenticator auth_;
  metrics::Registry registry_;
  ManualClock clock_{utc_time(2026, 3, 1)};
  api::Throttle throttle_{clock_, {.burst = 2, .refill_every = std::chrono::seconds(30)}};
  std::atomic<int> uploads_{0};
  api::ServerOptions options_;
  std::unique_ptr<api::Server> server_;
  int port_ = 0;
};

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

}  // namespace

TEST_F(ApiServer, ServesARouteAndEchoesAGoodRequestIdOrMakesOne) {
  start();
  auto c = client();
  auto res = c.Get("/api/v1/version", {{"X-Request-Id", "client-id-1"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["version"], "test");
  EXPECT_EQ(res->get_header_value("X-Request-Id"), "client-id-1");

  auto replaced = c.Get("/api/v1/version", {{"X-Request-Id", "has spaces and \"quotes\""}});
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->get_header_value("X-Request-Id").size(), 32u);

  auto problem = c.Get("/nowhere", {{"X-Request-Id", "client-id-2"}});
  EXPECT_EQ(expect_problem(problem, 404, "api.not_found")["request_id"], "client-id-2");
}

TEST_F(ApiServer, PathParametersAndTheCallerReachTheHandler) {
  start();
  auto res = client().Get("/api/v1/faxes/812", bearer("user-token"));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body), (json{{"id", "812"}, {"user", 2}}));
}

TEST_F(ApiServer, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  start();
  auto c = client();
  auto not_found = expect_problem(c.Get("/api/v1/nothing"), 404, "api.not_found");
  EXPECT_EQ(not_found["instance"], "/api/v1/nothing");
  auto res = c.Delete("/api/v1/version");
  expect_problem(res, 405, "api.method_not_allowed");
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD");
  auto options = c.Options("/api/v1/faxes");
  ASSERT_TRUE(options);
  EXPECT_EQ(options->status, 204);
  EXPECT_EQ(options->get_header_value("Allow"), "POST");
}

TEST_F(ApiServer, TheFallbackServesGetsOutsideApiAndNothingElse) {
  options_.fallback = [](api::Request& r) {
    return api::Response::text("ui:" + r.method() + ":" + r.path(), "text/plain");
  };
  start();
  auto c = client();
  auto page = c.Get("/inbox/12");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "ui:GET:/inbox/12");
  auto root = c.Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->body, "ui:GET:/");
  // The API's namespace and its routes are untouched: a route still wins, an unknown
  // /api/ path is still a 404 problem, and a wrong method still 405.
  EXPECT_EQ(json::parse(c.Get("/api/v1/version")->body)["version"], "test");
  expect_problem(c.Get("/api/v1/nothing"), 404, "api.not_found");
  expect_problem(c.Get("/api"), 404, "api.not_found");
  expect_problem(c.Delete("/api/v1/version"), 405, "api.method_not_allowed");
  // Only reads fall back: a POST to a UI path is no page.
  expect_problem(c.Post("/inbox", "{}", "application/json"), 404, "api.not_found");
}

TEST_F(ApiServer, MissingOrBadCredentialsAre401WithWwwAuthenticate) {
  start();
  auto c = client();
  auto none = c.Get("/api/v1/faxes/1");
  expect_problem(none, 401, "api.unauthenticated");
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), R"(Bearer realm="faxbridge")");
  auto bad = c.Get("/api/v1/faxes/1", bearer("stolen"));
  auto body = expect_problem(bad, 401, "api.unauthenticated");
  EXPECT_EQ(body["detail"], "This API token is unknown or revoked.");
  EXPECT_NE(bad->get_header_value("WWW-Authenticate").find("invalid_token"), std::string::npos);
  expect_problem(c.Get("/api/v1/faxes/1", {{"Cookie", "faxbridge_session=expired"}}), 401, "api.unauthenticated");
}

TEST_F(ApiServer, ALevelBelowTheRoutesIs403) {
  start();
  auto c = client();
  expect_problem(c.Get("/api/v1/admin/users", bearer("user-token")), 403, "api.forbidden");
  expect_problem(c.Get("/api/v1/faxes/1", bearer("level0-token")), 403, "api.forbidden");
  auto admin = c.Get("/api/v1/admin/users", bearer("admin-token"));
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->status, 200);
}

TEST_F(ApiServer, CookieSessionsNeedTheCsrfHeaderOnUnsafeMethods) {
  start();
  auto c = client();
  const httplib::Headers cookie{{"Cookie", "faxbridge_session=session-1"}};
  auto read = c.Get("/api/v1/faxes/1", cookie);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  expect_problem(c.Post("/api/v1/faxes/1/cancel", cookie), 403, "api.csrf_invalid");
  const httplib::Headers cookie_and_csrf{{"Cookie", "faxbridge_session=session-1"}, {"X-CSRF-Token", "csrf-1"}};
  auto with_csrf = c.Post("/api/v1/faxes/1/cancel", cookie_and_csrf);
  ASSERT_TRUE(with_csrf);
  EXPECT_EQ(with_csrf->status, 204);
  auto token = c.Post("/api/v1/faxes/1/cancel", bearer("user-token"));  // no CSRF for tokens
  ASSERT_TRUE(token);
  EXPECT_EQ(token->status, 204);
}

TEST_F(ApiServer, JsonBodiesAreTypeCheckedParsedAndValidated) {
  start();
  auto c = client();
  auto created = c.Post("/api/v1/faxes", R"({"to":"+3902123","priority":1})", "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  EXPECT_EQ(json::parse(created->body)["to"], "+3902123");

  expect_problem(c.Post("/api/v1/faxes", "to=1", "application/x-www-form-urlencoded"), 415,
                 "api.unsupported_media_type");
  auto invalid = expect_problem(c.Post("/api/v1/faxes", R"({"to":)", "application/json"), 400, "api.invalid_json");
  EXPECT_NE(invalid["detail"].get<std::string>().find("byte"), std::string::npos);

  auto body = expect_problem(c.Post("/api/v1/faxes", R"({"priority":"high","colour":"red"})", "application/json"),
                             422, "api.validation_failed");
  ASSERT_EQ(body["errors"].size(), 3u);
  EXPECT_EQ(body["errors"][0], (json{{"field", "/to"}, {"code", "api.field_required"}, {"detail", "This field is required."}}));
  EXPECT_EQ(body["errors"][1]["field"], "/priority");
  EXPECT_EQ(body["errors"][1]["code"], "api.field_wrong_type");
  EXPECT_EQ(body["errors"][2]["field"], "/colour");
  EXPECT_EQ(body["errors"][2]["code"], "api.field_unknown");
}

TEST_F(ApiServer, AJsonBodyOverTheLimitIs413ByLengthAndWhileReadingChunks) {
  start();
  auto c = client();
  const std::string big = R"({"to":")" + std::string(70 << 10, 'x') + R"("})";
  expect_problem(c.Post("/api/v1/faxes", big, "application/json"), 413, "api.body_too_large");

  // Chunked: no length to check up front, so the read stops at the limit.
  std::size_t sent = 0;
  auto chunked = c.Post(
      "/api/v1/faxes",
      [&](std::size_t, httplib::DataSink& sink) {
        static const std::string piece(8 << 10, ' ');
        if (sent >= (128u << 10)) {
          sink.done();
          return true;
        }
        sent += piece.size();
        return sink.write(piece.data(), piece.size());
      },
      "application/json");
  // The server answers 413 and closes once the limit is passed; whether the client
  // still reads that answer depends on how far it got with its writes, so both are fine.
  if (chunked) expect_problem(chunked, 413, "api.body_too_large");
  auto after = client().Get("/api/v1/version");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(ApiServer, A200MegabyteUploadIsRefusedFromItsLengthWithoutBeingRead) {
  start();
  const long rss_before = peak_rss_kib();
  constexpr std::uint64_t k200MB = 200ull << 20;

  // The headers alone: the answer comes before any byte of the body is sent.
  const std::string head = "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                           "Content-Length: " + std::to_string(k200MB) + "\r\n\r\n";
  const auto raw = raw_exchange(port_, head);
  ASSERT_EQ(raw.rfind("HTTP/1.1 413", 0), 0u) << raw;
  EXPECT_NE(raw.find("Connection: close"), std::string::npos);
  EXPECT_EQ(body_of_raw(raw)["code"], "api.body_too_large");

  // With Expect: 100-continue the refusal replaces the 100, so the body is never sent.
  const auto expect = raw_exchange(port_, head.substr(0, head.size() - 2) + "Expect: 100-continue\r\n\r\n");
  ASSERT_EQ(expect.rfind("HTTP/1.1 413", 0), 0u) << expect;
  EXPECT_EQ(body_of_raw(expect)["code"], "api.body_too_large");

  // A client that streams the 200 MB regardless: the server stops reading and closes, so
  // the client's provider is asked for a few socket buffers' worth, not 200 MB.
  std::uint64_t provided = 0;
  static const std::string piece(64 << 10, 'a');
  auto streamed = client().Post("/api/v1/files", {}, static_cast<std::size_t>(k200MB),
                                [&](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                  const auto n = std::min<std::size_t>(length, piece.size());
                                  provided = offset + n;
                                  return sink.write(piece.data(), n);
                                },
                                "multipart/form-data; boundary=b");
  if (streamed) expect_problem(streamed, 413, "api.body_too_large");
  EXPECT_LT(provided, 64ull << 20) << "the server read far into the body";
  EXPECT_EQ(uploads_.load(), 0);
  EXPECT_LT(peak_rss_kib() - rss_before, 64 << 10) << "KiB of peak memory grew";

  auto after = client().Get("/api/v1/version");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(ApiServer, MultipartFilesAreStreamedAndLimitsGiveProblems) {
  start();
  auto c = client();
  httplib::MultipartFormDataItems items = {
      {"note", "hello", "", ""},
      {"document", std::string(10 << 10, 'p'), "a.pdf", "application/pdf"},
  };
  auto res = c.Post("/api/v1/files", items);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  auto body = json::parse(res->body);
  EXPECT_EQ(body["note"], "hello");
  EXPECT_EQ(body["files"][0], (json{{"name", "document"}, {"filename", "a.pdf"}, {"size", 10 << 10}}));

  httplib::MultipartFormDataItems too_big = {{"document", std::string(300 << 10, 'p'), "b.pdf", "application/pdf"}};
  expect_problem(c.Post("/api/v1/files", too_big), 413, "api.body_too_large");

  httplib::MultipartFormDataItems too_many;
  for (int i = 0; i < 6; ++i) too_many.push_back({"f" + std::to_string(i), "x", "", ""});
  auto many = expect_problem(client().Post("/api/v1/files", too_many), 413, "api.body_too_large");
  EXPECT_NE(many["detail"].get<std::string>().find("parts"), std::string::npos);

  const std::string truncated = "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--b\r\n"
                                "Content-Disposition: form-data; name=\"doc\"; filename=\"c.pdf\"\r\n\r\n%PDF half";
  expect_problem(client().Post("/api/v1/files", truncated, "multipart/form-data; boundary=b"), 400,
                 "api.multipart_invalid");

  auto chunked = client().Post(
      "/api/v1/files",
      [](std::size_t, httplib::DataSink& sink) {
        sink.done();
        return true;
      },
      "multipart/form-data; boundary=b");
  if (chunked) expect_problem(chunked, 411, "api.length_required");
  EXPECT_EQ(uploads_.load(), 1);
}

TEST_F(ApiServer, SignInThrottlingAnswers429WithRetryAfter) {
  start();
  auto c = client();
  EXPECT_EQ(c.Post("/api/v1/session")->status, 204);
  EXPECT_EQ(c.Post("/api/v1/session")->status, 204);
  auto refused = c.Post("/api/v1/session");
  expect_problem(refused, 429, "api.rate_limited");
  EXPECT_EQ(refused->get_header_value("Retry-After"), "30");
  clock_.advance(std::chrono::seconds(30));
  EXPECT_EQ(c.Post("/api/v1/session")->status, 204);
}

TEST_F(ApiServer, AThrowingHandlerIs500AndTheServerKeepsServing) {
  start();
  auto c = client();
  auto body = expect_problem(c.Get("/api/v1/boom"), 500, "api.internal");
  EXPECT_EQ(body["detail"].get<std::string>().find("handler bug"), std::string::npos);  // not leaked
  for (int i = 0; i < 3; ++i) {
    auto ok = c.Get("/api/v1/version");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
  }
}

TEST_F(ApiServer, MetricsCountByRoutePatternNotByPath) {
  start();
  auto c = client();
  c.Get("/api/v1/faxes/1", bearer("user-token"));
  c.Get("/api/v1/faxes/2", bearer("user-token"));
  c.Get("/api/v1/faxes/3");
  c.Get("/some/random/path");
  const auto text = registry_.render();
  EXPECT_NE(text.find(R"(faxbridge_api_requests_total{route="/api/v1/faxes/{id}",method="GET",status_class="2xx"} 2)"),
            std::string::npos) << text;
  EXPECT_NE(text.find(R"(faxbridge_api_requests_total{route="/api/v1/faxes/{id}",method="GET",status_class="4xx"} 1)"),
            std::string::npos) << text;
  EXPECT_NE(text.find(R"(route="unmatched")"), std::string::npos);
  EXPECT_NE(text.find(R"(faxbridge_api_request_duration_seconds_count{route="/api/v1/faxes/{id}"} 3)"),
            std::string::npos) << text;
  EXPECT_EQ(text.find("/api/v1/faxes/1"), std::string::npos);
}

TEST_F(ApiServer, StopLetsARequestInProgressFinish) {
  options_.threads = 2;
  std::mutex m;
  std::condition_variable cv;
  bool entered = false, release = false;
  server_ = std::make_unique<api::Server>(options_);
  ASSERT_TRUE(server_->add({"GET", "/slow", api::kPublic, api::BodyKind::kNone, [&](api::Request&) {
    std::unique_lock lock(m);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return api::Response::json({{"done", true}});
  }}));
  auto port = server_->start();
  ASSERT_TRUE(port);
  port_ = *port;
  int status = 0;
  std::thread caller([&] {
    auto res = client().Get("/slow");
    status = res ? res->status : -1;
  });
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return entered; });
  }
  std::thread stopper([&] { server_->stop(); });
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  caller.join();
  stopper.join();
  EXPECT_EQ(status, 200);
  EXPECT_FALSE(client().Get("/slow"));  // no longer listening
}

TEST_F(ApiServer, RefusesABadRoute) {
  api::Server s(options_);
  EXPECT_TRUE(s.add({"GET", "/a/{id}", api::kPublic, api::BodyKind::kNone, [](api::Request&) { return api::Response::no_content(); }}));
  EXPECT_FALSE(s.add({"GET", "/a/{other}", api::kPublic, api::BodyKind::kNone, [](api::Request&) { return api::Response::no_content(); }}));
  EXPECT_FALSE(s.add({"GET", "/b", api::kPublic, api::BodyKind::kNone, nullptr}));
}

TEST_F(ApiServer, ServesHttpsWhenACertificateIsConfigured) {
  const std::string dir = ::testing::TempDir();
  const std::string cert = dir + "/api-test-cert.pem", key = dir + "/api-test-key.pem";
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 -keyout " + key +
                          " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a test certificate";
  options_.tls = {cert, key};
  start();
  ASSERT_TRUE(server_->tls());
  httplib::SSLClient c("127.0.0.1", port_);
  c.enable_server_certificate_verification(false);  // self-signed for the test
  auto res = c.Get("/api/v1/version");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  expect_problem(c.Get("/nowhere"), 404, "api.not_found");
  // Plain HTTP to the TLS port gets no API answer.
  auto plain = client().Get("/api/v1/version");
  EXPECT_TRUE(!plain || plain->status != 200);
}

TEST_F(ApiServer, TlsFilesThatDoNotLoadFailTheStart) {
  options_.tls = {"/nonexistent/cert.pem", "/nonexistent/key.pem"};
  api::Server s(options_);
  auto port = s.start();
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().code, Code::k_config_invalid);
}
