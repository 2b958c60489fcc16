// Publisher -> Forwarder -> Subscriber over real loopback TCP, all in this process.
#include <chrono>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "faxbridge/bus.pb.h"
#include "faxbridge/bus/bus.hpp"
#include "faxbridge/bus/topics.hpp"
#include "faxbridge/core/metrics.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"

using namespace faxbridge;
using namespace std::chrono_literals;
namespace v1 = faxbridge::bus::v1;

namespace {

using db::testing::free_port;  // never the same port twice in this process

bus::Endpoints loopback_endpoints() {
  const int publish = free_port();
  const int subscribe = free_port();
  return {"tcp://127.0.0.1:" + std::to_string(publish),
          "tcp://127.0.0.1:" + std::to_string(subscribe)};
}

class RunningForwarder {
 public:
  explicit RunningForwarder(bus::Endpoints e) : forwarder_(std::move(e)) {
    auto r = forwarder_.bind();
    EXPECT_TRUE(r) << r.error().to_string();
    thread_ = std::thread([this] { forwarder_.run(); });
  }
  ~RunningForwarder() {
    forwarder_.stop();
    thread_.join();
  }
  bus::Forwarder& get() { return forwarder_; }

 private:
  bus::Forwarder forwarder_;
  std::thread thread_;
};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// Publishes `first` until the subscriber sees it (PUB/SUB's slow joiner: messages
// sent before the subscription reached the publisher are dropped).
std::optional<bus::Message> publish_until_seen(bus::Publisher& pub, bus::Subscriber& sub,
                                               std::string_view topic,
                                               google::protobuf::Message& msg) {
  for (int i = 0; i < 200; ++i) {
    (void)pub.publish(topic, msg);
    auto r = sub.receive(50ms);
    if (r && r->has_value() && (*r)->topic == topic) return std::move(**r);
  }
  return std::nullopt;
}

}  // namespace

TEST(Forwarder, CarriesMessagesInOrderAndFillsMeta) {
  auto ep = loopback_endpoints();
  RunningForwarder fwd(ep);
  bus::Publisher pub(ep.publish, "router", "router-1", nullptr);
  bus::Subscriber sub(ep.subscribe, {std::string(bus::topics::kJobQueued)}, nullptr);

  v1::JobQueued warmup;
  warmup.set_job_id(0);
  auto first = publish_until_seen(pub, sub, bus::topics::kJobQueued, warmup);
  ASSERT_TRUE(first) << "no message crossed the forwarder";
  // The socket monitors report on their own threads and may trail the first message.
  EXPECT_TRUE(eventually([&] { return pub.connected() && sub.connected(); }));
  EXPECT_TRUE(fwd.get().running());

  for (int i = 1; i <= 50; ++i) {
    v1::JobQueued q;
    q.set_job_id(i);
    q.set_route_id(7);
    auto r = pub.publish(bus::topics::kJobQueued, q);
    ASSERT_TRUE(r) << r.error().to_string();
  }
  int expected = 1;
  while (expected <= 50) {
    auto r = sub.receive(5s);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->has_value()) << "timed out waiting for job " << expected;
    EXPECT_EQ((*r)->topic, "job.queued");
    auto q = bus::decode<v1::JobQueued>(**r, nullptr);
    ASSERT_TRUE(q);
    if (q->job_id() == 0) continue;  // a late copy of the warm-up
    EXPECT_EQ(q->job_id(), expected);
    EXPECT_EQ(q->route_id(), 7);
    EXPECT_EQ(q->meta().source_service(), "router");
    EXPECT_EQ(q->meta().source_instance(), "router-1");
    EXPECT_EQ(q->meta().message_id().size(), 32u);
    EXPECT_GT(q->meta().sent_at_ms(), 1'700'000'000'000);
    ++expected;
  }
}

TEST(Forwarder, PublisherIsSafeToShareBetweenThreads) {
  auto ep = loopback_endpoints();
  RunningForwarder fwd(ep);
  bus::Publisher pub(ep.publish, "test", "t-1", nullptr);
  bus::Subscriber sub(ep.subscribe, {"work."}, nullptr);
  v1::WorkAvailable warmup;
  ASSERT_TRUE(publish_until_seen(pub, sub, bus::topics::work_topic("warmup"), warmup));

  constexpr int kThreads = 4;
  constexpr int kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 1; i <= kEach; ++i) {
        v1::WorkAvailable w;
        w.set_table("t" + std::to_string(t));
        w.set_id(i);
        EXPECT_TRUE(pub.publish(bus::topics::work_topic(w.table()), w));
      }
    });
  }
  for (auto& t : threads) t.join();
  // Per thread, ids arrive complete and in order; frames of different threads never mix.
  std::map<std::string, std::int64_t> last;
  int received = 0;
  while (received < kThreads * kEach) {
    auto r = sub.receive(5s);
    ASSERT_TRUE(r && r->has_value()) << "after " << received << " messages";
    if ((*r)->topic == "work.warmup") continue;
    auto w = bus::decode<v1::WorkAvailable>(**r, nullptr);
    ASSERT_TRUE(w);
    ASSERT_EQ((*r)->topic, "work." + w->table());
    ASSERT_EQ(w->id(), last[w->table()] + 1);
    last[w->table()] = w->id();
    ++received;
  }
}

TEST(Forwarder, SubscriberGetsOnlyItsPrefixes) {
  auto ep = loopback_endpoints();
  RunningForwarder fwd(ep);
  bus::Publisher pub(ep.publish, "test", "t-1", nullptr);
  bus::Subscriber sub(ep.subscribe, {"job.cancel.gw-1"}, nullptr);
  sub.subscribe("settings.");

  v1::CancelJob cancel;
  cancel.set_job_id(5);
  cancel.set_gateway_instance("gw-1");
  ASSERT_TRUE(publish_until_seen(pub, sub, bus::topics::cancel_topic("gw-1"), cancel));
  // The later subscription needs the same round trip to reach the publisher.
  v1::SettingsChanged s;
  s.set_version(3);
  ASSERT_TRUE(publish_until_seen(pub, sub, bus::topics::kSettingsChanged, s));

  v1::CancelJob other;
  other.set_gateway_instance("gw-2");
  v1::JobSubmitted submitted;
  for (int i = 0; i < 20; ++i) {
    (void)pub.publish(bus::topics::cancel_topic("gw-2"), other);
    (void)pub.publish(bus::topics::kJobSubmitted, submitted);
  }
  s.set_version(4);
  ASSERT_TRUE(pub.publish(bus::topics::kSettingsChanged, s));
  // Everything up to the version-4 settings message must be settings or gw-1 cancels.
  for (;;) {
    auto r = sub.receive(5s);
    ASSERT_TRUE(r && r->has_value());
    const auto& topic = (*r)->topic;
    ASSERT_TRUE(topic == "settings.changed" || topic == "job.cancel.gw-1") << topic;
    if (topic == "settings.changed" && bus::decode<v1::SettingsChanged>(**r, nullptr)->version() == 4) break;
  }
}

TEST(Forwarder, ReceiveTimesOutEmptyWhenNothingArrives) {
  auto ep = loopback_endpoints();
  RunningForwarder fwd(ep);
  bus::Subscriber sub(ep.subscribe, {"job."}, nullptr);
  const auto start = std::chrono::steady_clock::now();
  auto r = sub.receive(150ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 140ms);
}

TEST(Forwarder, PublisherWithoutBusReportsUnavailable) {
  bus::Publisher pub("tcp://127.0.0.1:" + std::to_string(free_port()), "test", "t-1", nullptr);
  v1::JobSubmitted m;
  auto r = pub.publish(bus::topics::kJobSubmitted, m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_bus_unavailable);
  EXPECT_FALSE(pub.connected());
}

TEST(Forwarder, MalformedEndpointIsAnErrorNotAnException) {
  bus::Publisher pub("not-an-endpoint", "test", "t-1", nullptr);
  auto r = pub.publish_raw("job.submitted", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_bus_unavailable);
  bus::Subscriber sub("not-an-endpoint", {"job."}, nullptr);
  auto m = sub.receive(10ms);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Code::k_bus_unavailable);
}

TEST(Forwarder, BindFailsWithIoFailedWhenTheEndpointIsTaken) {
  auto ep = loopback_endpoints();
  RunningForwarder first(ep);
  bus::Forwarder second(ep);
  auto r = second.bind();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_io_failed);
  EXPECT_FALSE(second.running());
  second.run();  // returns at once: never bound
}

TEST(Forwarder, StopBeforeRunMakesRunReturn) {
  bus::Forwarder fwd(loopback_endpoints());
  ASSERT_TRUE(fwd.bind());
  fwd.stop();
  fwd.stop();  // idempotent
  std::thread t([&] { fwd.run(); });
  t.join();
  EXPECT_FALSE(fwd.running());
}

TEST(Forwarder, ConnectedFollowsTheBus) {
  auto ep = loopback_endpoints();
  bus::Subscriber sub(ep.subscribe, {"job."}, nullptr);
  bus::Publisher pub(ep.publish, "test", "t-1", nullptr);
  EXPECT_FALSE(sub.connected());
  {
    RunningForwarder fwd(ep);
    EXPECT_TRUE(eventually([&] { return sub.connected() && pub.connected(); }));
  }
  EXPECT_TRUE(eventually([&] { return !sub.connected() && !pub.connected(); }));
}

TEST(Forwarder, PublisherAndSubscriberCountInTheRegistriesTheyWereGiven) {
  auto ep = loopback_endpoints();
  RunningForwarder fwd(ep);
  metrics::Registry sending, receiving;
  bus::Publisher pub(ep.publish, "test", "t-1", &sending);
  bus::Subscriber sub(ep.subscribe, {"job."}, &receiving);
  v1::JobSubmitted m;
  ASSERT_TRUE(publish_until_seen(pub, sub, bus::topics::kJobSubmitted, m));

  const metrics::Labels topic{{"topic", "job.submitted"}};
  EXPECT_GE(sending.counter("faxbridge_bus_messages_published_total", "", topic).value(), 1);
  EXPECT_GE(receiving.counter("faxbridge_bus_messages_received_total", "", topic).value(), 1);
  // Neither registry has the other's series.
  EXPECT_EQ(sending.render().find("faxbridge_bus_messages_received_total"), std::string::npos);
  EXPECT_EQ(receiving.render().find("faxbridge_bus_messages_published_total"), std::string::npos);
}
