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
#include "faxbridge/testing/process.hpp"

using namespace faxbridge;
using faxbridge::testing::Child;
using faxbridge::testing::eventually;
using faxbridge::testing::free_port;
using faxbridge::testing::Ports;
using namespace std::chrono_literals;
namespace v1 = faxbridge::bus::v1;

namespace {

std::unique_ptr<Child> start_bus(const Ports& p, std::map<std::string, std::string> extra = {}) {
  return faxbridge::testing::start_bus(FAXBRIDGE_BUS_BIN, p, std::move(extra));
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
  auto d = bus::decode<v1::JobSubmitted>(m, nullptr);
  EXPECT_TRUE(d) << d.error().to_string();
  return d ? d->job_id() : -1;
}

}  // namespace

TEST(BusService, DeliversInOrderWithTopicsAndFiltersByPrefix) {
  Ports p;
  auto bus_process = start_bus(p);
  bus::Subscriber sub(p.subscribe_endpoint(), {"job.", "call."}, nullptr);
  auto pub = start_publisher(p, {"job.submitted", "call.result", "fax.received"});

  std::map<std::string, std::int64_t> last;  // topic -> last job_id seen
  std::map<std::string, int> in_order;       // topic -> consecutive messages checked
  while (in_order["job.submitted"] < 50 || in_order["call.result"] < 50) {
    auto m = next(sub);
    ASSERT_TRUE(m) << "no message from the publisher process through faxbridge-bus";
    ASSERT_TRUE(m->topic == "job.submitted" || m->topic == "call.result") << m->topic;
    auto d = bus::decode<v1::JobSubmitted>(*m, nullptr);
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
  bus::Subscriber sub(p.subscribe_endpoint(), {"job.submitted"}, nullptr);
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
  EXPECT_TRUE(eventually([&] { return sub.connected(); }));  // the monitor may trail
}

TEST(BusService, PublisherAndSubscriberResumeAfterTheBusIsKilledAndRestarted) {
  Ports p;
  auto bus_process = start_bus(p);
  bus::Subscriber sub(p.subscribe_endpoint(), {"job.submitted"}, nullptr);
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
  EXPECT_TRUE(eventually([&] { return sub.connected(); }));
  EXPECT_TRUE(pub->running()) << "the publisher process must not have been restarted";
}

TEST(BusService, MalformedFramesAreDroppedAndTheNextGoodMessageArrives) {
  metrics::Registry registry;  // what this process's subscriber and decode count
  auto malformed = [&] {
    return registry.counter("faxbridge_bus_messages_malformed_total", "", {{"topic", "job.submitted"}}).value();
  };
  const auto malformed_before = malformed();
  Ports p;
  auto bus_process = start_bus(p);
  bus::Subscriber sub(p.subscribe_endpoint(), {"job."}, &registry);
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
    auto d = bus::decode<v1::JobSubmitted>(*m, &registry);
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
