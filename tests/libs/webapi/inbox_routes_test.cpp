// GET /api/v1/inbox, GET /inbox/{id}, POST /inbox/{id}/read and /unread over HTTP:
// received faxes stored and delivered as the gateway and router do, read back through
// the ApiClient (each reply checked against docs/api/openapi.yaml): order, filters,
// cursor pages, own-versus-other 404s, the administrator's views, the audit entries.
#include "inbox_fixture.hpp"

#include <set>

namespace faxbridge::webapi {
namespace {

using namespace testing_support;

class InboxRoutes : public InboxWorld {};

std::vector<std::int64_t> ids(const ApiReply& r) {
  std::vector<std::int64_t> out;
  for (const auto& f : r.json["faxes"]) out.push_back(f["id"].get<std::int64_t>());
  return out;
}

TEST_F(InboxRoutes, ListsTheCallersFaxesUnreadFirstThenNewest) {
  const auto old_fax = receive({alice_.id}, {.ago = 60min});
  const auto new_fax = receive({alice_.id}, {.ago = 5min});
  const auto read_fax = receive({alice_.id}, {.ago = 1min});
  receive({bob_.id}, {.to = "+390297865404"});  // not alice's
  ASSERT_EQ(alice_.api->post("/api/v1/inbox/" + std::to_string(read_fax.id) + "/read", nullptr).status, 200);

  auto r = alice_.api->get("/api/v1/inbox");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids(r), (std::vector<std::int64_t>{new_fax.id, old_fax.id, read_fax.id}));
  EXPECT_TRUE(r.json["next_cursor"].is_null());
  const auto& f = r.json["faxes"][0];
  EXPECT_EQ(f["reference"], new_fax.reference);
  EXPECT_EQ(f["direction"], "inbound");
  EXPECT_EQ(f["status"], "received");
  EXPECT_EQ(f["from"], "+4930123456");
  EXPECT_EQ(f["to"], "+390297865403");
  EXPECT_EQ(f["remote_station_id"], "SENDER TSI");
  EXPECT_EQ(f["pages"], 2);
  EXPECT_EQ(f["media"], "t38");
  EXPECT_EQ(f["read"], false);
  EXPECT_TRUE(f["read_at"].is_null());
  EXPECT_TRUE(f["via_group"].is_null());
  EXPECT_TRUE(f["failure"].is_null());
  EXPECT_EQ(r.json["faxes"][2]["read"], true);
}

TEST_F(InboxRoutes, PagesWithAnOpaqueCursorWithoutRepeatsOrGaps) {
  std::vector<std::int64_t> expected;
  for (int i = 0; i < 7; ++i) expected.insert(expected.begin(), receive({alice_.id}, {.ago = std::chrono::minutes(70 - i)}).id);
  std::vector<std::int64_t> seen;
  std::string path = "/api/v1/inbox?limit=3";
  for (int page = 0; page < 5; ++page) {
    auto r = alice_.api->get(path);
    ASSERT_EQ(r.status, 200) << r.body;
    for (auto id : ids(r)) seen.push_back(id);
    if (r.json["next_cursor"].is_null()) break;
    // A fax that arrives between two pages does not shift the next one.
    if (page == 0) receive({alice_.id}, {.ago = 0min});
    path = "/api/v1/inbox?limit=3&cursor=" + r.json["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(seen, expected);
}

TEST_F(InboxRoutes, FiltersByUnreadReferenceCallerAndTime) {
  const auto a = receive({alice_.id}, {.from = "+4940111222", .ago = 120min});
  const auto b = receive({alice_.id}, {.from = "+4930555666", .ago = 30min});
  ASSERT_EQ(alice_.api->post("/api/v1/inbox/" + std::to_string(a.id) + "/read", nullptr).status, 200);

  EXPECT_EQ(ids(alice_.api->get("/api/v1/inbox?unread=true")), std::vector<std::int64_t>{b.id});
  EXPECT_EQ(ids(alice_.api->get("/api/v1/inbox?unread=false")), std::vector<std::int64_t>{a.id});
  EXPECT_EQ(ids(alice_.api->get("/api/v1/inbox?reference=" + b.reference)), std::vector<std::int64_t>{b.id});
  EXPECT_EQ(ids(alice_.api->get("/api/v1/inbox?reference=2026.")).size(), 2u);
  EXPECT_EQ(ids(alice_.api->get("/api/v1/inbox?from=4940111")), std::vector<std::int64_t>{a.id});
  const std::string hour_ago = iso8601_utc(clock_.now() - 60min);
  EXPECT_EQ(ids(alice_.api->get("/api/v1/inbox?received_after=" + hour_ago)), std::vector<std::int64_t>{b.id});
  EXPECT_EQ(ids(alice_.api->get("/api/v1/inbox?received_before=" + hour_ago)), std::vector<std::int64_t>{a.id});
  EXPECT_TRUE(ids(alice_.api->get("/api/v1/inbox?received_after=" + hour_ago + "&from=4940")).empty());
  // The same moment with an offset (RFC 3339), "+" escaped in the query.
  std::string shifted = iso8601_utc(clock_.now() - 60min + 2h);
  shifted = shifted.substr(0, shifted.size() - 1) + "%2B02:00";
  EXPECT_EQ(ids(alice_.api->get("/api/v1/inbox?received_after=" + shifted)), std::vector<std::int64_t>{b.id});
  expect_problem(alice_.api->get("/api/v1/inbox?received_after=2026-02-30T00:00:00Z"), 422, "api.validation_failed");
}

TEST_F(InboxRoutes, RefusesBadQueryParametersAndCursors) {
  auto r = alice_.api->get("/api/v1/inbox?limit=0&unread=maybe&received_after=yesterday&from=abc&reference=x");
  auto p = expect_problem(r, 422, "api.validation_failed");
  std::set<std::string> fields;
  for (const auto& e : p["errors"]) fields.insert(e["field"].get<std::string>());
  EXPECT_EQ(fields, (std::set<std::string>{"limit", "unread", "received_after", "from", "reference"}));
  expect_problem(alice_.api->get("/api/v1/inbox?limit=201"), 422, "api.validation_failed");
  expect_problem(alice_.api->get("/api/v1/inbox?cursor=bm90LWEtY3Vyc29y"), 400, "api.cursor_invalid");
  expect_problem(alice_.api->get("/api/v1/inbox?cursor=%25%25%25"), 400, "api.cursor_invalid");
}

TEST_F(InboxRoutes, AFaxToAnotherUserIsNotFoundLikeAMissingOne) {
  const auto bobs = receive({bob_.id}, {.to = "+390297865404"});
  const std::string path = "/api/v1/inbox/" + std::to_string(bobs.id);
  auto other = expect_problem(alice_.api->get(path), 404, "inbox.not_found");
  auto missing = expect_problem(alice_.api->get("/api/v1/inbox/999999"), 404, "inbox.not_found");
  EXPECT_EQ(other["detail"].get<std::string>().find("999999"), std::string::npos);
  expect_problem(alice_.api->get("/api/v1/inbox/abc"), 404, "inbox.not_found");
  expect_problem(alice_.api->post(path + "/read", nullptr), 404, "inbox.not_found");
  expect_problem(alice_.api->post(path + "/unread", nullptr), 404, "inbox.not_found");
  // Bob's fax stayed unread.
  auto r = bob_.api->get(path);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["read"], false);
  EXPECT_EQ(r.json["id"], bobs.id);
}

TEST_F(InboxRoutes, MarksReadAndUnreadIdempotentlyAndAudits) {
  const auto fax = receive({alice_.id});
  const std::string path = "/api/v1/inbox/" + std::to_string(fax.id);
  auto r = alice_.api->post(path + "/read", nullptr);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["read"], true);
  const auto first_read = r.json["read_at"].get<std::string>();
  clock_.advance(1h);
  r = alice_.api->post(path + "/read", nullptr);
  EXPECT_EQ(r.json["read_at"], first_read) << "read again keeps the first time";
  r = alice_.api->post(path + "/unread", nullptr);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["read"], false);
  EXPECT_TRUE(r.json["read_at"].is_null());
  EXPECT_EQ(alice_.api->get(path).json["read"], false);
  EXPECT_EQ(sql_value("SELECT count(*) FROM audit_events WHERE action IN ('inbox.read', 'inbox.unread') "
                      "AND object_id = '" + std::to_string(fax.id) + "' AND actor = 'alice'"),
            "3");
}

TEST_F(InboxRoutes, AGroupFaxShowsItsGroupAndEachMemberReadsApart) {
  sql("INSERT INTO groups (name, fax_number) VALUES ('Sales', '+390297865499')");
  const auto group = std::stoll(sql_value("SELECT id FROM groups WHERE name = 'Sales'"));
  const auto fax = receive({alice_.id, bob_.id}, {.to = "+390297865499"}, group);
  auto r = alice_.api->post("/api/v1/inbox/" + std::to_string(fax.id) + "/read", nullptr);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["via_group"], json({{"id", group}, {"name", "Sales"}}));
  r = bob_.api->get("/api/v1/inbox/" + std::to_string(fax.id));
  EXPECT_EQ(r.json["read"], false) << "alice's reading is hers";
}

TEST_F(InboxRoutes, AFailedCallShowsItsFailure) {
  const auto fax = receive({alice_.id}, {.pages = 1, .error_code = "fax.call_dropped", .t30_text = "Unexpected DCN"});
  auto r = alice_.api->get("/api/v1/inbox/" + std::to_string(fax.id));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["failure"], json({{"code", "fax.call_dropped"}, {"detail", "Unexpected DCN"}}));
}

TEST_F(InboxRoutes, AnAdministratorReadsAnyInboxOrAllFaxes) {
  const auto alices = receive({alice_.id}, {.ago = 20min});
  const auto bobs = receive({bob_.id}, {.to = "+390297865404", .ago = 10min});
  const auto nobodys = receive({}, {.to = "+390297865400", .ago = 5min});
  ASSERT_EQ(bob_.api->post("/api/v1/inbox/" + std::to_string(bobs.id) + "/read", nullptr).status, 200);

  EXPECT_TRUE(ids(admin_.api->get("/api/v1/inbox")).empty()) << "their own inbox by default";
  EXPECT_EQ(ids(admin_.api->get("/api/v1/inbox?user=" + std::to_string(alice_.id))),
            std::vector<std::int64_t>{alices.id});
  auto all = admin_.api->get("/api/v1/inbox?all=true");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(ids(all), (std::vector<std::int64_t>{nobodys.id, alices.id, bobs.id}));
  EXPECT_EQ(all.json["faxes"][2]["read"], true) << "read by a recipient";

  auto one = admin_.api->get("/api/v1/inbox/" + std::to_string(bobs.id));
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.json["read"], true);
  // Marking needs an inbox: the administrator's own, or the one named.
  expect_problem(admin_.api->post("/api/v1/inbox/" + std::to_string(alices.id) + "/read", nullptr), 404,
                 "inbox.not_found");
  auto marked = admin_.api->post(
      "/api/v1/inbox/" + std::to_string(alices.id) + "/read?user=" + std::to_string(alice_.id), nullptr);
  ASSERT_EQ(marked.status, 200) << marked.body;
  EXPECT_EQ(alice_.api->get("/api/v1/inbox/" + std::to_string(alices.id)).json["read"], true);

  expect_problem(admin_.api->get("/api/v1/inbox?user=999999"), 404, "user.not_found");
  expect_problem(admin_.api->get("/api/v1/inbox?user=1&all=true"), 422, "api.validation_failed");
}

TEST_F(InboxRoutes, AFaxUserCannotReadAnotherInboxAndLevelZeroNone) {
  receive({bob_.id}, {.to = "+390297865404"});
  expect_problem(alice_.api->get("/api/v1/inbox?user=" + std::to_string(bob_.id)), 403, "api.forbidden");
  expect_problem(alice_.api->get("/api/v1/inbox?all=true"), 403, "api.forbidden");
  auto own = alice_.api->get("/api/v1/inbox?user=" + std::to_string(alice_.id));
  EXPECT_EQ(own.status, 200) << "naming oneself is fine";
  expect_problem(zero_.api->get("/api/v1/inbox"), 403, "api.forbidden");
  expect_problem(zero_.api->get("/api/v1/inbox/1"), 403, "api.forbidden");
  expect_problem(zero_.api->post("/api/v1/inbox/1/read", nullptr), 403, "api.forbidden");
  ApiClient nobody(port_);
  expect_problem(nobody.get("/api/v1/inbox"), 401, "api.unauthenticated");
  expect_problem(nobody.post("/api/v1/inbox/1/unread", nullptr), 401, "api.unauthenticated");
}

TEST_F(InboxRoutes, MarkingTakesNoBodyAndRefusesALargeOne) {
  const auto fax = receive({alice_.id});
  const std::string path = "/api/v1/inbox/" + std::to_string(fax.id) + "/read";
  EXPECT_EQ(alice_.api->send("POST", path, "{}", "application/json").status, 200) << "a small body is ignored";
  expect_problem(alice_.api->send("POST", path, std::string(64 << 10, 'x'), "text/plain"), 413, "api.body_too_large");
  EXPECT_EQ(alice_.api->get("/api/v1/inbox/" + std::to_string(fax.id)).status, 200) << "still serving";
}

}  // namespace
}  // namespace faxbridge::webapi
