// The logic of `faxbridge send` and `faxbridge faxes`, without a database: recipients
// and URLs as typed, where the URL and token come from, the status line and the live
// board, how each failure is told (and its exit status), and the commands against a
// stand-in API on loopback: the multipart body they send, --wait following a fax to a
// final status, and the one retry after a lost answer carrying the same Idempotency-Key.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "fax_commands.hpp"

namespace faxbridge::cli {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(FaxCommands, RecipientsAreSplitAtCommasAndTrimmedAcrossRepeatedFlags) {
  EXPECT_EQ(split_recipients({"+4930123456"}), std::vector<std::string>{"+4930123456"});
  EXPECT_EQ(split_recipients({"+4930 1, +4940 2", "403", " ,, "}),
            (std::vector<std::string>{"+4930 1", "+4940 2", "403"}));
  EXPECT_TRUE(split_recipients({",", ""}).empty());
}

TEST(FaxCommands, ApiUrlsAreHttpOrHttpsWithAHostAndAnOptionalPrefix) {
  auto u = parse_api_url("http://127.0.0.1:8080");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme_host_port, "http://127.0.0.1:8080");
  EXPECT_EQ(u->base_path, "");
  u = parse_api_url("https://fax.example.com/faxbridge/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme_host_port, "https://fax.example.com");
  EXPECT_EQ(u->base_path, "/faxbridge");
  EXPECT_FALSE(parse_api_url("127.0.0.1:8080"));
  EXPECT_FALSE(parse_api_url("ftp://host"));
  EXPECT_FALSE(parse_api_url("http:///api"));
  EXPECT_FALSE(parse_api_url("http://user@host"));
}

TEST(FaxCommands, FlagsWinOverTheEnvironmentWhichWinsOverTheDefault) {
  auto none = resolve_api_args(std::nullopt, std::nullopt, config::map_env({}));
  EXPECT_EQ(none.url, kDefaultApiUrl);
  EXPECT_EQ(none.token, "");
  const auto env = config::map_env({{"FAXBRIDGE_API_URL", "http://10.0.0.1:9"}, {"FAXBRIDGE_API_TOKEN", "fbx_env"}});
  auto from_env = resolve_api_args(std::nullopt, std::nullopt, env);
  EXPECT_EQ(from_env.url, "http://10.0.0.1:9");
  EXPECT_EQ(from_env.token, "fbx_env");
  EXPECT_FALSE(from_env.url_from_flag);
  auto flags = resolve_api_args(std::string("http://h:1"), std::string("fbx_flag"), env);
  EXPECT_EQ(flags.url, "http://h:1");
  EXPECT_EQ(flags.token, "fbx_flag");
  EXPECT_TRUE(flags.url_from_flag);
}

TEST(FaxCommands, FilesGoWithTheMediaTypeOfTheirExtension) {
  EXPECT_EQ(media_type_for("a/Report.PDF"), "application/pdf");
  EXPECT_EQ(media_type_for("letter.docx"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  EXPECT_EQ(media_type_for("scan.tif"), "image/tiff");
  EXPECT_EQ(media_type_for("noext"), "application/octet-stream");
  EXPECT_EQ(media_type_for("dir.d/noext"), "application/octet-stream");
}

TEST(FaxCommands, TheStatusLineShowsReferenceNumberStatusPagesAttemptAndFailure) {
  json fax = {{"id", 12},         {"reference", "2026.00000012"}, {"to", "+4930123456"}, {"status", "queued"},
              {"pages_total", nullptr}, {"pages_confirmed", 0}, {"attempts_count", 0}, {"failure", nullptr}};
  EXPECT_EQ(status_line(fax), "2026.00000012  +4930123456  queued  pages 0/?");
  fax["status"] = "sending";
  fax["pages_total"] = 3;
  fax["pages_confirmed"] = 1;
  fax["attempts_count"] = 2;
  EXPECT_EQ(status_line(fax), "2026.00000012  +4930123456  sending  pages 1/3  attempt 2");
  // During a call the running attempt's confirmed pages are the live count.
  fax["attempts"] = json::array({{{"number", 1}, {"outcome", "busy"}, {"pages_sent", 0}},
                                 {{"number", 2}, {"outcome", nullptr}, {"pages_sent", 2}}});
  EXPECT_EQ(status_line(fax), "2026.00000012  +4930123456  sending  pages 2/3  attempt 2");
  fax.erase("attempts");
  fax["status"] = "failed";
  fax["failure"] = {{"category", "busy"}, {"code", "call.busy"}, {"detail", "The number was busy."}};
  EXPECT_EQ(status_line(fax), "2026.00000012  +4930123456  failed  pages 1/3  attempt 2  call.busy: The number was busy.");
  fax["reference"] = nullptr;
  EXPECT_EQ(status_line(fax).rfind("-  +4930123456", 0), 0u);
}

TEST(FaxCommands, FinalStatusesAreSentPartiallySentFailedAndCancelled) {
  for (const char* s : {"sent", "partially_sent", "failed", "cancelled"}) EXPECT_TRUE(is_final_status(s)) << s;
  for (const char* s : {"submitted", "converting", "ready", "routing", "queued", "dialing", "sending", "retry_wait"})
    EXPECT_FALSE(is_final_status(s)) << s;
}

TEST(FaxCommands, OffATerminalTheBoardPrintsALineOnlyWhenItChanges) {
  std::ostringstream out;
  StatusBoard board(out, false);
  board.show({"a queued", "b queued"});
  board.show({"a queued", "b queued"});
  board.show({"a sending", "b queued"});
  EXPECT_EQ(out.str(), "a queued\nb queued\na sending\n");
}

TEST(FaxCommands, OnATerminalTheBoardRedrawsItsLinesInPlace) {
  std::ostringstream out;
  StatusBoard board(out, true);
  board.show({"a queued", "b queued"});
  board.show({"a sent", "b queued"});
  EXPECT_EQ(out.str(), "\r\033[Ka queued\n\r\033[Kb queued\n\033[2A\r\033[Ka sent\n\r\033[Kb queued\n");
}

TEST(FaxCommands, EachFailureIsToldWithWhatToDoAndItsOwnExitStatus) {
  ApiArgs env_api;
  env_api.url = "http://127.0.0.1:8080";
  ApiFailure problem{ApiFailure::Kind::kProblem, "http://127.0.0.1:8080/api/v1/faxes", 422, "api.validation_failed",
                     "Fix the fields listed.", {{"/to/0", "Not a fax number."}}};
  EXPECT_EQ(failure_text(problem, env_api), "error: Fix the fields listed. (api.validation_failed)\n  /to/0: Not a fax number.\n");
  EXPECT_EQ(failure_exit(problem), kExitRefused);

  ApiFailure down{ApiFailure::Kind::kUnreachable, "http://127.0.0.1:8080/api/v1/faxes", 0, "", "could not connect", {}};
  const std::string told = failure_text(down, env_api);
  EXPECT_TRUE(contains(told, "http://127.0.0.1:8080/api/v1/faxes")) << told;
  EXPECT_TRUE(contains(told, "FAXBRIDGE_API_URL")) << told;
  EXPECT_EQ(failure_exit(down), kExitUnreachable);
  ApiArgs flag_api = env_api;
  flag_api.url_from_flag = true;
  EXPECT_TRUE(contains(failure_text(down, flag_api), "--api-url"));

  ApiFailure html{ApiFailure::Kind::kNotTheApi, "http://x/api/v1/faxes", 502, "", "HTTP 502 with text/html", {}};
  EXPECT_TRUE(contains(failure_text(html, env_api), "not as the Faxbridge API does"));
  EXPECT_EQ(failure_exit(html), kExitUnreachable);
  EXPECT_NE(kExitRefused, kExitUnreachable);
}

TEST(FaxCommands, WithoutATokenOrWithABadUrlNothingIsSent) {
  std::ostringstream out, err;
  SendArgs s;
  s.files = {"/dev/null"};
  s.to = {"403"};
  ApiArgs api;
  EXPECT_EQ(fax_send(api, s, out, err, false), kExitUsage);
  EXPECT_TRUE(contains(err.str(), "faxbridge tokens create")) << err.str();
  err.str("");
  api.token = "fbx_x";
  api.url = "localhost:8080";
  EXPECT_EQ(fax_send(api, s, out, err, false), kExitUsage);
  EXPECT_TRUE(contains(err.str(), "FAXBRIDGE_API_URL")) << err.str();
  err.str("");
  api.url = kDefaultApiUrl;
  s.files = {"/nonexistent/letter.pdf"};
  EXPECT_EQ(fax_send(api, s, out, err, false), kExitUsage);
  EXPECT_TRUE(contains(err.str(), "/nonexistent/letter.pdf")) << err.str();
}

TEST(FaxCommands, AClosedPortIsReportedWithTheUrlTriedAndTheVariableToSet) {
  // Bound and closed again: a port nobody listens on.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  const int port = ntohs(a.sin_port);
  ApiArgs api;
  api.url = "http://127.0.0.1:" + std::to_string(port);
  api.token = "fbx_x";
  std::ostringstream out, err;
  EXPECT_EQ(faxes_list(api, ListArgs{}, out, err), kExitUnreachable);
  EXPECT_TRUE(contains(err.str(), api.url + "/api/v1/faxes")) << err.str();
  EXPECT_TRUE(contains(err.str(), "FAXBRIDGE_API_URL")) << err.str();
}

// A stand-in for the API on loopback: POST /api/v1/faxes answers one fax per `to`,
// GET /api/v1/faxes/{id} walks each fax through `statuses`.
class FakeApi {
 public:
  explicit FakeApi(std::vector<std::string> statuses) : statuses_(std::move(statuses)) {
    server_.Post("/api/v1/faxes", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      posted_ = req;
      if (req.get_header_value("Authorization") != "Bearer fbx_good") {
        res.status = 401;
        res.set_content(R"({"type":"urn:faxbridge:error:api.unauthenticated","title":"Unauthorized","status":401,)"
                        R"("detail":"Sign in or send an API token.","code":"api.unauthenticated","request_id":"r1"})",
                        "application/problem+json");
        return;
      }
      json faxes = json::array();
      int id = 40;
      for (const auto& [name, part] : req.files) {
        if (name != "to") continue;
        faxes.push_back(fax(++id, part.content, "submitted"));
      }
      res.status = 201;
      res.set_content(json{{"faxes", faxes}}.dump(), "application/json");
    });
    server_.Get(R"(/api/v1/faxes/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      const int id = std::stoi(req.matches[1]);
      const std::size_t step = std::min(polls_[id]++, statuses_.size() - 1);
      res.set_content(fax(id, "403", statuses_[step]).dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeApi() {
    server_.stop();
    thread_.join();
  }
  ApiArgs api(const std::string& token = "fbx_good") const {
    ApiArgs a;
    a.url = "http://127.0.0.1:" + std::to_string(port_);
    a.token = token;
    return a;
  }
  httplib::Request posted() {
    std::lock_guard lock(mu_);
    return posted_;
  }

 private:
  static json fax(int id, const std::string& to, const std::string& status) {
    const bool sent = status == "sent";
    return {{"id", id},
            {"reference", "2026.000000" + std::to_string(id)},
            {"to", to},
            {"status", status},
            {"pages_total", 2},
            {"pages_confirmed", sent ? 2 : 0},
            {"attempts_count", status == "submitted" ? 0 : 1},
            {"failure", status == "failed" ? json{{"code", "call.busy"}, {"detail", "Busy."}} : json(nullptr)}};
  }
  std::vector<std::string> statuses_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  httplib::Request posted_;
  std::map<int, std::size_t> polls_;
};

std::string write_temp(const std::string& name, const std::string& content) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(FaxCommands, SendUploadsFilesAndFieldsAsMultipartWithAnIdempotencyKey) {
  FakeApi fake({"queued"});
  const std::string pdf = write_temp("letter.pdf", "%PDF-1.4 not really");
  SendArgs s;
  s.files = {pdf};
  s.to = {"+4930123456,403"};
  s.cover = "en_default";
  s.subject = "Invoice";
  s.note = "Two pages";
  std::ostringstream out, err;
  ASSERT_EQ(fax_send(fake.api(), s, out, err, false), kExitOk) << err.str();
  EXPECT_EQ(out.str(),
            "fax 41 to +4930123456: reference 2026.00000041, submitted\nfax 42 to 403: reference 2026.00000042, submitted\n");
  const auto req = fake.posted();
  EXPECT_EQ(req.get_header_value("Idempotency-Key").size(), 32u);
  EXPECT_EQ(req.files.count("to"), 2u);
  EXPECT_EQ(req.get_file_value("cover_page").content, "en_default");
  EXPECT_EQ(req.get_file_value("subject").content, "Invoice");
  EXPECT_EQ(req.get_file_value("note").content, "Two pages");
  const auto file = req.get_file_value("file");
  EXPECT_EQ(file.filename, "letter.pdf");
  EXPECT_EQ(file.content_type, "application/pdf");
  EXPECT_EQ(file.content, "%PDF-1.4 not really");
  // Two runs, two keys: a key belongs to one invocation.
  std::ostringstream out2;
  ASSERT_EQ(fax_send(fake.api(), s, out2, err, false), kExitOk);
  EXPECT_NE(fake.posted().get_header_value("Idempotency-Key"), req.get_header_value("Idempotency-Key"));
}

TEST(FaxCommands, AProblemFromTheApiIsPrintedWithItsCodeAndExitsThree) {
  FakeApi fake({"queued"});
  SendArgs s;
  s.files = {write_temp("a.pdf", "%PDF")};
  s.to = {"403"};
  std::ostringstream out, err;
  EXPECT_EQ(fax_send(fake.api("fbx_bad"), s, out, err, false), kExitRefused);
  EXPECT_EQ(err.str(), "error: Sign in or send an API token. (api.unauthenticated)\n");
  EXPECT_EQ(out.str(), "");
}

TEST(FaxCommands, WaitFollowsEachFaxToSentAndExitsZero) {
  FakeApi fake({"queued", "sending", "sending", "sent"});
  SendArgs s;
  s.files = {write_temp("b.pdf", "%PDF")};
  s.to = {"403", "404"};
  s.wait = true;
  s.poll_interval = 1ms;
  std::ostringstream out, err;
  ASSERT_EQ(fax_send(fake.api(), s, out, err, false), kExitOk) << err.str();
  const std::string o = out.str();
  EXPECT_TRUE(contains(o, "2026.00000041  403  queued  pages 0/2  attempt 1\n")) << o;
  EXPECT_TRUE(contains(o, "2026.00000041  403  sending  pages 0/2  attempt 1\n")) << o;
  EXPECT_TRUE(contains(o, "2026.00000041  403  sent  pages 2/2  attempt 1\n")) << o;
  EXPECT_TRUE(contains(o, "2026.00000042  404  sent  pages 2/2  attempt 1\n") ||
              contains(o, "2026.00000042  403  sent  pages 2/2  attempt 1\n"))
      << o;
  EXPECT_EQ(o.find("\033["), std::string::npos) << "no escapes off a terminal";
}

TEST(FaxCommands, WaitExitsOneWhenAFaxFails) {
  FakeApi fake({"dialing", "failed"});
  SendArgs s;
  s.files = {write_temp("c.pdf", "%PDF")};
  s.to = {"403"};
  s.wait = true;
  s.poll_interval = 1ms;
  std::ostringstream out, err;
  EXPECT_EQ(fax_send(fake.api(), s, out, err, true), kExitNotSent);
  EXPECT_TRUE(contains(out.str(), "failed  pages 0/2  attempt 1  call.busy: Busy.")) << out.str();
  EXPECT_TRUE(contains(out.str(), "\033[1A")) << "redrawn in place on a terminal";
  EXPECT_TRUE(contains(err.str(), "1 of 1 fax(es) not sent")) << err.str();
}

// A server that reads the first request and closes without answering (the answer was
// lost), then answers the second: what the client retried, and with which key.
class LosesFirstAnswer {
 public:
  LosesFirstAnswer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (int n = 0; n < 2; ++n) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        const std::string request = read_request(c);
        keys_.push_back(header(request, "Idempotency-Key"));
        bodies_.push_back(request.substr(request.find("\r\n\r\n") + 4));
        if (n == 1) {
          const std::string body = R"({"faxes":[{"id":7,"reference":"2026.00000007","to":"403","status":"submitted"}]})";
          const std::string reply = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
          (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        }
        ::close(c);
      }
    });
  }
  ~LosesFirstAnswer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> keys_, bodies_;

 private:
  static std::string read_request(int c) {
    std::string data;
    char buf[4096];
    std::size_t need = std::string::npos;
    while (need == std::string::npos || data.size() < need) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      data.append(buf, static_cast<std::size_t>(n));
      const auto end = data.find("\r\n\r\n");
      if (need == std::string::npos && end != std::string::npos) {
        need = end + 4 + std::stoul(header(data, "Content-Length").empty() ? "0" : header(data, "Content-Length"));
      }
    }
    return data;
  }
  static std::string header(const std::string& request, const std::string& name) {
    const auto at = request.find("\r\n" + name + ": ");
    if (at == std::string::npos) return "";
    const auto begin = at + name.size() + 4;
    return request.substr(begin, request.find("\r\n", begin) - begin);
  }
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(FaxCommands, ALostAnswerIsRetriedOnceWithTheSameKeyAndTheSameBody) {
  std::vector<std::string> keys, bodies;
  std::ostringstream out, err;
  {
    LosesFirstAnswer server;
    ApiArgs api;
    api.url = "http://127.0.0.1:" + std::to_string(server.port());
    api.token = "fbx_x";
    SendArgs s;
    s.files = {write_temp("d.pdf", "%PDF")};
    s.to = {"403"};
    EXPECT_EQ(fax_send(api, s, out, err, false), kExitOk) << err.str();
    // The server thread is done once the second answer went out.
    for (int i = 0; i < 500 && server.keys_.size() < 2; ++i) std::this_thread::sleep_for(10ms);
    keys = server.keys_;
    bodies = server.bodies_;
  }
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].size(), 32u);
  EXPECT_EQ(keys[0], keys[1]);
  EXPECT_EQ(bodies[0], bodies[1]) << "a server fingerprinting the body must see the same request";
  EXPECT_EQ(out.str(), "fax 7 to 403: reference 2026.00000007, submitted\n");
}

}  // namespace
}  // namespace faxbridge::cli
