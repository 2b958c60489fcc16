// Webhook endpoints over HTTP (webhook_routes.cpp): the Standard Webhooks secret made by
// the server and shown once, the fixed set of events, rotation with an overlap the
// notifier signs through, and the endpoints the notifier will read (db::webhooks).
#include "admin_config_fixture.hpp"

#include <regex>

#include <sodium.h>

#include "faxbridge/core/secret_box.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/webhooks.hpp"
#include "faxbridge/webhook/signing.hpp"

namespace faxbridge::webapi::testing {
namespace {

// "whsec_" and the base64 of at least 24 random bytes (Standard Webhooks).
void expect_secret(const json& body) {
  ASSERT_TRUE(body.contains("secret")) << body.dump();
  const std::string s = body["secret"];
  ASSERT_EQ(s.rfind("whsec_", 0), 0u) << s;
  const std::string b64 = s.substr(6);
  unsigned char key[64];
  size_t len = 0;
  ASSERT_EQ(sodium_base642bin(key, sizeof key, b64.c_str(), b64.size(), nullptr, &len, nullptr,
                              sodium_base64_VARIANT_ORIGINAL),
            0)
      << s;
  EXPECT_GE(len, 24u);
}

using Webhooks = AdminConfigTest;

// A secret as the notifier opens it with the suite's key; "" when it does not open.
std::string open_stored(const std::string& stored) {
  const auto key = secret_box::Key::parse(testing_support::kTestSecretKey);
  if (!key) return "";
  auto plain = secret_box::open(*key, stored);
  return plain ? *plain : "";
}

TEST_F(Webhooks, CreateShowsTheSecretOnceAndTheNotifierFindsTheEndpoint) {
  auto r = admin_->post("/api/v1/admin/webhooks", {{"url", "https://hooks.example.test/fax"},
                                                   {"description", "ERP"},
                                                   {"events", {"fax.sent", "fax.failed", "fax.sent"}}});
  ASSERT_EQ(r.status, 201) << r.body;
  expect_secret(r.json);
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  const auto id = r.json["id"].get<std::int64_t>();
  EXPECT_EQ(r.header("Location"), "/api/v1/admin/webhooks/" + std::to_string(id));
  EXPECT_EQ(r.json["events"], json({"fax.sent", "fax.failed"})) << "duplicates dropped";
  EXPECT_EQ(r.json["enabled"], true);
  EXPECT_EQ(r.json["previous_secret_expires_at"], nullptr);
  const std::string secret = r.json["secret"];

  auto got = admin_->get("/api/v1/admin/webhooks/" + std::to_string(id));
  ASSERT_EQ(got.status, 200);
  EXPECT_FALSE(got.json.contains("secret"));
  EXPECT_EQ(got.body.find(secret.substr(6)), std::string::npos);
  auto list = admin_->get("/api/v1/admin/webhooks");
  ASSERT_EQ(list.json["webhooks"].size(), 1u);
  EXPECT_EQ(list.body.find(secret.substr(6)), std::string::npos);

  // What the notifier will read: subscribed events only, with the secret to sign with,
  // stored sealed under FAXBRIDGE_SECRET_KEY: a copy of the database cannot sign.
  auto sent = pool_.transact([](db::Tx& tx) { return db::webhooks::for_event(tx, "fax.sent", std::nullopt); });
  ASSERT_TRUE(sent);
  ASSERT_EQ(sent->size(), 1u);
  EXPECT_TRUE(secret_box::is_sealed((*sent)[0].secret)) << "the secret is stored sealed";
  EXPECT_EQ((*sent)[0].secret.find(secret.substr(6)), std::string::npos);
  EXPECT_EQ(open_stored((*sent)[0].secret), secret);
  auto received = pool_.transact([](db::Tx& tx) { return db::webhooks::for_event(tx, "fax.received", std::nullopt); });
  EXPECT_TRUE(received->empty());

  // No events: every event.
  auto all = admin_->post("/api/v1/admin/webhooks", {{"url", "http://10.0.0.5:8080/hook?src=fax"}});
  ASSERT_EQ(all.status, 201) << all.body;
  EXPECT_EQ(all.json["events"], json::array());
  EXPECT_NE(all.json["secret"], secret);
  received = pool_.transact([](db::Tx& tx) { return db::webhooks::for_event(tx, "fax.received", std::nullopt); });
  EXPECT_EQ(received->size(), 1u);

  auto rows = audit("webhook.create");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["details"].dump().find(secret.substr(6)), std::string::npos) << "the audit keeps no secret";
}

TEST_F(Webhooks, RotateMakesANewSecretAndKeepsTheOldOneForADay) {
  auto r = admin_->post("/api/v1/admin/webhooks", {{"url", "https://hooks.example.test/fax"}});
  ASSERT_EQ(r.status, 201);
  const auto path = "/api/v1/admin/webhooks/" + std::to_string(r.json["id"].get<std::int64_t>());
  const std::string old_secret = r.json["secret"];
  auto rotated = admin_->post(path + "/rotate-secret", json::object());
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  expect_secret(rotated.json);
  EXPECT_NE(rotated.json["secret"], old_secret);
  EXPECT_FALSE(rotated.json["previous_secret_expires_at"].is_null());
  auto stored = pool_.transact([&](db::Tx& tx) { return db::webhooks::get(tx, r.json["id"].get<std::int64_t>()); });
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(open_stored((*stored)->secret), rotated.json["secret"]);
  ASSERT_TRUE((*stored)->previous_secret);
  EXPECT_EQ(open_stored(*(*stored)->previous_secret), old_secret) << "the old secret stays sealed too";
  ASSERT_TRUE((*stored)->previous_secret_until);
  const auto overlap = *(*stored)->previous_secret_until - std::chrono::system_clock::now();
  EXPECT_GT(overlap, std::chrono::hours(23));
  EXPECT_LE(overlap, std::chrono::hours(24));
  EXPECT_EQ(audit("webhook.rotate_secret").size(), 1u);
  expect_problem(admin_->post("/api/v1/admin/webhooks/999999/rotate-secret", json::object()), 404, "webhook.not_found");
}

TEST_F(Webhooks, UpdateDeleteAndNotFound) {
  auto r = admin_->post("/api/v1/admin/webhooks", {{"url", "https://hooks.example.test/fax"}});
  const auto id = std::to_string(r.json["id"].get<std::int64_t>());
  auto u = admin_->patch("/api/v1/admin/webhooks/" + id, {{"url", "https://hooks.example.test/v2"},
                                                          {"events", {"fax.received"}},
                                                          {"enabled", false},
                                                          {"description", "inbox"}});
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(u.json["url"], "https://hooks.example.test/v2");
  EXPECT_EQ(u.json["events"], json({"fax.received"}));
  EXPECT_EQ(u.json["enabled"], false);
  EXPECT_EQ(u.json["description"], "inbox");
  EXPECT_FALSE(u.json.contains("secret"));
  auto none = pool_.transact([](db::Tx& tx) { return db::webhooks::for_event(tx, "fax.received", std::nullopt); });
  EXPECT_TRUE(none->empty()) << "a disabled endpoint gets nothing";
  EXPECT_EQ(audit("webhook.update").size(), 1u);
  ASSERT_EQ(admin_->del("/api/v1/admin/webhooks/" + id).status, 204);
  EXPECT_EQ(audit("webhook.delete").size(), 1u);
  for (const std::string missing : {id, std::string("999999"), std::string("x1")}) {
    expect_problem(admin_->get("/api/v1/admin/webhooks/" + missing), 404, "webhook.not_found");
    expect_problem(admin_->patch("/api/v1/admin/webhooks/" + missing, {{"enabled", true}}), 404, "webhook.not_found");
    expect_problem(admin_->del("/api/v1/admin/webhooks/" + missing), 404, "webhook.not_found");
  }
}

TEST_F(Webhooks, UrlsAndEventsAreValidated) {
  auto field_of = [](const json& p) { return p["errors"][0]["field"].get<std::string>(); };
  auto post = [&](json body) { return admin_->post("/api/v1/admin/webhooks", body); };
  for (const char* bad : {"ftp://hooks.example.test/", "hooks.example.test/fax", "https://", "https://user:pw@h.test/",
                          "https://h.test/a b", "javascript:alert(1)", "https://h.test:999999/"}) {
    EXPECT_EQ(field_of(expect_problem(post({{"url", bad}}), 422, "api.validation_failed")), "/url") << bad;
  }
  EXPECT_EQ(field_of(expect_problem(post(json::object()), 422, "api.validation_failed")), "/url");
  EXPECT_EQ(field_of(expect_problem(post({{"url", 5}}), 422, "api.validation_failed")), "/url");
  EXPECT_EQ(field_of(expect_problem(post({{"url", "https://h.test/" + std::string(2000, 'a')}}), 422,
                                    "api.validation_failed")),
            "/url");
  auto unknown_event = expect_problem(post({{"url", "https://h.test/"}, {"events", {"fax.sent", "fax.exploded"}}}), 422,
                                      "api.validation_failed");
  EXPECT_EQ(field_of(unknown_event), "/events");
  EXPECT_NE(unknown_event["errors"][0]["detail"].get<std::string>().find("fax.queued"), std::string::npos)
      << "the detail lists the events";
  EXPECT_EQ(field_of(expect_problem(post({{"url", "https://h.test/"}, {"events", "fax.sent"}}), 422,
                                    "api.validation_failed")),
            "/events");
  EXPECT_EQ(field_of(expect_problem(post({{"url", "https://h.test/"}, {"secret", "whsec_mine"}}), 422,
                                    "api.validation_failed")),
            "/secret")
      << "the server makes the secret";
  EXPECT_EQ(field_of(expect_problem(post({{"url", "https://h.test/"}, {"enabled", "yes"}}), 422, "api.validation_failed")),
            "/enabled");
  expect_problem(admin_->send("POST", "/api/v1/admin/webhooks", "url=https://h.test/", "text/plain"), 415,
                 "api.unsupported_media_type");
  expect_problem(admin_->send("POST", "/api/v1/admin/webhooks", "{\"url\":", "application/json"), 400,
                 "api.invalid_json");
  auto r = post({{"url", "https://h.test/"}});
  ASSERT_EQ(r.status, 201);
  const auto path = "/api/v1/admin/webhooks/" + std::to_string(r.json["id"].get<std::int64_t>());
  EXPECT_EQ(field_of(expect_problem(admin_->patch(path, {{"url", "mailto:a@b.test"}}), 422, "api.validation_failed")),
            "/url");
  EXPECT_TRUE(audit("webhook.update").empty());
  EXPECT_EQ(admin_->get("/api/v1/admin/webhooks").json["webhooks"].size(), 1u) << "refused creates wrote nothing";
}

TEST_F(Webhooks, AnEd25519EndpointShowsItsPublicKeyAndKeepsItsSigningKey) {
  auto r = admin_->post("/api/v1/admin/webhooks", {{"url", "https://hooks.example.test/pk"}, {"signing", "ed25519"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json["signing"], "ed25519");
  const std::string pk = r.json["public_key"];
  ASSERT_EQ(pk.rfind("whpk_", 0), 0u) << pk;
  const auto id = r.json["id"].get<std::int64_t>();
  auto got = admin_->get("/api/v1/admin/webhooks/" + std::to_string(id));
  EXPECT_EQ(got.json["public_key"], pk);
  auto stored = pool_.transact([&](db::Tx& tx) { return db::webhooks::get(tx, id); });
  ASSERT_TRUE(stored && *stored);
  ASSERT_TRUE((*stored)->signing_key);
  // Stored sealed under FAXBRIDGE_SECRET_KEY; opened, it is the pair of the public key shown.
  ASSERT_TRUE(secret_box::is_sealed(*(*stored)->signing_key)) << "the signing key is stored sealed";
  const auto key = secret_box::Key::parse(testing_support::kTestSecretKey);
  ASSERT_TRUE(key);
  auto plain = secret_box::open(*key, *(*stored)->signing_key);
  ASSERT_TRUE(plain) << plain.error().to_string();
  ASSERT_EQ(plain->rfind("whsk_", 0), 0u);
  auto sig = webhook::sign_v1a(*plain, "msg_1", 1796212800, "{}");
  ASSERT_TRUE(sig);
  unsigned char pk_bytes[crypto_sign_PUBLICKEYBYTES], sig_bytes[crypto_sign_BYTES];
  size_t len = 0;
  ASSERT_EQ(sodium_base642bin(pk_bytes, sizeof pk_bytes, pk.c_str() + 5, pk.size() - 5, nullptr, &len, nullptr,
                              sodium_base64_VARIANT_ORIGINAL), 0);
  ASSERT_EQ(sodium_base642bin(sig_bytes, sizeof sig_bytes, sig->c_str() + 4, sig->size() - 4, nullptr, &len, nullptr,
                              sodium_base64_VARIANT_ORIGINAL), 0);
  const std::string content = "msg_1.1796212800.{}";
  EXPECT_EQ(crypto_sign_verify_detached(sig_bytes, reinterpret_cast<const unsigned char*>(content.data()),
                                        content.size(), pk_bytes), 0)
      << "the sealed key signs for the public key shown";
  EXPECT_EQ(got.body.find(plain->substr(5, 20)), std::string::npos) << "the signing key is never shown";
  auto hmac = admin_->post("/api/v1/admin/webhooks", {{"url", "https://hooks.example.test/h"}});
  EXPECT_EQ(hmac.json["signing"], "hmac");
  EXPECT_EQ(hmac.json["public_key"], nullptr);
  expect_problem(admin_->post("/api/v1/admin/webhooks", {{"url", "https://h.test/"}, {"signing", "rsa"}}), 422,
                 "api.validation_failed");
}

class WebhooksWithoutKey : public AdminConfigTest {
 protected:
  WebhooksWithoutKey() { without_secret_key_ = true; }
};

TEST_F(WebhooksWithoutKey, AnEd25519EndpointIsRefusedSinceItsKeyCouldNotBeSealed) {
  auto p = expect_problem(
      admin_->post("/api/v1/admin/webhooks", {{"url", "https://hooks.example.test/pk"}, {"signing", "ed25519"}}), 409,
      "secret.key_missing");
  EXPECT_NE(p["detail"].get<std::string>().find("FAXBRIDGE_SECRET_KEY"), std::string::npos) << p["detail"];
  EXPECT_EQ(admin_->get("/api/v1/admin/webhooks").json["webhooks"].size(), 0u);
  EXPECT_EQ(admin_->post("/api/v1/admin/webhooks", {{"url", "https://hooks.example.test/h"}}).status, 201)
      << "an hmac endpoint needs no key";
  // Stored in clear then (the notifier seals it at its next delivery if it has the key).
  auto sent = pool_.transact([](db::Tx& tx) { return db::webhooks::for_event(tx, "fax.sent", std::nullopt); });
  ASSERT_TRUE(sent);
  ASSERT_EQ(sent->size(), 1u);
  EXPECT_EQ((*sent)[0].secret.rfind("whsec_", 0), 0u);
}

TEST_F(Webhooks, TheDeliveryLogPagesAndARedeliveryQueuesTheSameMessage) {
  auto r = admin_->post("/api/v1/admin/webhooks", {{"url", "https://hooks.example.test/log"}});
  const auto id = r.json["id"].get<std::int64_t>();
  const auto path = "/api/v1/admin/webhooks/" + std::to_string(id);
  // Three tries of one event, as the dispatcher logs them.
  std::vector<std::int64_t> deliveries;
  std::int64_t note = 0;
  ASSERT_TRUE(pool_.transact([&](db::Tx& tx) -> Result<void> {
    db::NewJob n;
    n.recipient_number = n.recipient_canonical = "+3902123";
    auto j = db::jobs::create(tx, n, "test");
    if (!j) return j.error();
    auto ids = db::webhook_events::for_job(tx, "fax.sent", j->id);
    if (!ids) return ids.error();
    note = ids->at(0);
    if (auto b = db::webhook_deliveries::store_body(tx, note, "msg_" + std::to_string(note), R"({"type":"fax.sent"})"); !b)
      return b;
    deliveries.clear();
    for (int i = 1; i <= 3; ++i) {
      db::WebhookDelivery d;
      d.notification_id = note;
      d.webhook_id = id;
      d.message_id = "msg_" + std::to_string(note);
      d.attempt = i;
      if (i < 3) {
        d.status = 503;
        d.error_code = "webhook.http_error";
        d.response_excerpt = "busy";
      } else {
        d.status = 200;
      }
      d.duration_ms = 12;
      auto did = db::webhook_deliveries::record(tx, d);
      if (!did) return did.error();
      deliveries.push_back(*did);
    }
    return ok();
  }));
  auto page = admin_->get(path + "/deliveries?limit=2");
  ASSERT_EQ(page.status, 200) << page.body;
  ASSERT_EQ(page.json["deliveries"].size(), 2u);
  EXPECT_EQ(page.json["deliveries"][0]["id"], deliveries[2]) << "newest first";
  EXPECT_EQ(page.json["deliveries"][0]["status"], 200);
  EXPECT_EQ(page.json["deliveries"][0]["error_code"], nullptr);
  EXPECT_EQ(page.json["deliveries"][0]["event"], "fax.sent");
  EXPECT_EQ(page.json["deliveries"][1]["error_code"], "webhook.http_error");
  ASSERT_TRUE(page.json["next_cursor"].is_string());
  auto rest = admin_->get(path + "/deliveries?limit=2&cursor=" + page.json["next_cursor"].get<std::string>());
  ASSERT_EQ(rest.status, 200) << rest.body;
  ASSERT_EQ(rest.json["deliveries"].size(), 1u);
  EXPECT_EQ(rest.json["deliveries"][0]["attempt"], 1);
  EXPECT_EQ(rest.json["deliveries"][0]["response_excerpt"], "busy");
  EXPECT_EQ(rest.json["next_cursor"], nullptr);

  auto again = admin_->post(path + "/deliveries/" + std::to_string(deliveries[0]) + "/redeliver", json::object());
  ASSERT_EQ(again.status, 202) << again.body;
  const auto copy = again.json["notification_id"].get<std::int64_t>();
  EXPECT_NE(copy, note);
  auto rows = sql("SELECT state, payload->>'message_id', payload->>'body', webhook_id FROM notifications WHERE id IN (" +
                  std::to_string(note) + ", " + std::to_string(copy) + ") ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][0].as<std::string>(), "pending");
  EXPECT_EQ(rows[1][1].as<std::string>(), rows[0][1].as<std::string>()) << "the same webhook-id";
  EXPECT_EQ(rows[1][2].as<std::string>(), rows[0][2].as<std::string>()) << "the same body";
  EXPECT_EQ(rows[1][3].as<std::int64_t>(), id);
  EXPECT_EQ(audit("webhook.redeliver").size(), 1u);

  expect_problem(admin_->post(path + "/deliveries/999999/redeliver", json::object()), 404,
                 "webhook.delivery_not_found");
  expect_problem(admin_->get("/api/v1/admin/webhooks/999999/deliveries"), 404, "webhook.not_found");
  ASSERT_EQ(admin_->patch(path, {{"enabled", false}}).status, 200);
  expect_problem(admin_->post(path + "/deliveries/" + std::to_string(deliveries[0]) + "/redeliver", json::object()), 409,
                 "webhook.endpoint_disabled");
}

TEST_F(Webhooks, AFaxUserManagesOnlyTheirOwnEndpointsWhichGetOnlyTheirFaxes) {
  auto mine = user_->post("/api/v1/webhooks", {{"url", "https://user.example.test/hook"}, {"events", {"fax.sent"}}});
  ASSERT_EQ(mine.status, 201) << mine.body;
  expect_secret(mine.json);
  EXPECT_EQ(mine.json["user_id"], user_id_);
  const auto id = mine.json["id"].get<std::int64_t>();
  EXPECT_EQ(mine.header("Location"), "/api/v1/webhooks/" + std::to_string(id));
  auto system = admin_->post("/api/v1/admin/webhooks", {{"url", "https://erp.example.test/hook"}});
  ASSERT_EQ(system.status, 201);
  EXPECT_EQ(system.json["user_id"], nullptr);
  const auto system_id = system.json["id"].get<std::int64_t>();

  auto listed = user_->get("/api/v1/webhooks");
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.json["webhooks"].size(), 1u) << "not the system-wide one";
  EXPECT_EQ(listed.json["webhooks"][0]["id"], id);
  EXPECT_EQ(admin_->get("/api/v1/admin/webhooks").json["webhooks"].size(), 2u) << "the administration sees both";
  EXPECT_TRUE(admin_->get("/api/v1/webhooks").json["webhooks"].empty()) << "the administrator's own: none";
  const auto other = "/api/v1/webhooks/" + std::to_string(system_id);
  expect_problem(user_->get(other), 404, "webhook.not_found");
  expect_problem(user_->patch(other, {{"enabled", false}}), 404, "webhook.not_found");
  expect_problem(user_->del(other), 404, "webhook.not_found");
  expect_problem(user_->post(other + "/rotate-secret", json::object()), 404, "webhook.not_found");
  expect_problem(user_->get(other + "/deliveries"), 404, "webhook.not_found");
  EXPECT_EQ(admin_->get("/api/v1/admin/webhooks/" + std::to_string(system_id)).json["enabled"], true);
  auto changed = user_->patch("/api/v1/webhooks/" + std::to_string(id), {{"events", {"fax.sent", "fax.failed"}}});
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.json["events"], json({"fax.sent", "fax.failed"}));

  // The user's faxes reach it; another sender's do not.
  auto job_of = [&](std::optional<std::int64_t> sender) {
    auto j = pool_.transact([&](db::Tx& tx) {
      db::NewJob n;
      n.recipient_number = n.recipient_canonical = "+3902123";
      n.sender_user_id = sender;
      return db::jobs::create(tx, n, "test");
    });
    EXPECT_TRUE(j);
    return j->id;
  };
  auto theirs = pool_.transact([&](db::Tx& tx) { return db::webhook_events::for_job(tx, "fax.sent", job_of(user_id_)); });
  ASSERT_TRUE(theirs);
  EXPECT_EQ(theirs->size(), 2u) << "the user's endpoint and the system-wide one";
  auto others = pool_.transact([&](db::Tx& tx) { return db::webhook_events::for_job(tx, "fax.sent", job_of(admin_id_)); });
  ASSERT_TRUE(others);
  EXPECT_EQ(others->size(), 1u) << "only the system-wide one";
  expect_problem(nofax_->get("/api/v1/webhooks"), 403, "api.forbidden");
  ASSERT_EQ(user_->del("/api/v1/webhooks/" + std::to_string(id)).status, 204);
}

TEST_F(Webhooks, OnlyAdministrators) {
  auto r = admin_->post("/api/v1/admin/webhooks", {{"url", "https://h.test/"}});
  const auto path = "/api/v1/admin/webhooks/" + std::to_string(r.json["id"].get<std::int64_t>());
  expect_admin_only("GET", "/api/v1/admin/webhooks");
  expect_admin_only("POST", "/api/v1/admin/webhooks", {{"url", "https://h.test/"}});
  expect_admin_only("GET", path);
  expect_admin_only("PATCH", path, {{"enabled", false}});
  expect_admin_only("DELETE", path);
  expect_admin_only("POST", path + "/rotate-secret");
  expect_admin_only("GET", path + "/deliveries");
  expect_admin_only("POST", path + "/deliveries/1/redeliver");
}

}  // namespace
}  // namespace faxbridge::webapi::testing
