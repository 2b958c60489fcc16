#include "faxbridge/db/registry.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::db {
namespace {

class Registry : public ::testing::Test {
 protected:
  std::string dsn_ = testing::migrated_database("registry");
  Pool pool_{PoolSettings{dsn_, 2}};
  template <typename F>
  auto tx(F&& f) {
    return pool_.transact(std::forward<F>(f));
  }
};

TEST_F(Registry, CoverPagesResolveTheSeedsWay) {
  ASSERT_TRUE(tx([](Tx& t) -> Result<void> {
    for (const auto& p : {CoverPage{"standard", "<svg>en std</svg>", true}, CoverPage{"it_standard", "<svg>it std</svg>"},
                          CoverPage{"urgent", "<svg>urgent</svg>"}, CoverPage{"it_urgent", "<svg>urgente</svg>"}}) {
      if (auto r = cover_pages::put(t, p); !r) return r;
    }
    return ok();
  }));
  auto name_of = [&](const std::string& name, const std::string& lang) {
    auto r = tx([&](Tx& t) { return cover_pages::resolve(t, name, lang); });
    return r && r->has_value() ? (*r)->name : std::string("(none)");
  };
  EXPECT_EQ(name_of("urgent", "it"), "it_urgent");   // localized first
  EXPECT_EQ(name_of("urgent", "de"), "urgent");      // else the plain one
  EXPECT_EQ(name_of("", "it"), "it_standard");       // the user's field is blank: default cover
  EXPECT_EQ(name_of("", "fr"), "standard");
  EXPECT_EQ(name_of("missing", "en"), "standard");     // a name no cover has: the default cover
  EXPECT_EQ(name_of("missing", "it"), "it_standard");  // ... in the sender's language
  ASSERT_TRUE(tx([](Tx& t) { return cover_pages::remove(t, "standard"); }));
  EXPECT_EQ(name_of("", "fr"), "(none)");  // default deleted: no cover page at all
  EXPECT_EQ(name_of("missing", "fr"), "(none)");
  EXPECT_EQ(name_of("urgent", "fr"), "urgent");  // a named cover still works
  auto bad = tx([](Tx& t) { return cover_pages::put(t, {"../etc/passwd", "<svg/>"}); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::k_db_constraint);
}

TEST_F(Registry, GatewayHealthAndRemoteCapabilities) {
  ASSERT_TRUE(tx([](Tx& t) { return gateway_health::report(t, {"pbx.example.test", "up", 12, "200 OK", 200}); }));
  ASSERT_TRUE(tx([](Tx& t) { return gateway_health::report(t, {"pbx.example.test", "down", std::nullopt, "timeout", 408}); }));
  auto list = tx([](Tx& t) { return gateway_health::list(t); });
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].state, "down");
  EXPECT_EQ((*list)[0].last_status, 408);
  EXPECT_FALSE(*tx([](Tx& t) { return remote_capabilities::prefers_g711(t, "+390297865403", 30); }));
  ASSERT_TRUE(tx([](Tx& t) { return remote_capabilities::mark_t38_failed(t, "+390297865403"); }));
  EXPECT_TRUE(*tx([](Tx& t) { return remote_capabilities::prefers_g711(t, "+390297865403", 30); }));
  // The memory lapses: a failure older than the setting's days no longer counts.
  {
    pqxx::connection c(dsn_);
    pqxx::work w(c);
    w.exec("UPDATE remote_capabilities SET t38_failed_at = now() - interval '31 days'");
    w.commit();
  }
  EXPECT_FALSE(*tx([](Tx& t) { return remote_capabilities::prefers_g711(t, "+390297865403", 30); }));
  EXPECT_TRUE(*tx([](Tx& t) { return remote_capabilities::prefers_g711(t, "+390297865403", 40); }));
}

TEST_F(Registry, WebhooksMatchTheirEvents) {
  ASSERT_TRUE(tx([](Tx& t) {
    return webhooks::create(t, {0, "https://hooks.example.test/all", "whsec_a", {}, std::nullopt});
  }));
  ASSERT_TRUE(tx([](Tx& t) {
    return webhooks::create(t, {0, "https://hooks.example.test/sent", "whsec_b", {"fax.sent", "fax.failed"}, std::nullopt});
  }));
  auto bad = tx([](Tx& t) { return webhooks::create(t, {0, "ftp://x", "s", {}, std::nullopt}); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(tx([](Tx& t) { return webhooks::for_event(t, "fax.sent", std::nullopt); })->size(), 2u);
  auto received = tx([](Tx& t) { return webhooks::for_event(t, "fax.received", std::nullopt); });
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ((*received)[0].url, "https://hooks.example.test/all");
  auto sent = tx([](Tx& t) { return webhooks::for_event(t, "fax.sent", std::nullopt); });
  EXPECT_EQ((*sent)[1].events, (std::vector<std::string>{"fax.sent", "fax.failed"}));
}

TEST_F(Registry, AMailIsRecordedAsIngestedOnce) {
  EXPECT_TRUE(*tx([](Tx& t) { return ingested_messages::record(t, "fax@example.test", "<m1@example.test>", {1, 2}, "jobs"); }));
  EXPECT_FALSE(*tx([](Tx& t) { return ingested_messages::record(t, "fax@example.test", "<m1@example.test>", {3}, "jobs"); }));
  EXPECT_TRUE(*tx([](Tx& t) { return ingested_messages::record(t, "other@example.test", "<m1@example.test>", {}, "refused"); }));
}

}  // namespace
}  // namespace faxbridge::db
