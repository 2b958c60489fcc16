// GET /api/v1/stats over HTTP: every figure of the dashboard from rows written by SQL
// at known times (the server's clock is a ManualClock), administrators only, and the
// plans of its queries over 100,000 jobs: each must come from an index, not a scan of
// the whole history.
#include "inbox_fixture.hpp"

namespace faxbridge::webapi {
namespace {

using namespace testing_support;

class StatsRoutes : public InboxWorld {
 protected:
  void SetUp() override {
    InboxWorld::SetUp();
    clock_.set(utc_time(2026, 11, 25, 10, 30));
  }
  // A job in `state`, made at `created`, completed at `completed` (final states).
  void job(const std::string& state, const std::string& created, const std::string& completed = "",
           const std::string& error_code = "") {
    sql("INSERT INTO fax_jobs (reference, source, recipient_number, recipient_canonical, state, created_at, "
        "completed_at, error_code) VALUES (NULL, 'api', '+4930999', '+4930999', '" + state + "', '" + created + "', " +
        (completed.empty() ? "NULL" : "'" + completed + "'") + ", " +
        (error_code.empty() ? "NULL" : "'" + error_code + "'") + ")");
  }
  std::string last_job() { return sql_value("SELECT max(id) FROM fax_jobs"); }
};

TEST_F(StatsRoutes, ShowsEveryFigureOfTheDashboard) {
  job("queued", "2026-11-25 09:00:00+00");
  job("queued", "2026-11-25 10:00:00+00");
  job("retry_wait", "2026-11-25 08:15:00+00");  // the oldest waiting
  const auto oldest = last_job();
  job("sending", "2026-11-25 07:00:00+00");  // older, but not waiting: on a line
  const auto sending = last_job();
  job("submitted", "2026-11-25 10:29:00+00");
  job("sent", "2026-11-25 09:00:00+00", "2026-11-25 09:10:00+00");
  job("sent", "2026-11-25 09:00:00+00", "2026-11-25 09:50:00+00");
  job("failed", "2026-11-25 09:00:00+00", "2026-11-25 09:20:00+00", "call.busy");
  job("failed", "2026-11-25 10:00:00+00", "2026-11-25 10:05:00+00", "call.busy");
  job("partially_sent", "2026-11-25 10:00:00+00", "2026-11-25 10:06:00+00", "fax.call_dropped");
  job("failed", "2026-11-24 09:00:00+00", "2026-11-24 11:00:00+00", "fax.timeout");  // 23.5 h ago: the first bucket
  job("failed", "2026-11-23 09:00:00+00", "2026-11-23 09:30:00+00", "fax.timeout");  // older than 24 h
  job("cancelled", "2026-11-25 09:00:00+00", "2026-11-25 09:05:00+00");
  sql("INSERT INTO attempts (job_id, attempt_no, gateway_instance, state) VALUES (" + sending + ", 1, 'gw-b', 'open')");
  sql("INSERT INTO attempts (job_id, attempt_no, gateway_instance, state) VALUES (" + oldest + ", 1, 'gw-a', 'open')");
  sql("INSERT INTO attempts (job_id, attempt_no, gateway_instance, state) VALUES (" + oldest + ", 2, 'gw-a', 'open')");
  sql("INSERT INTO attempts (job_id, attempt_no, gateway_instance, state, ended_at) VALUES (" + oldest +
      ", 3, 'gw-a', 'applied', now())");
  sql("INSERT INTO gateway_health (address, state, rtt_ms, last_status, last_ok_at, detail, updated_at) VALUES "
      "('10.0.0.1:5060', 'up', 12, 200, '2026-11-25 10:29:00+00', '', '2026-11-25 10:29:00+00'), "
      "('10.0.0.2:5060', 'down', NULL, 408, NULL, 'no answer to OPTIONS', '2026-11-25 10:28:00+00')");

  auto r = admin_.api->get("/api/v1/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& s = r.json;
  EXPECT_EQ(s["generated_at"], "2026-11-25T10:30:00.000Z");
  EXPECT_EQ(s["channels"], json({{"in_use", 3},
                                 {"by_gateway", {{{"gateway_instance", "gw-a"}, {"in_use", 2}},
                                                 {{"gateway_instance", "gw-b"}, {"in_use", 1}}}}}));
  EXPECT_EQ(s["queue"], json({{"submitted", 1}, {"converting", 0}, {"ready", 0}, {"routing", 0}, {"queued", 2},
                              {"dialing", 0}, {"sending", 1}, {"retry_wait", 1}}));
  ASSERT_EQ(s["hourly"].size(), 24u);
  EXPECT_EQ(s["hourly"][0], json({{"hour", "2026-11-24T11:00:00.000Z"}, {"sent", 0}, {"partially_sent", 0}, {"failed", 1}}));
  EXPECT_EQ(s["hourly"][22], json({{"hour", "2026-11-25T09:00:00.000Z"}, {"sent", 2}, {"partially_sent", 0}, {"failed", 1}}));
  EXPECT_EQ(s["hourly"][23], json({{"hour", "2026-11-25T10:00:00.000Z"}, {"sent", 0}, {"partially_sent", 1}, {"failed", 1}}));
  EXPECT_EQ(s["hourly"][5]["sent"], 0);
  EXPECT_EQ(s["failures_by_cause"], json({{{"code", "call.busy"}, {"count", 2}},
                                          {{"code", "fax.call_dropped"}, {"count", 1}},
                                          {{"code", "fax.timeout"}, {"count", 1}}}));
  ASSERT_EQ(s["gateways"].size(), 2u);
  EXPECT_EQ(s["gateways"][0]["state"], "up");
  EXPECT_EQ(s["gateways"][0]["rtt_ms"], 12);
  EXPECT_EQ(s["gateways"][1]["last_status"], 408);
  EXPECT_EQ(s["gateways"][1]["detail"], "no answer to OPTIONS");
  EXPECT_EQ(s["oldest_waiting"]["id"], std::stoll(oldest));
  EXPECT_EQ(s["oldest_waiting"]["state"], "retry_wait");
  EXPECT_EQ(s["oldest_waiting"]["age_s"], 2 * 3600 + 15 * 60);
}

TEST_F(StatsRoutes, AnEmptySystemHasZerosAndNoOldestJob) {
  auto r = admin_.api->get("/api/v1/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["channels"]["in_use"], 0);
  EXPECT_TRUE(r.json["oldest_waiting"].is_null());
  EXPECT_TRUE(r.json["failures_by_cause"].empty());
  EXPECT_EQ(r.json["hourly"].size(), 24u);
}

TEST_F(StatsRoutes, OnlyAdministratorsSeeTheFigures) {
  expect_problem(alice_.api->get("/api/v1/stats"), 403, "api.forbidden");
  expect_problem(zero_.api->get("/api/v1/stats"), 403, "api.forbidden");
  ApiClient nobody(port_);
  expect_problem(nobody.get("/api/v1/stats"), 401, "api.unauthenticated");
}

// The statements of libs/db/src/stats.cpp with the parameters as literals.
const char* const kStatements[] = {
    "SELECT gateway_instance, count(*) FROM attempts WHERE state = 'open' GROUP BY gateway_instance ORDER BY gateway_instance",
    "SELECT state, count(*) FROM fax_jobs WHERE completed_at IS NULL GROUP BY state",
    "SELECT date_trunc('hour', completed_at AT TIME ZONE 'UTC'), count(*) FILTER (WHERE state = 'sent'), "
    "count(*) FILTER (WHERE state = 'failed') FROM fax_jobs WHERE completed_at >= now() - interval '24 hours' "
    "AND completed_at < now() AND state IN ('sent', 'partially_sent', 'failed') GROUP BY 1 ORDER BY 1",
    "SELECT coalesce(error_code, ''), count(*) FROM fax_jobs WHERE completed_at >= now() - interval '24 hours' "
    "AND completed_at < now() AND state IN ('partially_sent', 'failed') GROUP BY 1 ORDER BY 2 DESC, 1",
    "SELECT id, reference, state FROM fax_jobs WHERE state IN ('submitted', 'ready', 'queued', 'retry_wait') "
    "ORDER BY created_at, id LIMIT 1",
};

TEST_F(StatsRoutes, EveryFigureComesFromAnIndexOver100000Jobs) {
  // 100,000 jobs over 60 days, nearly all finished; one attempt each; 200 in the queue.
  sql("INSERT INTO fax_jobs (reference, source, recipient_number, recipient_canonical, state, created_at, "
      "completed_at, error_code) SELECT NULL, 'api', '+4930999', '+4930999', "
      "CASE WHEN i % 500 = 0 THEN 'queued' WHEN i % 10 = 0 THEN 'failed' ELSE 'sent' END, "
      "now() - (i || ' minutes')::interval, "
      "CASE WHEN i % 500 = 0 THEN NULL ELSE now() - (i || ' minutes')::interval + interval '2 minutes' END, "
      "CASE WHEN i % 10 = 0 AND i % 500 <> 0 THEN 'call.busy' END FROM generate_series(1, 100000) i");
  sql("INSERT INTO attempts (job_id, attempt_no, gateway_instance, state) "
      "SELECT id, 1, 'gw-' || (id % 3), CASE WHEN id % 1000 = 0 THEN 'open' ELSE 'applied' END FROM fax_jobs");
  sql_autocommit("VACUUM ANALYZE fax_jobs");
  sql_autocommit("VACUUM ANALYZE attempts");
  for (const char* statement : kStatements) {
    const auto plan = sql_value(std::string("EXPLAIN (FORMAT JSON) ") + statement);
    EXPECT_EQ(plan.find("\"Seq Scan\""), std::string::npos) << statement << "\n" << plan;
  }
  clock_.set(std::chrono::system_clock::now());
  auto r = admin_.api->get("/api/v1/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["queue"]["queued"], 200);
}

}  // namespace
}  // namespace faxbridge::webapi
