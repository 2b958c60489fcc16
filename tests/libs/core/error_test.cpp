#include "faxbridge/core/error.hpp"

#include <gtest/gtest.h>

#include <set>

#include "faxbridge/core/result.hpp"

namespace faxbridge {
namespace {

TEST(Error, EveryCodeHasAUniqueDottedName) {
  std::set<std::string_view> seen;
#define FAXBRIDGE_X(e, name, kind)                                     \
  EXPECT_TRUE(seen.insert(code_name(Code::k_##e)).second) << name;     \
  EXPECT_EQ(code_name(Code::k_##e), std::string_view(name));
  FAXBRIDGE_ERROR_CODES(FAXBRIDGE_X)
#undef FAXBRIDGE_X
  EXPECT_GT(seen.size(), 10u);
}

TEST(Error, NamesRoundTrip) {
  Code c{};
  ASSERT_TRUE(code_from_name("db.unavailable", c));
  EXPECT_EQ(c, Code::k_db_unavailable);
  EXPECT_FALSE(code_from_name("db.nonsense", c));
}

TEST(Error, KindsFollowTheRetryPolicy) {
  EXPECT_TRUE(is_retryable_call(Code::k_db_unavailable));
  EXPECT_FALSE(is_retryable_call(Code::k_db_conflict));  // retry the whole transaction instead
  EXPECT_EQ(code_kind(Code::k_db_outcome_unknown), ErrorKind::kOutcomeUnknown);
  EXPECT_EQ(code_kind(Code::k_config_invalid), ErrorKind::kInvalidArgument);
  EXPECT_EQ(code_kind(Code::k_fax_call_dropped), ErrorKind::kAborted);
  EXPECT_EQ(kind_name(ErrorKind::kFailedPrecondition), "failed_precondition");
}

TEST(Error, OneRetryPolicyFollowsTheKind) {
  EXPECT_EQ(retry_scope(ErrorKind::kUnavailable), RetryScope::kCall);
  for (auto k : {ErrorKind::kAborted, ErrorKind::kResourceExhausted, ErrorKind::kInternal}) {
    EXPECT_EQ(retry_scope(k), RetryScope::kJob) << kind_name(k);
  }
  for (auto k : {ErrorKind::kInvalidArgument, ErrorKind::kNotFound, ErrorKind::kAlreadyExists,
                 ErrorKind::kPermissionDenied, ErrorKind::kUnauthenticated, ErrorKind::kFailedPrecondition,
                 ErrorKind::kOutcomeUnknown}) {
    EXPECT_EQ(retry_scope(k), RetryScope::kNone) << kind_name(k);
  }
  EXPECT_TRUE(is_retryable_job(Code::k_call_busy));
  EXPECT_TRUE(is_retryable_job(Code::k_call_route_failed));  // a call retry is a job retry too
  EXPECT_FALSE(is_retryable_job(Code::k_fax_outcome_unknown));
  EXPECT_FALSE(is_retryable_job(Code::k_call_media_refused));
}

TEST(Error, ToStringCarriesCodeMessageAndContext) {
  Error e(Code::k_db_unavailable, "The database does not answer.");
  e.with("host", "db1").with("reason", "connection refused");
  EXPECT_EQ(e.to_string(),
            "[db.unavailable] The database does not answer. (host=db1, reason=connection refused)");
}

Result<int> half(int n) {
  if (n % 2) return Error(Code::k_internal, "odd");
  return n / 2;
}

TEST(Result, HoldsAValueOrAnError) {
  auto a = half(4);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, 2);
  auto b = half(3);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Code::k_internal);
  EXPECT_EQ(b.value_or(-1), -1);
  Result<void> v = ok();
  EXPECT_TRUE(v.has_value());
  Result<void> f = Error(Code::k_io_failed, "disk");
  EXPECT_EQ(f.error().name(), "io.failed");
}

}  // namespace
}  // namespace faxbridge
