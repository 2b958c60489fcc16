// The bus counts in the registry its caller passes, never in a process-wide one: two
// publishers, two decodes, two consumers, each pair with its own registry, count apart
// (and the same series name and labels in both registries stay two series).
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "faxbridge/bus.pb.h"
#include "faxbridge/bus/bus.hpp"
#include "faxbridge/bus/consumer.hpp"
#include "faxbridge/core/metrics.hpp"

using namespace faxbridge;
using namespace std::chrono_literals;
namespace v1 = faxbridge::bus::v1;

namespace {

// Nothing listens on port 1: publish() reports bus.unavailable, but the message was
// handed to ZeroMQ and is counted.
constexpr const char* kNoBus = "tcp://127.0.0.1:1";

std::int64_t value(metrics::Registry& r, const std::string& name, const metrics::Labels& labels) {
  return r.counter(name, "", labels).value();
}

std::int64_t published(metrics::Registry& r, const std::string& topic) {
  return value(r, "faxbridge_bus_messages_published_total", {{"topic", topic}});
}

// Rows 1..n, handed out by the sweep; no database.
class FakeSource final : public WorkSource {
 public:
  explicit FakeSource(int rows) {
    for (int i = 1; i <= rows; ++i) ready_.push_back(i);
  }
  Result<std::optional<Claim>> claim(std::int64_t) override { return std::optional<Claim>(); }
  Result<std::vector<Claim>> claim_next(int limit) override {
    std::lock_guard lock(mutex_);
    std::vector<Claim> out;
    while (!ready_.empty() && static_cast<int>(out.size()) < limit) {
      out.push_back({ready_.front(), 1});
      ready_.pop_front();
    }
    return out;
  }
  Result<bool> renew(std::int64_t) override { return true; }
  Result<bool> release(std::int64_t, std::chrono::milliseconds, const std::optional<Error>&) override { return true; }
  const std::string& owner() const override { return owner_; }

 private:
  std::mutex mutex_;
  std::deque<std::int64_t> ready_;
  std::string owner_ = "test";
};

bus::ConsumerSettings settings_with(metrics::Registry* registry) {
  bus::ConsumerSettings cs;
  cs.name = "conversion";  // the same stage in both: only the registry tells them apart
  cs.workers = 2;
  cs.sweep_interval = 20ms;
  cs.metrics = registry;
  return cs;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

}  // namespace

TEST(BusMetrics, TwoPublishersCountInTheirOwnRegistries) {
  metrics::Registry a_registry, b_registry;
  bus::Publisher a(kNoBus, "test", "a", &a_registry);
  bus::Publisher b(kNoBus, "test", "b", &b_registry);
  bus::Publisher none(kNoBus, "test", "none", nullptr);
  (void)a.publish_raw("job.submitted", "1");
  (void)a.publish_raw("job.submitted", "2");
  (void)b.publish_raw("job.submitted", "3");
  (void)none.publish_raw("job.submitted", "4");  // counted nowhere

  EXPECT_EQ(published(a_registry, "job.submitted"), 2);
  EXPECT_EQ(published(b_registry, "job.submitted"), 1);
}

TEST(BusMetrics, DecodeCountsAMalformedPayloadOnlyInTheRegistryItIsGiven) {
  metrics::Registry a_registry, b_registry;
  const bus::Message garbage{"job.submitted", std::string("\x00\xff\xff garbage", 11)};
  EXPECT_FALSE(bus::decode<v1::JobSubmitted>(garbage, &a_registry));
  EXPECT_FALSE(bus::decode<v1::JobSubmitted>(garbage, nullptr));

  const metrics::Labels topic{{"topic", "job.submitted"}};
  EXPECT_EQ(value(a_registry, "faxbridge_bus_messages_malformed_total", topic), 1);
  EXPECT_EQ(b_registry.render(), "");
}

TEST(BusMetrics, TwoConsumersCountInTheirOwnRegistries) {
  metrics::Registry a_registry, b_registry;
  FakeSource a_rows(3), b_rows(1);
  bus::Consumer a(a_rows, settings_with(&a_registry), [](const Claim&, const bus::LeaseToken&) -> Result<void> {
    return ok();
  });
  bus::Consumer b(b_rows, settings_with(&b_registry), [](const Claim&, const bus::LeaseToken&) -> Result<void> {
    return Error(Code::k_internal, "this handler always fails");
  });
  a.start();
  b.start();
  ASSERT_TRUE(eventually([&] { return a.stats().completed == 3 && b.stats().failed == 1; }));
  a.stop();
  b.stop();

  const metrics::Labels stage{{"stage", "conversion"}};
  const metrics::Labels by_sweep{{"stage", "conversion"}, {"via", "sweep"}};
  EXPECT_EQ(value(a_registry, "faxbridge_queue_claims_total", by_sweep), 3);
  EXPECT_EQ(value(a_registry, "faxbridge_queue_completed_total", stage), 3);
  EXPECT_EQ(value(a_registry, "faxbridge_queue_failed_total", stage), 0);
  EXPECT_EQ(value(b_registry, "faxbridge_queue_claims_total", by_sweep), 1);
  EXPECT_EQ(value(b_registry, "faxbridge_queue_completed_total", stage), 0);
  EXPECT_EQ(value(b_registry, "faxbridge_queue_failed_total", stage), 1);
}

TEST(BusMetrics, AConsumerWithoutARegistryStillWorks) {
  FakeSource rows(2);
  bus::Consumer c(rows, settings_with(nullptr), [](const Claim&, const bus::LeaseToken&) -> Result<void> {
    return ok();
  });
  c.start();
  EXPECT_TRUE(eventually([&] { return c.stats().completed == 2; }));
  c.stop();
}
