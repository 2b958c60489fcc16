// Webhook events into the outbox (db::webhook_events): which endpoints get a row for a
// job's or a received fax's event, and the delivery log's list and redelivery.
#include "faxbridge/db/webhooks.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/testing/sql.hpp"

namespace faxbridge::db {
namespace {

class WebhookEvents : public ::testing::Test {
 protected:
  void SetUp() override {
    alice_ = user("alice");
    bob_ = user("bob");
    carol_ = user("carol");
    system_all_ = hook(std::nullopt, {});
    system_sent_ = hook(std::nullopt, {"fax.sent"});
    alice_all_ = hook(alice_, {});
    bob_all_ = hook(bob_, {});
    disabled_ = hook(std::nullopt, {}, false);
  }
  std::int64_t user(const std::string& name) {
    User u;
    u.username = name;
    u.email = name + "@example.test";
    auto r = pool_.transact([&](Tx& tx) { return users::create(tx, u); });
    EXPECT_TRUE(r) << r.error().to_string();
    return r->id;
  }
  std::int64_t hook(std::optional<std::int64_t> owner, std::vector<std::string> events, bool enabled = true) {
    WebhookEndpoint w;
    w.url = "https://hooks.example.test/" + std::to_string(++hooks_);
    w.secret = "whsec_AAAA";
    w.user_id = owner;
    w.events = std::move(events);
    w.enabled = enabled;
    auto r = pool_.transact([&](Tx& tx) { return webhooks::create(tx, w); });
    EXPECT_TRUE(r) << r.error().to_string();
    return r->id;
  }
  // The endpoints that got a row for these notification ids, in id order.
  std::vector<std::int64_t> endpoints_of(const std::vector<std::int64_t>& ids, const std::string& event) {
    std::vector<std::int64_t> out;
    for (auto id : ids) {
      auto r = faxbridge::testing::committed_sql(
          dsn_, "SELECT webhook_id, kind, channel, payload->>'event', recipient = (SELECT url FROM webhook_endpoints w "
                "WHERE w.id = webhook_id) FROM notifications WHERE id = " + std::to_string(id));
      EXPECT_EQ(r[0][1].as<std::string>(), "webhook");
      EXPECT_EQ(r[0][2].as<std::string>(), "webhook");
      EXPECT_EQ(r[0][3].as<std::string>(), event);
      EXPECT_TRUE(r[0][4].as<bool>()) << "the recipient is the endpoint's URL";
      out.push_back(r[0][0].as<std::int64_t>());
    }
    return out;
  }

  std::string dsn_ = testing::migrated_database("webhook_events");
  Pool pool_{PoolSettings{dsn_, 2}};
  int hooks_ = 0;
  std::int64_t alice_ = 0, bob_ = 0, carol_ = 0;
  std::int64_t system_all_ = 0, system_sent_ = 0, alice_all_ = 0, bob_all_ = 0, disabled_ = 0;
};

TEST_F(WebhookEvents, AJobsEventGoesToSubscribedSystemEndpointsAndItsSendersOwn) {
  auto job = pool_.transact([&](Tx& tx) {
    NewJob n;
    n.recipient_number = n.recipient_canonical = "+3902123";
    n.sender_user_id = alice_;
    return jobs::create(tx, n, "test");
  });
  ASSERT_TRUE(job);
  auto queued = pool_.transact([&](Tx& tx) { return webhook_events::for_job(tx, "fax.queued", job->id); });
  ASSERT_TRUE(queued) << queued.error().to_string();
  EXPECT_EQ(endpoints_of(*queued, "fax.queued"), (std::vector<std::int64_t>{system_all_, alice_all_}));
  auto sent = pool_.transact([&](Tx& tx) { return webhook_events::for_job(tx, "fax.sent", job->id); });
  ASSERT_TRUE(sent);
  EXPECT_EQ(endpoints_of(*sent, "fax.sent"), (std::vector<std::int64_t>{system_all_, system_sent_, alice_all_}));
  auto bad = pool_.transact([&](Tx& tx) { return webhook_events::for_job(tx, "fax.exploded", job->id); });
  EXPECT_FALSE(bad) << "only the documented event names";
}

TEST_F(WebhookEvents, AReceivedFaxGoesToTheEndpointsOfItsRecipientsOnly) {
  auto fax = pool_.transact([&](Tx& tx) -> Result<std::int64_t> {
    ReceivedFax f;
    f.call_id = "call-1";
    f.called_number = "403";
    f.pages = 1;
    auto id = received::create(tx, f);
    if (!id) return id;
    for (auto u : {alice_, carol_}) {
      if (auto d = inbox::deliver(tx, *id, u); !d) return d.error();
    }
    return id;
  });
  ASSERT_TRUE(fax) << fax.error().to_string();
  auto ids = pool_.transact([&](Tx& tx) { return webhook_events::for_received_fax(tx, "fax.received", *fax); });
  ASSERT_TRUE(ids) << ids.error().to_string();
  EXPECT_EQ(endpoints_of(*ids, "fax.received"), (std::vector<std::int64_t>{system_all_, alice_all_}))
      << "one row per endpoint; bob's endpoint sees none of alice's and carol's faxes";
}

TEST_F(WebhookEvents, OnlyTheEndStatesAndTheQueueAreJobEvents) {
  EXPECT_EQ(webhook_events::event_for_job_state("queued"), "fax.queued");
  EXPECT_EQ(webhook_events::event_for_job_state("partially_sent"), "fax.partially_sent");
  EXPECT_EQ(webhook_events::event_for_job_state("routing"), "");
  for (const auto& s : {"queued", "sent", "partially_sent", "failed"}) {
    const auto e = webhook_events::event_for_job_state(s);
    const auto& known = webhook_event_types();
    EXPECT_NE(std::find(known.begin(), known.end(), e), known.end()) << e;
  }
}

}  // namespace
}  // namespace faxbridge::db
