// faxbridge-bus as a real process, a publisher in another real process
// (bus_test_publisher), and the subscriber here. Ports are picked free on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "faxbridge/bus.pb.h"
#include "faxbridge/bus/bus.hpp"
#include "faxbridge/core/metrics.hpp"

extern char** environ;

using namespace faxbridge;
using namespace std::chrono_literals;
namespace v1 = faxbridge::bus::v1;

namespace {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A child process, killed (SIGKILL) and reaped on destruction if still running.
class Child {
 public:
  Child(const std::string& path, const std::vector<std::string>& args,
        const std::map<std::string, std::string>& env = {}) {
    // Everything exec needs is built before fork: only async-signal-safe calls after it.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string s(*e);
      if (env.count(s.substr(0, s.find('='))) == 0) env_strings.push_back(std::move(s));
    }
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_strings{path};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execve(path.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool running() {
    if (exited_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
    }
    return !exited_;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  // Waits for the exit; the wait status, or nullopt after `limit`.
  std::optional<int> wait(std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (running()) {
      if (std::chrono::steady_clock::now() > end) return std::nullopt;
      std::this_thread::sleep_for(10ms);
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

struct Ports {
  int publish = free_port();
  int subscribe = free_port();
  int http = free_port();
  std::string publish_endpoint() const { return "tcp://127.0.0.1:" + std::to_string(publish); }
  std::string subscribe_endpoint() const {
    return "tcp://127.0.0.1:" + std::to_string(subscribe);
  }
};

std::unique_ptr<Child> start_bus(const Ports& p, std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> env{
      {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", p.publish_endpoint()},
      {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", p.subscribe_endpoint()},
      {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
      {"FAXBRIDGE_HTTP_PORT", std::to_string(p.http)},
      {"FAXBRIDGE_LOG_LEVEL", "info"}};
  for (auto& [k, v] : extra) env[k] = v;
  return std::make_unique<Child>(FAXBRIDGE_BUS_BIN, std::vector<std::string>{}, env);
}

std::unique_ptr<Child> start_publisher(const Ports& p, std::vector<std::string> topics,
                                       int interval_ms = 10) {
  std::vector<std::string> args{p.publish_endpoint(), std::to_string(interval_ms)};
  args.insert(args.end(), topics.begin(), topics.end());
  return std::make_unique<Child>(FAXBRIDGE_TEST_PUBLISHER_BIN, args);
}

// The next message within `limit`, or nullopt.
std::optional<bus::Message> next(bus::Subscriber& sub, std::chrono::milliseconds limit = 20s) {
  auto r = sub.receive(limit);
  EXPECT_TRUE(r) << r.error().to_string();
  if (!r || !r->has_value()) return std::nullopt;
  return std::move(**r);
}

std::int64_t job_id(const bus::Message& m) {
  auto d = bus::decode<v1::JobSubmitted>(m);
  EXPECT_TRUE(d) << d.error().to_string();
  return d ? d->job_id() : -1;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

}  // namespace

TEST(BusService, DeliversInOrderWithTopicsAndFiltersByPrefix) {
  Ports p;
  auto bus_process = start_bus(p);
  bus::Subscriber sub(p.subscribe_endpoint(), {"job.", "call."});
  auto pub = start_publisher(p, {"job.submitted", "call.result", "fax.received"});

  std::map<std::string, std::int64_t> last;  // topic -> last job_id seen
  std::map<std::string, int> in_order;       // topic -> consecutive messages checked
  while (in_order["job.submitted"] < 50 || in_order["call.result"] < 50) {
    auto m = next(sub);
    ASSERT_TRUE(m) << "no message from the publisher process through faxbridge-bus";
    ASSERT_TRUE(m->topic == "job.submitted" || m->topic == "call.result") << m->topic;
    auto d = bus::decode<v1::JobSubmitted>(*m);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->meta().source_service(), "test-publisher");
    EXPECT_EQ(d->meta().source_instance(), "pub-1");
    EXPECT_FALSE(d->meta().message_id().empty());
    if (last.count(m->topic) != 0) {
      ASSERT_EQ(d->job_id(), last[m->topic] + 1) << "out of order on " << m->topic;
      ++in_order[m->topic];
    }
    last[m->topic] = d->job_id();
  }
}

TEST(BusService, SubscriberAndPublisherStartedBeforeTheBusConnectOnceItIsUp) {
  Ports p;
  bus::Subscriber sub(p.subscribe_endpoint(), {"job.submitted"});
  auto pub = start_publisher(p, {"job.submitted"});
  auto r = sub.receive(300ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  EXPECT_FALSE(sub.connected());

  auto bus_process = start_bus(p);
  auto m = next(sub);
  ASSERT_TRUE(m) << "nothing arrived after the bus came up";
  EXPECT_EQ(m->topic, "job.submitted");
  EXPECT_GT(job_id(*m), 0);
  EXPECT_TRUE(sub.connected());
}

TEST(BusService, PublisherAndSubscriberResumeAfterTheBusIsKilledAndRestarted) {
  Ports p;
  auto bus_process = start_bus(p);
  bus::Subscriber sub(p.subscribe_endpoint(), {"job.submitted"});
  auto pub = start_publisher(p, {"job.submitted"});
  auto before = next(sub);
  ASSERT_TRUE(before);
  const auto last_before = job_id(*before);

  bus_process->signal(SIGKILL);
  ASSERT_TRUE(bus_process->wait(10s));
  ASSERT_TRUE(eventually([&] { return !sub.connected(); })) << "subscriber never noticed";
  // Drain what was in flight before the kill.
  while (auto r = sub.receive(200ms)) {
    if (!r->has_value()) break;
  }

  bus_process = start_bus(p);  // same ports
  auto after = next(sub);
  ASSERT_TRUE(after) << "nothing arrived after the bus restarted";
  EXPECT_GT(job_id(*after), last_before);
  EXPECT_TRUE(sub.connected());
  EXPECT_TRUE(pub->running()) << "the publisher process must not have been restarted";
}

TEST(BusService, MalformedFramesAreDroppedAndTheNextGoodMessageArrives) {
  auto malformed = [] {
    return metrics::Registry::global()
        .counter("faxbridge_bus_messages_malformed_total", "", {{"topic", "job.submitted"}})
        .value();
  };
  const auto malformed_before = malformed();
  Ports p;
  auto bus_process = start_bus(p);
  bus::Subscriber sub(p.subscribe_endpoint(), {"job."});
  auto pub = start_publisher(p, {"!single:job.submitted", "!garbage:job.submitted",
                                 "job.submitted"});
  int undecodable = 0;
  int good_after_undecodable = 0;
  // The counter also counts single frames, which receive() drops before we see them:
  // it must end up above the undecodable payloads this loop saw.
  while (good_after_undecodable < 5 || malformed() - malformed_before <= undecodable) {
    auto m = next(sub);
    ASSERT_TRUE(m);
    ASSERT_EQ(m->topic, "job.submitted");  // single frames never come out of receive()
    auto d = bus::decode<v1::JobSubmitted>(*m);
    if (!d) {
      EXPECT_EQ(d.error().code, Code::k_bus_malformed_message);
      ++undecodable;
    } else if (undecodable > 0) {
      ++good_after_undecodable;
    }
  }
  EXPECT_GT(undecodable, 0);
  EXPECT_GT(malformed() - malformed_before, undecodable);
}

TEST(BusService, SidePortAnswersHealthzAndMetricsAndSigtermStopsCleanly) {
  Ports p;
  auto bus_process = start_bus(p);
  httplib::Client client("127.0.0.1", p.http);
  std::string body_text;
  ASSERT_TRUE(eventually([&] {
    auto res = client.Get("/healthz");
    if (res) body_text = res->body;
    return res && res->status == 200;
  })) << "faxbridge-bus never answered /healthz with 200";
  auto body = nlohmann::json::parse(body_text);
  EXPECT_EQ(body["status"], "ready");
  EXPECT_EQ(body["checks"]["forwarder"]["ok"], true);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);

  bus_process->signal(SIGTERM);
  auto status = bus_process->wait(10s);
  ASSERT_TRUE(status) << "faxbridge-bus did not stop on SIGTERM";
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST(BusService, InvalidConfigExitsWithStatus2) {
  Ports p;
  auto bus_process = start_bus(p, {{"FAXBRIDGE_HTTP_PORT", "not-a-port"}});
  auto status = bus_process->wait(10s);
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
}

TEST(BusService, PortInUseExitsWithStatus1) {
  Ports p;
  auto first = start_bus(p);
  httplib::Client client("127.0.0.1", p.http);
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(client.Get("/healthz")); }));
  auto second = start_bus(p);
  auto status = second->wait(10s);
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 1);
}
