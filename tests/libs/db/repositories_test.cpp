#include <gtest/gtest.h>

#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/routes.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::db {
namespace {

class Repositories : public ::testing::Test {
 protected:
  Pool pool_{PoolSettings{testing::migrated_database("repo"), 2}};

  template <typename F>
  auto tx(F&& f) {
    return pool_.transact(std::forward<F>(f));
  }
};

User bianchi() {
  User u;
  u.username = "cbianchi";
  u.display_name = "Christian Bianchi";
  u.email = "c.bianchi@example.com";
  u.fax_number = "403";
  u.phone_number = "303";
  u.enable_fax_to_email = true;
  u.fax_to_email_address = "c.bianchi@example.com";
  u.language = "it";
  u.cover_page_name = "urgent";
  return u;
}

TEST_F(Repositories, UsersKeepEveryFieldTheSeedNames) {
  auto created = tx([](Tx& t) { return users::create(t, bianchi()); });
  ASSERT_TRUE(created) << created.error().to_string();
  auto u = tx([&](Tx& t) { return users::get(t, created->id); });
  ASSERT_TRUE(u);
  EXPECT_EQ(u->fax_number, "403");
  EXPECT_EQ(u->phone_number, "303");
  EXPECT_TRUE(u->enable_receive);
  EXPECT_TRUE(u->enable_send);
  EXPECT_TRUE(u->enable_fax_to_email);
  EXPECT_TRUE(u->attach_fax);
  EXPECT_EQ(u->cover_page_name, "urgent");
  EXPECT_EQ(u->language, "it");
  EXPECT_EQ(u->permission_level, kPermissionFaxUser);
  auto by_fax = tx([](Tx& t) { return users::by_fax_number(t, "403"); });
  ASSERT_TRUE(by_fax && by_fax->has_value());
  EXPECT_EQ((*by_fax)->username, "cbianchi");
  auto by_name = tx([](Tx& t) { return users::by_username(t, "CBianchi"); });
  ASSERT_TRUE(by_name);  // usernames are case-insensitive
}

TEST_F(Repositories, UsersRefuseDuplicatesAndBadFieldsWithASentence) {
  ASSERT_TRUE(tx([](Tx& t) { return users::create(t, bianchi()); }));
  auto again = tx([](Tx& t) { return users::create(t, bianchi()); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::k_user_exists);
  User other = bianchi();
  other.username = "other";
  auto same_fax = tx([&](Tx& t) { return users::create(t, other); });
  ASSERT_FALSE(same_fax);
  EXPECT_NE(same_fax.error().message.find("fax number 403"), std::string::npos);
  other.fax_number.reset();
  other.own_permission_level = 11;
  auto bad = tx([&](Tx& t) { return users::create(t, other); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::k_user_invalid);
  auto missing = tx([](Tx& t) { return users::get(t, 999999); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::k_user_not_found);
}

TEST_F(Repositories, GroupsListTheirMembers) {
  auto r = tx([](Tx& t) -> Result<std::vector<std::int64_t>> {
    auto a = users::create(t, bianchi());
    User b = bianchi();
    b.username = "rossi";
    b.fax_number = "404";
    auto bb = users::create(t, b);
    auto g = groups::create(t, "sales", "499");
    if (!a || !bb || !g) return Error(Code::k_internal, "setup");
    (void)groups::add_member(t, g->id, a->id);
    (void)groups::add_member(t, g->id, bb->id);
    (void)groups::add_member(t, g->id, bb->id);  // twice is once
    auto found = groups::by_fax_number(t, "499");
    return groups::members(t, (*found)->id);
  });
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->size(), 2u);
}

TEST_F(Repositories, RoutesMatchTheLongestPrefixThenTheDefault) {
  ASSERT_TRUE(tx([](Tx& t) -> Result<void> {
    Route d;
    d.is_default = true;
    d.gateways = {{"pbx.example.test"}};
    Route r06;
    r06.prefix = "06";
    r06.gateways = {{"gw-rome-1.example.test"}, {"gw-rome-2.example.test", "tcp"}};
    Route r0612;
    r0612.prefix = "0612";
    r0612.gateways = {{"gw-special.example.test"}};
    for (const auto& r : {d, r06, r0612}) {
      auto c = routes::create(t, r);
      if (!c) return c.error();
    }
    return ok();
  }));
  auto m = tx([](Tx& t) { return routes::match(t, "06123456"); });
  ASSERT_TRUE(m && m->has_value());
  EXPECT_EQ((*m)->prefix, "0612");
  m = tx([](Tx& t) { return routes::match(t, "0655555"); });
  ASSERT_TRUE(m && m->has_value());
  EXPECT_EQ((*m)->prefix, "06");
  ASSERT_EQ((*m)->gateways.size(), 2u);
  EXPECT_EQ((*m)->gateways[1].address, "gw-rome-2.example.test");
  EXPECT_EQ((*m)->gateways[1].transport, "tcp");
  m = tx([](Tx& t) { return routes::match(t, "0299"); });
  ASSERT_TRUE(m && m->has_value());
  EXPECT_TRUE((*m)->is_default);
  auto dup = tx([](Tx& t) {
    Route d;
    d.is_default = true;
    return routes::create(t, d);
  });
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "A default route already exists.");
}

TEST_F(Repositories, NoDefaultRouteMeansNoMatch) {
  auto m = tx([](Tx& t) { return routes::match(t, "0299"); });
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->has_value());
}

TEST_F(Repositories, SettingsAreTypedAndVersioned) {
  auto snap = tx([](Tx& t) { return settings::load(t); });
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->get_int("fax.max_attempts"), 3);  // the catalog default
  EXPECT_EQ(snap->get_string("incoming.attachment_format"), "pdf");
  auto v1 = tx([](Tx& t) { return settings::set(t, "fax.max_attempts", "5"); });
  ASSERT_TRUE(v1);
  auto v2 = tx([](Tx& t) { return settings::set(t, "incoming.attachment_format", "\"tif\""); });
  ASSERT_TRUE(v2);
  EXPECT_GT(*v2, *v1);
  snap = tx([](Tx& t) { return settings::load(t); });
  EXPECT_EQ(snap->get_int("fax.max_attempts"), 5);
  EXPECT_EQ(snap->version, *v2);
  auto bad = tx([](Tx& t) { return settings::set(t, "fax.max_attempts", "0"); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::k_setting_invalid);
  EXPECT_NE(bad.error().message.find("an integer from 1 to 100"), std::string::npos);
  bad = tx([](Tx& t) { return settings::set(t, "incoming.attachment_format", "\"doc\""); });
  ASSERT_FALSE(bad);
  bad = tx([](Tx& t) { return settings::set(t, "no.such.key", "1"); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::k_setting_unknown);
  bad = tx([](Tx& t) { return settings::set(t, "company.admin_email", "\"nobody\""); });
  ASSERT_FALSE(bad);
}

TEST_F(Repositories, DocumentsKeepTheirBytesExactly) {
  std::string bytes;
  for (int i = 0; i < 70000; ++i) bytes += static_cast<char>(i * 7);
  auto put = tx([&](Tx& t) {
    Document d;
    d.kind = "upload";
    d.media_type = "application/pdf";
    d.filename = "letter.pdf";
    d.bytes = bytes;
    return documents::put(t, d);
  });
  ASSERT_TRUE(put) << put.error().to_string();
  EXPECT_EQ(put->sha256_hex.size(), 64u);
  auto got = tx([&](Tx& t) { return documents::get(t, put->id); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->bytes, bytes);
  EXPECT_EQ(got->sha256_hex, put->sha256_hex);
}

TEST_F(Repositories, JobsMoveOnlyFromTheExpectedStateAndRecordEvents) {
  auto job = tx([](Tx& t) {
    NewJob n;
    n.recipient_number = "+39 02 9786 5403";
    n.recipient_canonical = "+390297865403";
    n.subject = "Offer";
    return jobs::create(t, n, "test");
  });
  ASSERT_TRUE(job) << job.error().to_string();
  EXPECT_EQ(job->state, "submitted");
  auto moved = tx([&](Tx& t) { return jobs::transition(t, job->id, "submitted", "converting", "conv-1"); });
  ASSERT_TRUE(moved);
  auto stale = tx([&](Tx& t) { return jobs::transition(t, job->id, "submitted", "converting", "conv-2"); });
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Code::k_db_conflict);
  auto failed = tx([&](Tx& t) {
    return jobs::transition(t, job->id, "converting", "failed", "conv-1",
                            Error(Code::k_io_failed, "The PDF is broken."));
  });
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->error_code, "io.failed");
  auto ev = tx([&](Tx& t) { return jobs::events(t, job->id); });
  ASSERT_TRUE(ev);
  ASSERT_EQ(ev->size(), 3u);
  EXPECT_FALSE((*ev)[0].from_state.has_value());
  EXPECT_EQ((*ev)[2].to_state, "failed");
  EXPECT_EQ((*ev)[2].error_code, "io.failed");
}

TEST_F(Repositories, AttemptsInboxNotificationsAndAuditRecordTheirRows) {
  auto r = tx([](Tx& t) -> Result<void> {
    NewJob n;
    n.recipient_number = n.recipient_canonical = "403";
    auto job = jobs::create(t, n, "test");
    auto a1 = attempts::open(t, {job->id, "gw-1", std::nullopt, "pbx", "403"});
    auto a2 = attempts::open(t, {job->id, "gw-1", std::nullopt, "pbx", "403"});
    if (!a1 || !a2) return Error(Code::k_internal, "open");
    AttemptEnd end;
    end.outcome = db::Outcome::kBusy;
    end.sip_status = 486;
    end.retryable = true;
    auto closed = attempts::close(t, *a1, end);
    auto closed_again = attempts::close(t, *a1, end);
    if (!*closed || *closed_again) return Error(Code::k_internal, "close once");
    auto j = jobs::get(t, job->id);
    if (j->attempts != 2) return Error(Code::k_internal, "attempt count");

    auto u = users::create(t, bianchi());
    ReceivedFax f;
    f.reference = "2026.00000001";
    f.called_number = "403";
    f.pages = 2;
    auto rf = received::create(t, f);
    if (!rf) return rf.error();
    if (!*inbox::deliver(t, *rf, u->id) || *inbox::deliver(t, *rf, u->id)) {
      return Error(Code::k_internal, "deliver once");
    }
    if (inbox::for_user(t, u->id)->size() != 1) return Error(Code::k_internal, "inbox");
    NewNotification note;
    note.kind = "fax_to_email";
    note.channel = "email";
    note.recipient = "c.bianchi@example.com";
    note.received_fax_id = *rf;
    if (!notifications::enqueue(t, note)) return Error(Code::k_internal, "enqueue");
    if (!audit::record(t, {u->id, "cbianchi", "user.create", "user", "1", R"({"via":"test"})"})) {
      return Error(Code::k_internal, "audit");
    }
    return ok();
  });
  ASSERT_TRUE(r) << r.error().to_string();
}

// The gateway writes an Outcome, the router reads it back: every value must pass the
// attempts table's CHECK and read back as itself.
TEST_F(Repositories, EveryOutcomeIsStoredOnAnAttemptAndReadBackAsItself) {
  const Outcome all[] = {Outcome::kSent,     Outcome::kPartiallySent, Outcome::kBusy,      Outcome::kNoAnswer,
                         Outcome::kRejected, Outcome::kFailed,        Outcome::kCancelled, Outcome::kInterrupted};
  for (Outcome o : all) {
    auto read = tx([&](Tx& t) -> Result<std::optional<Outcome>> {
      NewJob n;
      n.recipient_number = n.recipient_canonical = "403";
      auto job = jobs::create(t, n, "test");
      if (!job) return job.error();
      auto a = attempts::open(t, {job->id, "gw-1", std::nullopt, "pbx", "403"});
      if (!a) return a.error();
      AttemptEnd end;
      end.outcome = o;
      auto closed = attempts::close(t, *a, end);
      if (!closed) return closed.error();
      auto records = attempts::for_job(t, job->id);
      if (!records) return records.error();
      return records->at(0).outcome;
    });
    ASSERT_TRUE(read) << outcome_name(o) << ": " << read.error().to_string();
    EXPECT_EQ(*read, o) << outcome_name(o);
    EXPECT_EQ(parse_outcome(outcome_name(o)), o);
  }
  EXPECT_FALSE(parse_outcome("SENT").has_value());
  EXPECT_FALSE(parse_outcome("").has_value());
}

}  // namespace
}  // namespace faxbridge::db
