// The retry decision: backoff doubling to its cap, the retry window, what fails at once,
// and who is alerted.
#include "faxbridge/notifier/policy.hpp"

#include <gtest/gtest.h>

namespace faxbridge::notifier {
namespace {

using namespace std::chrono_literals;

RetryPolicy policy() {
  RetryPolicy p;
  p.window = 48h;
  p.first = 60s;
  p.max = 1h;
  return p;
}

TEST(NotifierPolicy, ATemporaryFailureIsRetriedWithADoublingBackoffUpToItsCap) {
  const Error e(Code::k_smtp_unreachable, "Connection refused.");
  EXPECT_EQ(decide(e, 0, 0ms, policy(), false).delay, 60s);
  EXPECT_EQ(decide(e, 1, 0ms, policy(), false).delay, 120s);
  EXPECT_EQ(decide(e, 3, 0ms, policy(), false).delay, 480s);
  EXPECT_EQ(decide(e, 6, 0ms, policy(), false).delay, 1h);
  EXPECT_EQ(decide(e, 1000, 0ms, policy(), false).delay, 1h);
  const auto v = decide(e, 2, 10min, policy(), false);
  EXPECT_TRUE(v.retry);
  EXPECT_EQ(v.error.code, Code::k_smtp_unreachable);
  EXPECT_FALSE(v.alert_admin);
}

TEST(NotifierPolicy, PastTheWindowATemporaryFailureExpiresKeepingTheLastAnswerAndTellsTheAdministrator) {
  const Error e(Code::k_smtp_temporary, "450 4.2.0 <busy@example.test>: Recipient address rejected.");
  const auto v = decide(e, 40, 48h - 30min, policy(), false);
  EXPECT_FALSE(v.retry);
  EXPECT_EQ(v.error.code, Code::k_notification_expired);
  EXPECT_NE(v.error.message.find("48 hours"), std::string::npos) << v.error.message;
  EXPECT_NE(v.error.message.find("450 4.2.0"), std::string::npos) << v.error.message;
  EXPECT_TRUE(v.alert_admin);
  // Just inside the window it still waits.
  EXPECT_TRUE(decide(e, 40, 47h - 1min, policy(), false).retry);
}

TEST(NotifierPolicy, APermanentRefusalFailsAtOnceAndAlertsUnlessTheMailWasAnAlert) {
  const Error rejected(Code::k_smtp_rejected, "550 5.1.1 <nobody@example.test>: Recipient address rejected.");
  auto v = decide(rejected, 0, 0ms, policy(), false);
  EXPECT_FALSE(v.retry);
  EXPECT_EQ(v.error.code, Code::k_smtp_rejected);
  EXPECT_TRUE(v.alert_admin);
  EXPECT_FALSE(decide(rejected, 0, 0ms, policy(), true).alert_admin) << "never an alert about an alert";
  for (Code c : {Code::k_mail_invalid_address, Code::k_template_render_failed, Code::k_smtp_auth_failed,
                 Code::k_smtp_tls_failed, Code::k_notification_no_recipient}) {
    EXPECT_FALSE(decide(Error(c, "x"), 0, 0ms, policy(), false).retry) << code_name(c);
  }
}

TEST(NotifierPolicy, AMailWaitingForItsPdfIsTriedSoonAndNeverLongAfter) {
  const Error e(Code::k_notification_waiting, "The PDF is not made yet.");
  EXPECT_EQ(decide(e, 0, 0ms, policy(), false).delay, 2s);
  EXPECT_EQ(decide(e, 2, 0ms, policy(), false).delay, 8s);
  EXPECT_EQ(decide(e, 10, 0ms, policy(), false).delay, 30s);
}

TEST(NotifierPolicy, NoSmtpSettingsYetIsWaitedForLikeAnyTemporaryFailure) {
  const auto v = decide(Error(Code::k_notification_not_configured, "No SMTP server."), 0, 0ms, policy(), false);
  EXPECT_TRUE(v.retry);
}

TEST(NotifierWatch, AQueueDueWithNoCallPlacedMeanwhileIsStalled) {
  WatchThresholds t;
  WatchFacts f;
  f.queued_due = 3;
  f.oldest_queued_due_s = 900;
  f.since_last_attempt_s = 1200;
  auto alerts = watch_alerts(f, t);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].cause, "alert.queue_stalled");
  EXPECT_NE(alerts[0].message.find("3 fax(es)"), std::string::npos) << alerts[0].message;
  f.since_last_attempt_s = 30;  // calls are being placed: busy, not stalled
  EXPECT_TRUE(watch_alerts(f, t).empty());
  f.since_last_attempt_s = -1;  // never a call
  EXPECT_EQ(watch_alerts(f, t).size(), 1u);
  f.oldest_queued_due_s = 60;  // not waiting long yet
  EXPECT_TRUE(watch_alerts(f, t).empty());
}

TEST(NotifierWatch, RepeatedConversionFailuresAndAGatewayDownLongEnoughAreAlerts) {
  WatchThresholds t;
  WatchFacts f;
  f.conversions_failed_last_hour = 4;
  f.gateways_down = {"pbx.example.test:5060"};
  f.longest_gateway_down_s = 30;
  EXPECT_TRUE(watch_alerts(f, t).empty());
  f.conversions_failed_last_hour = 5;
  f.longest_gateway_down_s = 300;
  auto alerts = watch_alerts(f, t);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].cause, "alert.conversions_failing");
  EXPECT_EQ(alerts[1].cause, "alert.gateway_down");
  EXPECT_NE(alerts[1].message.find("pbx.example.test:5060"), std::string::npos);
}

}  // namespace
}  // namespace faxbridge::notifier
