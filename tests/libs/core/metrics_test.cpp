#include "faxbridge/core/metrics.hpp"

#include <gtest/gtest.h>

namespace faxbridge::metrics {
namespace {

TEST(Registry, RendersThePrometheusTextFormat) {
  Registry r;
  r.counter("faxbridge_jobs_total", "Jobs processed.", {{"state", "sent"}}).inc(3);
  r.gauge("faxbridge_up", "Ready.").set(1);
  auto& h = r.histogram("faxbridge_claim_seconds", "Claim latency.", {0.01, 0.1});
  h.observe(0.005);
  h.observe(0.05);
  h.observe(2);
  const std::string text = r.render();
  EXPECT_NE(text.find("# TYPE faxbridge_jobs_total counter\nfaxbridge_jobs_total{state=\"sent\"} 3\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("faxbridge_up 1\n"), std::string::npos);
  EXPECT_NE(text.find("faxbridge_claim_seconds_bucket{le=\"0.01\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("faxbridge_claim_seconds_bucket{le=\"0.10000000000000001\"} 2\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("faxbridge_claim_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("faxbridge_claim_seconds_count 3\n"), std::string::npos);
}

TEST(Registry, ReturnsTheSameSeriesForTheSameLabels) {
  Registry r;
  auto& a = r.counter("c", "h", {{"k", "v"}});
  auto& b = r.counter("c", "h", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(r.gauge("c", "h"), std::logic_error);
}

}  // namespace
}  // namespace faxbridge::metrics
