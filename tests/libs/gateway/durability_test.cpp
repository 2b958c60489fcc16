// The media gateway on a bad day (gateway_fixture.hpp: two real gateways, router, bus and
// Postgres): a lease taken away mid-call, the database stopped while faxes are on the
// wire in both directions, a gateway restarted during the outage, and a database slow
// enough to hold every transaction while a call comes in.
#include <pqxx/pqxx>

#include "gateway_fixture.hpp"

namespace faxbridge::gateway {
namespace {

using namespace std::chrono_literals;
using faxbridge::testing::eventually;

class GatewayDurabilityTest : public GatewayTest {
 protected:
  bool state_is(std::int64_t job, const std::string& state) { return job_state(job) == state; }
  std::string count(const std::string& q) { return field("SELECT count(*) FROM " + q); }
  db::testing::PgCluster& cluster() { return db::testing::shared_cluster(); }
  // Polls until `done`; sql() would throw while the database is down, so it is not used.
  static void wait_without_database(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(100ms);
  }
};

// The renewal that finds the lease gone stops the call at once: the receiver never gets
// the whole fax from a gateway that no longer holds the job (another instance may be
// dialling the same number), and the job keeps the state its new owner gives it.
TEST_F(GatewayDurabilityTest, ACallWhoseLeaseWasTakenOverIsHungUpAtOnce) {
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  auto [a, b] = start_pair();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  const auto job = ready_job("403", alice, /*pages=*/8);
  const std::string j = std::to_string(job);
  ASSERT_TRUE(eventually([&] { return state_is(job, "sending"); }, 120s)) << job_state(job);
  // Another instance takes the job over, as the router's take-over of an expired lease
  // and a second gateway's claim would.
  sql("UPDATE fax_jobs SET owner = 'gw-thief', lease_until = now() + interval '10 minutes' WHERE id = " + j);

  ASSERT_TRUE(eventually([&] { return count("received_faxes") == "1"; }, 120s));
  EXPECT_NE(field("SELECT pages FROM received_faxes"), "8");
  EXPECT_NE(field("SELECT error_code FROM received_faxes"), "(null)");
  ASSERT_TRUE(eventually([&] { return a->stats().outbound_active == 0 && a->stats().facts_pending == 0; }, 30s));
  // The stopped call's outcome was not applied over the new owner's.
  EXPECT_EQ(field("SELECT state || '/' || owner FROM fax_jobs WHERE id = " + j), "sending/gw-thief");
  EXPECT_EQ(count("attempts WHERE outcome = 'sent' AND job_id = " + j), "0");
}

// Postgres stopped while two faxes are on the wire (gateway A sending, gateway B
// receiving): both calls end during the outage, their outcomes wait in the journals, and
// once the database is back both jobs are sent and both faxes stored, once each.
TEST_F(GatewayDurabilityTest, FaxesThatCompleteDuringADatabaseOutageAreSentAndStoredOnce) {
  const auto alice = add_user("alice", std::nullopt);
  const auto bob = add_user("bob", "403");
  const auto carol = add_user("carol", "404");
  auto [a, b] = start_pair([](GatewaySettings& s) { s.lease = 60s; });  // outlasts the outage
  ASSERT_TRUE(a != nullptr && b != nullptr);
  const auto job1 = ready_job("403", alice, /*pages=*/2);
  const auto job2 = ready_job("404", alice, /*pages=*/2);
  ASSERT_TRUE(eventually([&] { return state_is(job1, "sending") && state_is(job2, "sending"); }, 120s))
      << job_state(job1) << " " << job_state(job2);

  ASSERT_TRUE(cluster().stop());
  const auto stopped_at = std::chrono::steady_clock::now();
  // The calls finish on the wire while nothing can be written.
  wait_without_database(
      [&] {
        const auto sa = a->stats(), sb = b->stats();
        return sa.outbound_active == 0 && sb.inbound_active == 0 && sa.facts_pending > 0 && sb.facts_pending > 0;
      },
      120s);
  const auto sa = a->stats(), sb = b->stats();
  EXPECT_EQ(sa.outbound_active, 0);
  EXPECT_EQ(sb.inbound_active, 0);
  EXPECT_GT(sa.facts_pending, 0u);
  EXPECT_GT(sb.facts_pending, 0u);
  std::this_thread::sleep_until(stopped_at + 12s);  // an outage the pool's own retries cannot outlast
  const double restarted_at =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  ASSERT_TRUE(cluster().restart());

  ASSERT_TRUE(eventually([&] { return state_is(job1, "sent") && state_is(job2, "sent"); }, 120s))
      << job_state(job1) << " " << job_state(job2) << " "
      << field("SELECT string_agg(outcome || ':' || coalesce(error_code, ''), ',') FROM attempts");
  ASSERT_TRUE(eventually([&] { return count("received_faxes WHERE state = 'routed'") == "2"; }, 60s));
  EXPECT_EQ(count("received_faxes"), "2");
  EXPECT_EQ(count("received_faxes WHERE pages = 2 AND tiff_document_id IS NOT NULL AND error_code IS NULL"), "2");
  EXPECT_EQ(count("attempts"), "2");
  // The records tell when the calls ended, during the outage, not when they were written.
  const std::string before_restart = "to_timestamp(" + std::to_string(restarted_at) + ")";
  EXPECT_EQ(count("attempts WHERE ended_at < " + before_restart), "2");
  EXPECT_EQ(count("received_faxes WHERE ended_at < " + before_restart), "2");
  EXPECT_EQ(count("inbox_entries WHERE user_id = " + std::to_string(bob)), "1");
  EXPECT_EQ(count("inbox_entries WHERE user_id = " + std::to_string(carol)), "1");
  ASSERT_TRUE(eventually([&] { return a->stats().facts_pending == 0 && b->stats().facts_pending == 0; }, 30s));
}

// A gateway that stops while its outcomes cannot be written leaves them in its journal;
// the next gateway on the same SIP port (the same journal) writes them at start.
TEST_F(GatewayDurabilityTest, AGatewayRestartedDuringAnOutageReplaysItsJournal) {
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  auto [a, b] = start_pair([](GatewaySettings& s) { s.lease = 60s; });
  ASSERT_TRUE(a != nullptr && b != nullptr);
  const int sip_a = a->settings().sip.port;
  const auto job = ready_job("403", alice, /*pages=*/2);
  ASSERT_TRUE(eventually([&] { return state_is(job, "sending"); }, 120s)) << job_state(job);

  ASSERT_TRUE(cluster().stop());
  wait_without_database([&] { return a->stats().outbound_active == 0 && a->stats().facts_pending > 0; }, 120s);
  ASSERT_GT(a->stats().facts_pending, 0u);
  gateways_.erase(gateways_.begin() + 1);  // gateway A stops (B, the answering one, stays)
  ASSERT_TRUE(cluster().restart());

  Gateway* again = start_gateway("gw-a-again", media_base(), /*place_calls=*/true,
                                 [&](GatewaySettings& s) { s.sip.port = sip_a; });
  ASSERT_TRUE(again != nullptr);
  ASSERT_TRUE(eventually([&] { return state_is(job, "sent"); }, 60s))
      << job_state(job) << " " << field("SELECT outcome || ':' || coalesce(error_code, '') FROM attempts");
  EXPECT_GE(again->stats().facts_replayed, 1u);
  EXPECT_EQ(count("attempts"), "1");
  EXPECT_EQ(field("SELECT gateway_instance FROM attempts"), "gw-a");
  ASSERT_TRUE(eventually([&] { return count("received_faxes WHERE state = 'routed'") == "1"; }, 60s));
  EXPECT_EQ(count("received_faxes"), "1");
}

// While every write to the attempts table waits for a lock held elsewhere (a claim round
// of gateway A is stuck behind it), gateway A still answers an incoming call at once:
// no transaction runs on the thread that handles SIP.
TEST_F(GatewayDurabilityTest, AnIncomingCallIsAnsweredWhileTheDatabaseHoldsTheGatewaysWrites) {
  const auto alice = add_user("alice", std::nullopt);
  add_user("bob", "403");
  // The stuck claim's lease counts from the start of its transaction: long enough to
  // outlast the lock, so the job is still gateway A's when the claim commits.
  auto [a, b] = start_pair([](GatewaySettings& s) { s.lease = 60s; });
  ASSERT_TRUE(a != nullptr && b != nullptr);

  pqxx::connection locker(dsn_);
  pqxx::work lock(locker);
  lock.exec("LOCK TABLE attempts IN ACCESS EXCLUSIVE MODE");
  const auto job = ready_job("403", alice);
  // Routed, then claimed by A: the claim's INSERT into attempts waits for the lock.
  ASSERT_TRUE(eventually([&] {
    return field("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
                 "query LIKE '%INSERT INTO attempts%'") != "0";
  }, 60s)) << job_state(job);

  auto run = sipp(std::string(FAXBRIDGE_SIP_SCENARIOS) + "/uac_t38_invite_bye.xml");
  run.remote = "127.0.0.1:" + std::to_string(a->settings().sip.port);
  run.service = "403";
  run.timeout = 30s;
  auto caller = run.start();
  std::string report;
  EXPECT_EQ(run.finish(*caller, 60s, &report), 0) << report;
  lock.commit();
  // The claim goes on once the lock is gone, and the fax goes out.
  ASSERT_TRUE(eventually([&] { return state_is(job, "sent") || state_is(job, "failed"); }, 180s)) << job_state(job);
  EXPECT_EQ(job_state(job), "sent") << job_story(job);
}

}  // namespace
}  // namespace faxbridge::gateway
