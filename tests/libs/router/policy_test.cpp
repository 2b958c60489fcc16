#include "faxbridge/router/policy.hpp"

#include <gtest/gtest.h>

namespace faxbridge::router {
namespace {

using namespace std::chrono_literals;

const RetrySettings kRetry{3, 180s, 300s, 600s};

CallReport report(Outcome o, int pages = 0, std::optional<int> of = 3, std::optional<std::string> code = {}) {
  CallReport r;
  r.outcome = o;
  r.pages_sent = pages;
  r.page_count = of;
  r.error_code = std::move(code);
  return r;
}

TEST(Decide, AllPagesConfirmedIsSent) {
  auto d = decide(report(Outcome::kSent, 3), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "sent");
  EXPECT_FALSE(d.error);
}

TEST(Decide, NeverSentWithZeroConfirmedPages) {
  auto d = decide(report(Outcome::kSent, 0), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "retry_wait");
  EXPECT_EQ(d.error->code, Code::k_fax_no_pages_confirmed);
  EXPECT_EQ(d.category, Category::kProtocol);
}

TEST(Decide, SomePagesConfirmedIsPartiallySentAndNotResent) {
  auto d = decide(report(Outcome::kSent, 2, 3), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "partially_sent");
  EXPECT_EQ(d.error->code, Code::k_fax_partially_sent);
  d = decide(report(Outcome::kPartiallySent, 1, 3), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "partially_sent");
  EXPECT_NE(d.error->message.find("1 of 3"), std::string::npos);
}

TEST(Decide, RetryDelayDependsOnTheCause) {
  EXPECT_EQ(decide(report(Outcome::kBusy), 1, kRetry, {}).retry_after, 180s);
  EXPECT_EQ(decide(report(Outcome::kNoAnswer), 1, kRetry, {}).retry_after, 300s);
  auto d = decide(report(Outcome::kFailed, 0, 3, "fax.call_dropped"), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "retry_wait");
  EXPECT_EQ(d.retry_after, 600s);
  EXPECT_EQ(d.category, Category::kLine);
}

TEST(Decide, PerJobOverridesWinWithinTheirLimits) {
  auto d = decide(report(Outcome::kBusy), 1, kRetry, {std::nullopt, 30});
  EXPECT_EQ(d.retry_after, 30s);
  d = decide(report(Outcome::kBusy), 3, kRetry, {5, std::nullopt});
  EXPECT_EQ(d.next_state, "retry_wait");  // 5 attempts allowed for this job
}

TEST(Decide, AttemptsExhaustedFailsWithTheLastCause) {
  auto d = decide(report(Outcome::kBusy), 3, kRetry, {});
  EXPECT_EQ(d.next_state, "failed");
  EXPECT_EQ(d.error->code, Code::k_call_busy);
  EXPECT_TRUE(d.retryable);  // the class of failure, even though no attempt is left
  EXPECT_NE(d.error->message.find("All 3 attempts"), std::string::npos);
}

TEST(Decide, FatalFailuresFailAtOnce) {
  auto d = decide(report(Outcome::kRejected, 0, 3, "call.invalid_number"), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "failed");
  EXPECT_EQ(d.category, Category::kPolicy);
  EXPECT_FALSE(d.retryable);
  d = decide(report(Outcome::kRejected, 0, 3, "call.not_authorised"), 1, kRetry, {});
  EXPECT_EQ(d.error->code, Code::k_call_not_authorised);
  d = decide(report(Outcome::kFailed, 0, 3, "fax.no_common_modem"), 1, kRetry, {});
  EXPECT_EQ(d.next_state, "failed");
  EXPECT_EQ(d.category, Category::kDocument);
}

TEST(Decide, AnInterruptedCallIsRetriedOnlyBeforeThePagesWent) {
  auto r = report(Outcome::kInterrupted);
  r.phase_reached = "B";
  EXPECT_EQ(decide(r, 1, kRetry, {}).next_state, "retry_wait");
  r.phase_reached = "C";
  auto d = decide(r, 1, kRetry, {});
  EXPECT_EQ(d.next_state, "failed");
  EXPECT_EQ(d.error->code, Code::k_fax_outcome_unknown);
}

TEST(Decide, CancelledDuringTheCall) {
  EXPECT_EQ(decide(report(Outcome::kCancelled), 1, kRetry, {}).next_state, "cancelled");
}

TEST(DialNumber, GlobalPrefixGoesOnOffNetNumbersOnly) {
  DialSettings s;
  s.global_prefix = "0";
  s.plan = {"39", "00", "0"};
  EXPECT_EQ(dial_number(*normalize_phone("+442079460000"), s), "000442079460000");
  EXPECT_EQ(dial_number(*normalize_phone("403"), s), "0403");  // external only: every number
  s.network_type = "internal_and_external";
  EXPECT_EQ(dial_number(*normalize_phone("403"), s), "403");
  EXPECT_EQ(dial_number(*normalize_phone("0297865403"), s), "00297865403");
}

}  // namespace
}  // namespace faxbridge::router
