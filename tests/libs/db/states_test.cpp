// The state machines of states.hpp against what they describe: the schema's CHECK
// lists, the diagrams in docs/design.md, and the rows every move writes (the job's
// event, claims included, and one job.state log line once the move is committed).
#include "faxbridge/db/states.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <pqxx/pqxx>
#include <regex>
#include <set>
#include <sstream>

#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/outbound.hpp"
#include "faxbridge/db/queue.hpp"
#include "faxbridge/db/routing.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/testing/sql.hpp"

namespace faxbridge::db {
namespace {

using namespace std::chrono_literals;

const StateMachine* const kMachines[] = {&job_machine(), &attempt_machine(), &notification_machine()};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(StateMachines, TheDesignNotesDrawExactlyTheTables) {
  const std::string doc = read_file(std::string(FAXBRIDGE_SOURCE_DIR) + "/docs/design.md");
  ASSERT_FALSE(doc.empty());
  for (const StateMachine* m : kMachines) {
    const std::string diagram = state_diagram(*m);
    EXPECT_NE(doc.find(diagram), std::string::npos)
        << "docs/design.md must show the " << m->table << " diagram exactly as the table says:\n" << diagram;
  }
}

TEST(StateMachines, EdgesJoinKnownStatesAndFinalStatesAreFinal) {
  for (const StateMachine* m : kMachines) {
    std::set<std::string_view> leave;
    for (const auto& e : m->edges) {
      EXPECT_TRUE(m->has(e.from)) << m->table << ": " << e.from;
      EXPECT_TRUE(m->has(e.to)) << m->table << ": " << e.to;
      EXPECT_FALSE(e.why.empty()) << m->table << ": " << e.from << " -> " << e.to;
      EXPECT_FALSE(m->is_final(e.from)) << m->table << ": a final state has a way out: " << e.from;
      leave.insert(e.from);
    }
    for (auto s : m->states) {
      if (!m->is_final(s)) {
        EXPECT_TRUE(leave.count(s)) << m->table << ": " << s << " is a dead end";
      }
    }
  }
  EXPECT_TRUE(is_final(JobState::kPartiallySent));
  EXPECT_FALSE(is_final(JobState::kRetryWait));
  EXPECT_EQ(parse_job_state("retry_wait"), JobState::kRetryWait);
  EXPECT_FALSE(parse_job_state("finished"));
  EXPECT_EQ(state_name(JobState::kCancelled), "cancelled");
}

class StatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = testing::migrated_database("states");
    pool_ = std::make_unique<Pool>(PoolSettings{dsn_, 2});
  }
  pqxx::result sql(const std::string& q) { return faxbridge::testing::committed_sql(dsn_, q); }
  std::int64_t job_in(const std::string& state, const std::string& number = "403") {
    auto j = pool_->transact([&](Tx& tx) {
      NewJob n;
      n.recipient_number = n.recipient_canonical = number;
      return jobs::create(tx, n, "test");
    });
    EXPECT_TRUE(j);
    sql("UPDATE fax_jobs SET state = '" + state + "', reference = '2026.0000" + std::to_string(1000 + j->id) +
        "' WHERE id = " + std::to_string(j->id));
    return j->id;
  }
  // "from>to" of every event after the creation, in order.
  std::vector<std::string> moves(std::int64_t job) {
    std::vector<std::string> out;
    for (const auto& r : sql("SELECT coalesce(from_state, ''), to_state FROM job_events WHERE job_id = " +
                             std::to_string(job) + " AND from_state IS NOT NULL ORDER BY id")) {
      out.push_back(r[0].as<std::string>() + ">" + r[1].as<std::string>());
    }
    return out;
  }
  std::string dsn_;
  std::unique_ptr<Pool> pool_;
};

TEST_F(StatesTest, TheSchemaChecksListTheSameStates) {
  const std::pair<const char*, const StateMachine*> checks[] = {{"fax_jobs_state_check", &job_machine()},
                                                                {"attempts_state_check", &attempt_machine()},
                                                                {"notifications_state_check", &notification_machine()}};
  for (const auto& [name, m] : checks) {
    auto r = sql(std::string("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = '") + name + "'");
    ASSERT_EQ(r.size(), 1u) << name;
    const std::string def = r[0][0].as<std::string>();
    std::set<std::string> in_schema, in_table(m->states.begin(), m->states.end());
    const std::regex quoted("'([a-z_]+)'");
    for (auto it = std::sregex_iterator(def.begin(), def.end(), quoted); it != std::sregex_iterator(); ++it) {
      in_schema.insert((*it)[1].str());
    }
    EXPECT_EQ(in_schema, in_table) << name << ": " << def;
  }
}

TEST_F(StatesTest, AMoveIsConditionalRecordedAndRefusedWhenNotInTheTable) {
  const auto job = job_in("queued");
  auto bad = pool_->transact([&](Tx& tx) { return transition(tx, job, JobState::kQueued, JobState::kSent, "t"); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::k_internal);
  auto stale = pool_->transact([&](Tx& tx) { return transition(tx, job, JobState::kReady, JobState::kRouting, "t"); });
  ASSERT_TRUE(stale);
  EXPECT_FALSE(*stale);  // it is queued, not ready
  auto moved = pool_->transact([&](Tx& tx) {
    return transition(tx, job, JobState::kQueued, JobState::kCancelled, "t", Error(Code::k_call_cancelled, "Stop."));
  });
  ASSERT_TRUE(moved && *moved);
  EXPECT_EQ(moves(job), (std::vector<std::string>{"queued>cancelled"}));
  auto row = sql("SELECT error_code, completed_at IS NOT NULL FROM fax_jobs WHERE id = " + std::to_string(job));
  EXPECT_EQ(row[0][0].as<std::string>(), "call.cancelled");
  EXPECT_TRUE(row[0][1].as<bool>());
}

TEST_F(StatesTest, OneLogLineWithTheReferenceOnlyWhenTheMoveCommits) {
  const auto job = job_in("queued");
  ::testing::internal::CaptureStdout();
  auto rolled = pool_->transact([&](Tx& tx) -> Result<bool> {
    auto m = transition(tx, job, JobState::kQueued, JobState::kCancelled, "t");
    if (!m) return m;
    return Error(Code::k_internal, "abandon");
  });
  const std::string after_rollback = ::testing::internal::GetCapturedStdout();
  ASSERT_FALSE(rolled);
  EXPECT_EQ(after_rollback.find("job.state"), std::string::npos) << after_rollback;
  ::testing::internal::CaptureStdout();
  ASSERT_TRUE(*pool_->transact([&](Tx& tx) { return transition(tx, job, JobState::kQueued, JobState::kCancelled, "t"); }));
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("\"event\":\"job.state\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"job\":" + std::to_string(job)), std::string::npos) << out;
  EXPECT_NE(out.find("\"reference\":\"2026.0000" + std::to_string(1000 + job) + "\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"from\":\"queued\""), std::string::npos) << out;
}

// Claims are moves too: each one leaves its event, a lease taken over as well.
TEST_F(StatesTest, QueueClaimsReleasesAndTakeOversRecordTheirEvents) {
  ManualClock clock(SystemClock::instance().now() + 1h);
  const auto a = job_in("submitted"), b = job_in("ready", "404");
  auto spec = conversion_queue();
  spec.lease = 10s;
  Queue conv1(*pool_, spec, "conv-1", &clock), conv2(*pool_, spec, "conv-2", &clock);
  ASSERT_TRUE(conv1.claim(a)->has_value());
  ASSERT_TRUE(*conv1.release(a, 0ms, Error(Code::k_db_unavailable, "later")));
  ASSERT_EQ(conv1.claim_next(5)->size(), 1u);
  clock.advance(11s);  // conv-1 died
  ASSERT_EQ(conv2.claim_next(5)->size(), 1u);
  ASSERT_TRUE(*pool_->transact([&](Tx& tx) { return conv2.finish(tx, a, "ready"); }));
  EXPECT_EQ(moves(a), (std::vector<std::string>{"submitted>converting", "converting>submitted", "submitted>converting",
                                                "converting>converting", "converting>ready"}));
  auto actors = sql("SELECT actor, coalesce(error_code, '') FROM job_events WHERE job_id = " + std::to_string(a) +
                    " AND from_state IS NOT NULL ORDER BY id");
  EXPECT_EQ(actors[1][1].as<std::string>(), "db.unavailable");
  EXPECT_EQ(actors[3][0].as<std::string>(), "conv-2");

  Queue router(*pool_, routing::routing_queue(), "router-1", &clock);
  ASSERT_TRUE(router.claim(b)->has_value());
  EXPECT_EQ(moves(b), (std::vector<std::string>{"ready>routing"}));
}

TEST_F(StatesTest, AJobClaimedTooOftenFailsWithItsEvent) {
  ManualClock clock(SystemClock::instance().now() + 1h);
  const auto job = job_in("submitted");
  auto spec = conversion_queue();
  spec.max_claims = 1;
  spec.lease = 10s;
  Queue q(*pool_, spec, "conv", &clock);
  ASSERT_EQ(q.claim_next(1)->size(), 1u);
  clock.advance(11s);
  EXPECT_TRUE(q.claim_next(1)->empty());
  EXPECT_EQ(moves(job), (std::vector<std::string>{"submitted>converting", "converting>failed"}));
  EXPECT_EQ(sql("SELECT error_code FROM job_events WHERE job_id = " + std::to_string(job) + " ORDER BY id DESC LIMIT 1")[0][0]
                .as<std::string>(),
            "queue.claims_exhausted");
}

TEST_F(StatesTest, TheGatewaysClaimAndTheRetryRequeueRecordTheirEvents) {
  const auto job = job_in("queued");
  auto calls = pool_->transact([&](Tx& tx) { return outbound::claim_calls(tx, "gw-1", 4, 10, 30s); });
  ASSERT_TRUE(calls) << calls.error().to_string();
  ASSERT_EQ(calls->size(), 1u);
  ASSERT_TRUE(*pool_->transact([&](Tx& tx) { return outbound::mark_sending(tx, job, "gw-1"); }));
  sql("UPDATE fax_jobs SET state = 'retry_wait', not_before = now() - interval '1 second' WHERE id = " +
      std::to_string(job));
  auto due = pool_->transact([&](Tx& tx) { return routing::requeue_due(tx, 10, "router-1"); });
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, std::vector<std::int64_t>{job});
  EXPECT_EQ(moves(job), (std::vector<std::string>{"queued>dialing", "dialing>sending", "retry_wait>queued"}));
}

TEST_F(StatesTest, AttemptsMoveOnlyAlongTheirTable) {
  const auto job = job_in("queued");
  auto calls = pool_->transact([&](Tx& tx) { return outbound::claim_calls(tx, "gw-1", 1, 10, 30s); });
  ASSERT_EQ(calls->size(), 1u);
  const auto attempt = (*calls)[0].attempt_id;
  auto skip = pool_->transact([&](Tx& tx) { return transition(tx, attempt, AttemptState::kOpen, AttemptState::kApplied); });
  ASSERT_FALSE(skip);
  EXPECT_EQ(skip.error().code, Code::k_internal);
  AttemptEnd end;
  end.outcome = db::Outcome::kBusy;
  ASSERT_TRUE(*pool_->transact([&](Tx& tx) { return outbound::close(tx, (*calls)[0], "gw-1", end); }));
  EXPECT_EQ(sql("SELECT state FROM attempts WHERE id = " + std::to_string(attempt))[0][0].as<std::string>(), "closed");
  Queue results(*pool_, routing::results_queue(), "router-1");
  ASSERT_TRUE(results.claim(attempt)->has_value());
  auto wrong = pool_->transact([&](Tx& tx) { return results.finish(tx, attempt, "open"); });
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Code::k_internal);
  (void)job;
}

}  // namespace
}  // namespace faxbridge::db
