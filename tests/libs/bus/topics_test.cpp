#include "faxbridge/bus/topics.hpp"

#include <gtest/gtest.h>

namespace t = faxbridge::bus::topics;

TEST(Topics, CancelTopicAddsTheGatewayInstance) {
  EXPECT_EQ(t::cancel_topic("gw-1"), "job.cancel.gw-1");
  EXPECT_EQ(t::cancel_topic("gw-1").rfind(t::kJobCancelPrefix, 0), 0u);
}

TEST(Topics, WorkTopicAddsTheTableName) {
  EXPECT_EQ(t::work_topic("fax_job"), "work.fax_job");
  EXPECT_EQ(t::work_topic("notification"), "work.notification");
}

TEST(Topics, EveryKindHasItsDocumentedName) {
  EXPECT_EQ(t::kJobSubmitted, "job.submitted");
  EXPECT_EQ(t::kJobConverted, "job.converted");
  EXPECT_EQ(t::kJobQueued, "job.queued");
  EXPECT_EQ(t::kJobState, "job.state");
  EXPECT_EQ(t::kCallProgress, "call.progress");
  EXPECT_EQ(t::kCallResult, "call.result");
  EXPECT_EQ(t::kFaxReceived, "fax.received");
  EXPECT_EQ(t::kInboxDelivered, "inbox.delivered");
  EXPECT_EQ(t::kNotificationQueued, "notification.queued");
  EXPECT_EQ(t::kSettingsChanged, "settings.changed");
  EXPECT_EQ(t::kGatewayHealth, "gateway.health");
}

TEST(Topics, NoFixedTopicIsAPrefixOfAnother) {
  // Subscriptions match by prefix: one kind's topic must never select another kind.
  const std::string_view all[] = {t::kJobSubmitted,  t::kJobConverted,   t::kJobQueued,
                                  t::kJobState,      t::kCallProgress,   t::kCallResult,
                                  t::kJobCancelPrefix, t::kFaxReceived,  t::kInboxDelivered,
                                  t::kNotificationQueued, t::kSettingsChanged,
                                  t::kGatewayHealth, t::kWorkPrefix};
  for (auto a : all) {
    for (auto b : all) {
      if (a != b) {
        EXPECT_NE(b.rfind(a, 0), 0u) << a << " is a prefix of " << b;
      }
    }
  }
}
