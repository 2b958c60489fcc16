#include <gtest/gtest.h>

#include "faxbridge/bus.pb.h"
#include "faxbridge/bus/bus.hpp"
#include "faxbridge/bus/topics.hpp"
#include "faxbridge/core/metrics.hpp"

using namespace faxbridge;
namespace v1 = faxbridge::bus::v1;

namespace {
std::string context_value(const Error& e, const std::string& key) {
  for (const auto& [k, v] : e.context) {
    if (k == key) return v;
  }
  return {};
}

std::int64_t malformed_count(metrics::Registry& registry, const std::string& topic) {
  return registry.counter("faxbridge_bus_messages_malformed_total", "", {{"topic", topic}}).value();
}
}  // namespace

TEST(Decode, ParsesAWellFormedPayload) {
  v1::CallResult in;
  in.set_job_id(812);
  in.set_attempt_id(3);
  in.set_outcome("busy");
  in.set_error_code("fax.busy");
  in.set_sip_status(486);
  in.set_retryable(true);
  bus::Message m{std::string(bus::topics::kCallResult), in.SerializeAsString()};

  metrics::Registry registry;
  auto out = bus::decode<v1::CallResult>(m, &registry);
  ASSERT_TRUE(out) << out.error().to_string();
  EXPECT_EQ(out->job_id(), 812);
  EXPECT_EQ(out->attempt_id(), 3);
  EXPECT_EQ(out->outcome(), "busy");
  EXPECT_EQ(out->sip_status(), 486);
  EXPECT_TRUE(out->retryable());
}

TEST(Decode, MalformedPayloadGivesBusMalformedMessageWithTheTopic) {
  metrics::Registry registry;
  const auto before = malformed_count(registry, "job.submitted");
  // Field number 0 is invalid in the protobuf wire format, so this never parses.
  bus::Message m{"job.submitted", std::string("\x00\xff\xff garbage", 11)};

  auto out = bus::decode<v1::JobSubmitted>(m, &registry);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Code::k_bus_malformed_message);
  EXPECT_EQ(out.error().name(), "bus.malformed_message");
  EXPECT_EQ(context_value(out.error(), "topic"), "job.submitted");
  EXPECT_EQ(context_value(out.error(), "type"), "faxbridge.bus.v1.JobSubmitted");
  EXPECT_EQ(malformed_count(registry, "job.submitted"), before + 1);
}

TEST(Decode, TruncatedPayloadIsMalformed) {
  v1::FaxReceived in;
  in.set_received_fax_id(7);
  in.set_reference("2026.00000042");
  std::string bytes = in.SerializeAsString();
  bytes.resize(bytes.size() - 3);  // cuts the reference string short
  auto out = bus::decode<v1::FaxReceived>(bus::Message{"fax.received", bytes}, nullptr);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Code::k_bus_malformed_message);
}

TEST(Decode, EmptyPayloadIsAMessageWithDefaults) {
  // proto3: an all-default message serialises to nothing, so empty must decode.
  auto out = bus::decode<v1::SettingsChanged>(bus::Message{"settings.changed", ""}, nullptr);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->version(), 0);
}

TEST(Decode, GarbageTopicIsRenderedSafelyInTheErrorAndMetric) {
  metrics::Registry registry;
  const auto before = malformed_count(registry, "(invalid)");
  auto out = bus::decode<v1::JobSubmitted>(bus::Message{std::string("a\nb\x01", 4), std::string(1, '\0')}, &registry);
  ASSERT_FALSE(out);
  EXPECT_EQ(context_value(out.error(), "topic"), "a?b?");
  EXPECT_EQ(malformed_count(registry, "(invalid)"), before + 1);
}
