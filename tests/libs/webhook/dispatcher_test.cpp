// The Dispatcher against a real PostgreSQL and a real HTTP receiver in Python
// (receiver.py) that verifies every Standard Webhooks signature with its own code
// (hmac/hashlib/base64, PyNaCl) and records what it got. The bodies carry signed
// download links (data.links), never a fax's bytes; Ed25519 signing keys are stored sealed.
// DispatcherHttpsTest: the same receiver serving HTTPS with certificates of a private CA
// made by the test (openssl), an unknown issuer and a wrong host name.
#include "faxbridge/webhook/dispatcher.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "faxbridge/core/secret_box.hpp"
#include "faxbridge/core/signed_link.hpp"
#include "faxbridge/db/conversion.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/inbox.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/db/webhooks.hpp"
#include "faxbridge/testing/process.hpp"
#include "faxbridge/testing/sql.hpp"
#include "faxbridge/testing/test_ca.hpp"
#include "faxbridge/webhook/signing.hpp"

namespace faxbridge::webhook {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using faxbridge::testing::eventually;

constexpr const char* kSecret = "whsec_ZmF4YnJpZGdlLXdlYmhvb2stdGVzdC1rZXktMzJieXQ=";
constexpr const char* kNewSecret = "whsec_YW5vdGhlci1zZWNyZXQtZm9yLXJvdGF0aW9uLTAwMDE=";

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = db::testing::migrated_database("webhook");
    pool_ = std::make_unique<db::Pool>(db::PoolSettings{dsn_, 8});
    queue_ = std::make_unique<db::Queue>(*pool_, db::notification_queue(), "notifier-test");
    dir_ = std::filesystem::temp_directory_path() / ("faxbridge-receiver-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    keys_ = json::object();
    write_keys();
    std::vector<std::string> args{FAXBRIDGE_WEBHOOK_RECEIVER, dir_.string()};
    for (auto& a : receiver_args()) args.push_back(std::move(a));
    receiver_ = std::make_unique<faxbridge::testing::Child>("/usr/bin/python3", args);
    ASSERT_TRUE(eventually([&] { return std::filesystem::exists(dir_ / "port"); }, 20s)) << "the receiver did not start";
    std::ifstream(dir_ / "port") >> port_;
    allow_private(true);  // the receiver is on loopback
    set("company.admin_email", "\"fax-admin@example.test\"");
    auto u = pool_->transact([](db::Tx& tx) {
      db::User u;
      u.username = "alice";
      u.email = "alice@example.test";
      return db::users::create(tx, u);
    });
    ASSERT_TRUE(u) << u.error().to_string();
    alice_ = u->id;
  }
  void TearDown() override {
    receiver_.reset();
    std::filesystem::remove_all(dir_);
  }

  // More arguments for receiver.py (its HTTPS servers).
  virtual std::vector<std::string> receiver_args() { return {}; }
  pqxx::result sql(const std::string& q) { return faxbridge::testing::committed_sql(dsn_, q); }
  void set(const std::string& key, const std::string& value) {
    auto r = pool_->transact([&](db::Tx& tx) { return db::settings::set(tx, key, value); });
    ASSERT_TRUE(r) << r.error().to_string();
  }
  // Stored as its row (the catalog may not have the key yet: db::webhook_deliveries).
  void allow_private(bool on) {
    sql("INSERT INTO settings (key, value) VALUES ('webhooks.allow_private_addresses', '" +
        std::string(on ? "true" : "false") + "') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value");
  }
  void write_keys() {
    std::ofstream(dir_ / "keys.json.tmp") << keys_.dump();
    std::filesystem::rename(dir_ / "keys.json.tmp", dir_ / "keys.json");
  }
  std::string url(const std::string& path) { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  db::WebhookEndpoint endpoint(const std::string& path, const std::string& secret = kSecret,
                               std::optional<Ed25519Keys> ed = std::nullopt) {
    return endpoint_at(url(path), secret, ed);
  }
  db::WebhookEndpoint endpoint_at(const std::string& full_url, const std::string& secret = kSecret,
                                  std::optional<Ed25519Keys> ed = std::nullopt) {
    db::WebhookEndpoint w;
    w.url = full_url;
    w.secret = secret;
    if (ed) {
      w.signing = "ed25519";
      w.public_key = ed->public_key;
      w.signing_key = ed->signing_key;
    }
    auto r = pool_->transact([&](db::Tx& tx) { return db::webhooks::create(tx, w); });
    EXPECT_TRUE(r) << r.error().to_string();
    return *r;
  }
  std::int64_t job() {
    auto j = pool_->transact([&](db::Tx& tx) {
      db::NewJob n;
      n.recipient_number = "+390212345678";
      n.recipient_canonical = "+390212345678";
      n.sender_user_id = alice_;
      n.subject = "Invoice 7";
      return db::jobs::create(tx, n, "test");
    });
    EXPECT_TRUE(j) << j.error().to_string();
    return j->id;
  }
  // The event's rows (one per subscribed endpoint), as the router writes them.
  std::vector<std::int64_t> event(const std::string& type, std::int64_t job_id) {
    auto ids = pool_->transact([&](db::Tx& tx) { return db::webhook_events::for_job(tx, type, job_id); });
    EXPECT_TRUE(ids) << ids.error().to_string();
    return *ids;
  }
  // Claims the row as the notifier's consumer would and hands it to the dispatcher.
  void deliver(Dispatcher& d, std::int64_t id) {
    auto c = queue_->claim(id);
    ASSERT_TRUE(c) << c.error().to_string();
    ASSERT_TRUE(c->has_value()) << "notification " << id << " was not claimable";
    bus::LeaseToken lease;
    auto r = d.handle(**c, lease);
    ASSERT_TRUE(r) << r.error().to_string();
  }
  std::vector<json> received() {
    std::vector<json> out;
    std::ifstream in(dir_ / "log.jsonl");
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }
  std::string row(std::int64_t id, const std::string& column) {
    auto f = sql("SELECT " + column + "::text FROM notifications WHERE id = " + std::to_string(id))[0][0];
    return f.is_null() ? "(null)" : f.as<std::string>();
  }
  // A notifier without FAXBRIDGE_SECRET_KEY cannot open a sealed secret or key: the
  // delivery fails saying what to set, and nothing unsigned goes out.
  void expect_keyless_delivery_refused() {
    const auto before = received().size();
    Dispatcher keyless(*pool_, *queue_, fast());
    const auto id = event("fax.sent", job())[0];
    deliver(keyless, id);
    EXPECT_EQ(row(id, "state"), "failed");
    EXPECT_EQ(row(id, "error_code"), "secret.key_missing");
    EXPECT_NE(row(id, "last_error").find("FAXBRIDGE_SECRET_KEY"), std::string::npos);
    EXPECT_EQ(received().size(), before) << "nothing unsigned was sent";
  }
  DispatcherSettings fast() {
    DispatcherSettings s;
    s.backoff = std::vector<std::chrono::milliseconds>(7, 0ms);
    s.jitter = 0;
    return s;
  }

  std::string dsn_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<db::Queue> queue_;
  std::filesystem::path dir_;
  json keys_;
  std::unique_ptr<faxbridge::testing::Child> receiver_;
  int port_ = 0;
  std::int64_t alice_ = 0;
};

TEST_F(DispatcherTest, AFaxEventIsDeliveredSignedAndVerifiedByTheReceiver) {
  endpoint("/ok/1");
  keys_["/ok/1"] = {{"secret", kSecret}};
  write_keys();
  const auto j = job();
  auto ids = event("fax.sent", j);
  ASSERT_EQ(ids.size(), 1u);
  Dispatcher d(*pool_, *queue_, fast());
  deliver(d, ids[0]);
  EXPECT_EQ(row(ids[0], "state"), "sent");
  EXPECT_EQ(row(ids[0], "attempts"), "1");
  EXPECT_NE(row(ids[0], "sent_at"), "(null)");
  auto got = received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0]["verified"].get<bool>()) << got[0].dump();
  EXPECT_EQ(got[0]["id"], "msg_" + std::to_string(ids[0]));
  EXPECT_EQ(got[0]["content_type"], "application/json");
  const std::string sig = got[0]["signature"];
  EXPECT_EQ(sig.rfind("v1,", 0), 0u);
  EXPECT_EQ(sig.find(' '), std::string::npos) << "one secret, one signature";
  auto body = json::parse(got[0]["body"].get<std::string>());
  EXPECT_EQ(body["type"], "fax.sent");
  EXPECT_TRUE(body["timestamp"].is_string());
  EXPECT_EQ(body["data"]["id"], j);
  EXPECT_EQ(body["data"]["direction"], "outbound");
  EXPECT_EQ(body["data"]["subject"], "Invoice 7");
  EXPECT_EQ(body["data"]["sender"]["username"], "alice");
  // The body as sent is the one stored for retries and redeliveries, plus this try's
  // links (null: the fax has no pages yet, and this dispatcher has no key).
  EXPECT_EQ(body["data"]["links"], nullptr);
  body["data"].erase("links");
  EXPECT_EQ(sql("SELECT payload->>'body' FROM notifications WHERE id = " + std::to_string(ids[0]))[0][0].as<std::string>(),
            body.dump());
  auto log = sql("SELECT status, attempt, error_code IS NULL, message_id FROM webhook_deliveries WHERE notification_id = " +
                 std::to_string(ids[0]));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0][0].as<int>(), 200);
  EXPECT_EQ(log[0][1].as<int>(), 1);
  EXPECT_TRUE(log[0][2].as<bool>());
  EXPECT_EQ(log[0][3].as<std::string>(), "msg_" + std::to_string(ids[0]));
}

TEST_F(DispatcherTest, DuringARotationBothSecretsSignAndAReceiverKnowingOnlyTheNewOneVerifies) {
  auto w = endpoint("/ok/rotated", kSecret);
  auto r = pool_->transact([&](db::Tx& tx) { return db::webhooks::rotate_secret(tx, w.id, kNewSecret, 24h); });
  ASSERT_TRUE(r && *r);
  keys_["/ok/rotated"] = {{"secret", kNewSecret}};
  write_keys();
  auto ids = event("fax.queued", job());
  Dispatcher d(*pool_, *queue_, fast());
  deliver(d, ids[0]);
  auto got = received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0]["verified"].get<bool>()) << got[0].dump();
  const std::string sig = got[0]["signature"];
  ASSERT_NE(sig.find(' '), std::string::npos) << sig;
  EXPECT_EQ(sig.substr(sig.find(' ') + 1).rfind("v1,", 0), 0u) << sig;

  // After the overlap only the new secret signs: a receiver that kept the old one fails.
  sql("UPDATE webhook_endpoints SET previous_secret_until = now() - interval '1 second' WHERE id = " +
      std::to_string(w.id));
  keys_["/ok/rotated"] = {{"secret", kSecret}};
  write_keys();
  ids = event("fax.queued", job());
  deliver(d, ids[0]);
  got = received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[1]["verified"].get<bool>()) << "the old secret no longer signs";
  EXPECT_EQ(got[1]["signature"].get<std::string>().find(' '), std::string::npos);
}

TEST_F(DispatcherTest, AnEd25519EndpointIsSignedV1aAndVerifiedWithItsPublicKey) {
  auto keys = new_ed25519_keys();
  ASSERT_TRUE(keys);
  endpoint("/ok/ed", kSecret, *keys);
  keys_["/ok/ed"] = {{"public_key", keys->public_key}};
  write_keys();
  auto ids = event("fax.failed", job());
  Dispatcher d(*pool_, *queue_, fast());
  deliver(d, ids[0]);
  auto got = received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0]["verified"].get<bool>()) << got[0].dump();
  EXPECT_EQ(got[0]["signature"].get<std::string>().rfind("v1a,", 0), 0u);
  EXPECT_EQ(row(ids[0], "state"), "sent");
}

// The pieces of a signed link: its path, format, expires, signature.
struct ParsedLink {
  std::string prefix;
  signed_link::Link link;
  std::string signature;
};
ParsedLink parse_link(const std::string& url) {
  ParsedLink p;
  const auto q = url.find("/file?");
  p.prefix = url.substr(0, q);
  std::string rest = url.substr(q + 6);
  for (std::size_t at = 0; at < rest.size();) {
    const auto amp = rest.find('&', at);
    const std::string kv = rest.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
    const auto eq = kv.find('=');
    const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    if (k == "format") p.link.format = v;
    if (k == "expires") p.link.expires = std::stoll(v);
    if (k == "signature") p.signature = v;
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
  return p;
}

constexpr const char* kSecretKey = "5e0c3b2a19f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5";

TEST_F(DispatcherTest, ABodyCarriesSignedLinksToTheFaxAndNeverItsBytes) {
  endpoint("/ok/links");
  keys_["/ok/links"] = {{"secret", kSecret}};
  write_keys();
  set("web.public_base_url", "\"https://fax.example.test/faxbridge/\"");
  set("webhooks.link_lifetime_s", "600");
  const auto j = job();
  // The converted pages: bytes no body may carry.
  const std::string pages = "II*\0" + std::string(3000, 'Q') + "PAGE-BYTES-MARKER";
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) { return db::conversion::complete(tx, j, pages, 1, "test"); }));
  auto ids = event("fax.sent", j);
  DispatcherSettings s = fast();
  s.secret_key = *secret_box::Key::parse(kSecretKey);
  Dispatcher d(*pool_, *queue_, s);
  const auto before = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  deliver(d, ids[0]);
  auto got = received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0]["verified"].get<bool>()) << "the links are inside what is signed";
  const std::string raw = got[0]["body"];
  EXPECT_EQ(raw.find("PAGE-BYTES-MARKER"), std::string::npos);
  EXPECT_EQ(raw.find("QQQQ"), std::string::npos);
  EXPECT_LT(raw.size(), 4096u) << "a fax object and two links, no file";
  auto body = json::parse(raw);
  const json links = body["data"]["links"];
  ASSERT_TRUE(links.is_object()) << raw;
  const auto key = signed_link::LinkKey::derive(*secret_box::Key::parse(kSecretKey));
  for (const std::string format : {"pdf", "tiff"}) {
    auto p = parse_link(links[format].get<std::string>());
    EXPECT_EQ(p.prefix, "https://fax.example.test/faxbridge/api/v1/links/faxes/" + std::to_string(j)) << links[format];
    EXPECT_EQ(p.link.format, format);
    EXPECT_GE(p.link.expires, before + 600);
    EXPECT_LE(p.link.expires, before + 600 + 30);
    p.link.resource = "faxes";
    p.link.id = j;
    EXPECT_TRUE(key.check(p.link, p.signature, before)) << links[format];
    auto expired = key.check(p.link, p.signature, p.link.expires + 1);
    ASSERT_FALSE(expired);
    EXPECT_EQ(expired.error().code, Code::k_link_expired);
  }
  EXPECT_EQ(links["expires_at"], iso8601_utc(TimePoint(std::chrono::seconds(parse_link(links["pdf"]).link.expires))));
  // Stored without links: each try mints its own.
  const std::string stored =
      sql("SELECT payload->>'body' FROM notifications WHERE id = " + std::to_string(ids[0]))[0][0].as<std::string>();
  EXPECT_EQ(stored.find("links"), std::string::npos) << stored;
  body["data"].erase("links");
  EXPECT_EQ(body.dump(), stored) << "apart from the links, the stored bytes";
}

TEST_F(DispatcherTest, AReceivedFaxsBodyLinksToTheInboxFile) {
  endpoint("/ok/inbound");
  auto ids = pool_->transact([&](db::Tx& tx) -> Result<std::vector<std::int64_t>> {
    db::Document doc;
    doc.kind = "received_tiff";
    doc.media_type = "image/tiff";
    doc.page_count = 1;
    doc.bytes = "II*\0received";
    auto stored = db::documents::put(tx, doc);
    if (!stored) return stored.error();
    db::ReceivedFax f;
    f.caller_number = "+4930123456";
    f.called_number = "+390212345678";
    f.pages = 1;
    f.tiff_document_id = stored->id;
    auto made = db::received::create(tx, f);
    if (!made) return made.error();
    return db::webhook_events::for_received_fax(tx, "fax.received", *made);
  });
  ASSERT_TRUE(ids) << ids.error().to_string();
  ASSERT_EQ(ids->size(), 1u);
  DispatcherSettings s = fast();
  s.secret_key = *secret_box::Key::parse(kSecretKey);
  Dispatcher d(*pool_, *queue_, s);
  deliver(d, (*ids)[0]);
  auto got = received();
  ASSERT_EQ(got.size(), 1u);
  auto body = json::parse(got[0]["body"].get<std::string>());
  EXPECT_EQ(body["data"]["direction"], "inbound");
  const std::string tiff = body["data"]["links"]["tiff"];
  EXPECT_EQ(tiff.rfind("http://127.0.0.1:8080/api/v1/links/inbox/" + body["data"]["id"].dump() + "/file?format=tiff&", 0),
            0u)
      << "the default base: web-api's own default address";
}

TEST_F(DispatcherTest, ASealedEd25519KeyStillVerifiesAndOneStoredInClearIsSealedAtItsFirstDelivery) {
  auto keys = new_ed25519_keys();
  ASSERT_TRUE(keys);
  const auto w = endpoint("/ok/sealed", kSecret, *keys);  // in clear, as rows from before sealing are
  keys_["/ok/sealed"] = {{"public_key", keys->public_key}};
  write_keys();
  DispatcherSettings s = fast();
  const auto master = *secret_box::Key::parse(kSecretKey);
  s.secret_key = master;
  Dispatcher d(*pool_, *queue_, s);
  deliver(d, event("fax.sent", job())[0]);
  const std::string stored =
      sql("SELECT signing_key FROM webhook_endpoints WHERE id = " + std::to_string(w.id))[0][0].as<std::string>();
  ASSERT_TRUE(secret_box::is_sealed(stored)) << "sealed at its first delivery";
  auto opened = secret_box::open(master, stored);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, keys->signing_key);
  // Sealed now, it still signs what the receiver verifies with the public key alone.
  const auto id = event("fax.failed", job())[0];
  deliver(d, id);
  auto got = received();
  ASSERT_EQ(got.size(), 2u);
  for (const auto& g : got) {
    EXPECT_TRUE(g["verified"].get<bool>()) << g.dump();
    EXPECT_EQ(g["signature"].get<std::string>().rfind("v1a,", 0), 0u);
  }
  EXPECT_EQ(row(id, "state"), "sent");

  expect_keyless_delivery_refused();
}

TEST_F(DispatcherTest, HmacSecretsStoredInClearAreSealedAtTheNextDeliveryAndStillVerify) {
  // A row from before secrets were sealed (or a web-api without the key), mid-rotation:
  // both secrets in clear.
  auto w = endpoint("/ok/hmac-sealed", kSecret);
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) { return db::webhooks::rotate_secret(tx, w.id, kNewSecret, 24h); }));
  keys_["/ok/hmac-sealed"] = {{"secret", kNewSecret}};
  write_keys();
  DispatcherSettings s = fast();
  const auto master = *secret_box::Key::parse(kSecretKey);
  s.secret_key = master;
  Dispatcher d(*pool_, *queue_, s);
  deliver(d, event("fax.sent", job())[0]);
  auto stored = sql("SELECT secret, previous_secret FROM webhook_endpoints WHERE id = " + std::to_string(w.id));
  const std::string secret = stored[0][0].as<std::string>(), previous = stored[0][1].as<std::string>();
  ASSERT_TRUE(secret_box::is_sealed(secret)) << "sealed at its first delivery";
  ASSERT_TRUE(secret_box::is_sealed(previous)) << "the rotation's old secret too";
  EXPECT_EQ(*secret_box::open(master, secret), kNewSecret);
  EXPECT_EQ(*secret_box::open(master, previous), kSecret);

  // Sealed, they still sign: the receiver verifies with the new secret, and the header
  // carries the old one's signature beside it during the overlap.
  const auto id = event("fax.failed", job())[0];
  deliver(d, id);
  auto got = received();
  ASSERT_EQ(got.size(), 2u);
  for (const auto& g : got) {
    EXPECT_TRUE(g["verified"].get<bool>()) << g.dump();
    EXPECT_NE(g["signature"].get<std::string>().find(' '), std::string::npos) << "two signatures: " << g.dump();
  }
  EXPECT_EQ(row(id, "state"), "sent");
  keys_["/ok/hmac-sealed"] = {{"secret", kSecret}};
  write_keys();
  deliver(d, event("fax.sent", job())[0]);
  ASSERT_EQ(received().size(), 3u);
  EXPECT_TRUE(received()[2]["verified"].get<bool>()) << "a receiver still on the old secret verifies too";

  expect_keyless_delivery_refused();
}

TEST_F(DispatcherTest, AReceiverFailingFiveTimesGetsTheSameMessageOnceMoreAndTakesIt) {
  endpoint("/fail5/a");
  keys_["/fail5/a"] = {{"secret", kSecret}};
  write_keys();
  auto ids = event("fax.sent", job());
  Dispatcher d(*pool_, *queue_, fast());
  for (int i = 0; i < 6; ++i) {
    ASSERT_NO_FATAL_FAILURE(deliver(d, ids[0]));
    if (i < 5) {
      EXPECT_EQ(row(ids[0], "state"), "pending");
      EXPECT_EQ(row(ids[0], "error_code"), "webhook.http_error");
    }
  }
  EXPECT_EQ(row(ids[0], "state"), "sent");
  EXPECT_EQ(row(ids[0], "attempts"), "6");
  auto got = received();
  ASSERT_EQ(got.size(), 6u);
  for (const auto& g : got) {
    EXPECT_TRUE(g["verified"].get<bool>());
    EXPECT_EQ(g["id"], got[0]["id"]) << "one webhook-id for every try";
    EXPECT_EQ(g["body"], got[0]["body"]) << "the same bytes every try";
  }
  EXPECT_EQ(std::count_if(got.begin(), got.end(), [](const json& g) { return g["status"] == 200; }), 1);
  auto log = sql("SELECT attempt, status, coalesce(error_code, '') FROM webhook_deliveries WHERE notification_id = " +
                 std::to_string(ids[0]) + " ORDER BY id");
  ASSERT_EQ(log.size(), 6u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(log[i][0].as<int>(), i + 1);
    EXPECT_EQ(log[i][1].as<int>(), 500);
    EXPECT_EQ(log[i][2].as<std::string>(), "webhook.http_error");
  }
  EXPECT_EQ(log[5][1].as<int>(), 200);
}

TEST_F(DispatcherTest, RetriesFollowTheInjectedBackoffThenTheEndpointIsDisabledAndItsOwnerTold) {
  auto w = endpoint("/fail5/b");
  DispatcherSettings s = fast();
  s.backoff = {0ms, 0ms, 1h};  // four tries; the third failure waits an hour
  Dispatcher d(*pool_, *queue_, s);
  auto ids = event("fax.sent", job());
  for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(deliver(d, ids[0]));
  EXPECT_EQ(row(ids[0], "state"), "pending");
  EXPECT_EQ(sql("SELECT not_before > now() + interval '50 minutes' FROM notifications WHERE id = " +
                std::to_string(ids[0]))[0][0].as<bool>(), true);
  auto c = queue_->claim(ids[0]);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->has_value()) << "not claimable before its next try";
  sql("UPDATE notifications SET not_before = now() WHERE id = " + std::to_string(ids[0]));
  ASSERT_NO_FATAL_FAILURE(deliver(d, ids[0]));
  EXPECT_EQ(row(ids[0], "state"), "failed");
  EXPECT_EQ(row(ids[0], "error_code"), "webhook.retries_exhausted");
  EXPECT_NE(row(ids[0], "last_error").find("HTTP 500"), std::string::npos) << row(ids[0], "last_error");
  EXPECT_EQ(sql("SELECT enabled FROM webhook_endpoints WHERE id = " + std::to_string(w.id))[0][0].as<bool>(), false);
  auto alert = sql("SELECT recipient, payload->'error'->>'code', channel FROM notifications WHERE kind = 'admin_alert'");
  ASSERT_EQ(alert.size(), 1u);
  EXPECT_EQ(alert[0][0].as<std::string>(), "fax-admin@example.test") << "a system-wide endpoint's owner";
  EXPECT_EQ(alert[0][1].as<std::string>(), "webhook.retries_exhausted");
  EXPECT_EQ(alert[0][2].as<std::string>(), "email");
  // Disabled: the next event writes no row for it.
  EXPECT_TRUE(event("fax.sent", job()).empty());
}

TEST_F(DispatcherTest, AUsersEndpointAnsweringGoneIsDisabledAndTheUserTold) {
  db::WebhookEndpoint w;
  w.url = url("/gone/1");
  w.secret = kSecret;
  w.user_id = alice_;
  ASSERT_TRUE(pool_->transact([&](db::Tx& tx) { return db::webhooks::create(tx, w); }));
  auto ids = event("fax.sent", job());
  ASSERT_EQ(ids.size(), 1u);
  Dispatcher d(*pool_, *queue_, fast());
  deliver(d, ids[0]);
  EXPECT_EQ(row(ids[0], "state"), "failed");
  EXPECT_EQ(row(ids[0], "error_code"), "webhook.http_error");
  EXPECT_EQ(sql("SELECT count(*) FROM webhook_endpoints WHERE enabled")[0][0].as<int>(), 0);
  auto alert = sql("SELECT recipient FROM notifications WHERE kind = 'admin_alert'");
  ASSERT_EQ(alert.size(), 1u);
  EXPECT_EQ(alert[0][0].as<std::string>(), "alice@example.test");
}

TEST_F(DispatcherTest, ATenMegabyteOrHangingAnswerRetriesWhileAnotherRowIsDelivered) {
  endpoint("/big/1");
  endpoint("/hang/1");
  const auto j = job();
  auto big = event("fax.queued", j);
  ASSERT_EQ(big.size(), 2u);  // both endpoints take every event
  endpoint("/ok/meanwhile");
  DispatcherSettings s = fast();
  s.backoff = {1h};
  s.timeout = 6s;
  Dispatcher d(*pool_, *queue_, s);

  deliver(d, big[0]);  // the 10 MB answer
  EXPECT_EQ(row(big[0], "state"), "pending");
  EXPECT_EQ(row(big[0], "error_code"), "webhook.response_too_large");
  EXPECT_EQ(sql("SELECT status FROM webhook_deliveries WHERE notification_id = " + std::to_string(big[0]))[0][0].as<int>(),
            200);

  std::atomic<bool> hang_done{false};
  std::thread hang([&] {
    deliver(d, big[1]);
    hang_done = true;
  });
  // Once the hanging receiver holds its request, another row goes through.
  ASSERT_TRUE(eventually([&] { return received().size() == 2; }, 20s));
  auto ok = event("fax.sent", j);  // a row for each of the three endpoints; the /ok one is delivered
  std::int64_t ok_id = 0;
  for (auto id : ok) {
    if (row(id, "recipient") == url("/ok/meanwhile")) ok_id = id;
  }
  ASSERT_NE(ok_id, 0);
  deliver(d, ok_id);
  EXPECT_EQ(row(ok_id, "state"), "sent");
  EXPECT_FALSE(hang_done.load()) << "the hanging delivery was still waiting for its answer";
  hang.join();
  EXPECT_EQ(row(big[1], "state"), "pending");
  EXPECT_EQ(row(big[1], "error_code"), "webhook.timeout");
  EXPECT_EQ(sql("SELECT status IS NULL FROM webhook_deliveries WHERE notification_id = " + std::to_string(big[1]))[0][0]
                .as<bool>(), true);
}

TEST_F(DispatcherTest, AReceiverDrippingItsAnswerIsCutAtTheDeadline) {
  endpoint("/drip/1");
  auto ids = event("fax.sent", job());
  DispatcherSettings s = fast();
  s.timeout = 3s;  // each byte comes within half a second: no read ever times out
  Dispatcher d(*pool_, *queue_, s);
  deliver(d, ids[0]);
  EXPECT_EQ(row(ids[0], "state"), "pending");
  EXPECT_EQ(row(ids[0], "error_code"), "webhook.timeout");
  ASSERT_EQ(received().size(), 1u);
}

TEST_F(DispatcherTest, ALoopbackUrlIsRefusedWhileTheSettingIsOff) {
  allow_private(false);
  endpoint("/ok/private");
  auto ids = event("fax.sent", job());
  Dispatcher d(*pool_, *queue_, fast());
  deliver(d, ids[0]);
  EXPECT_EQ(row(ids[0], "state"), "failed");
  EXPECT_EQ(row(ids[0], "error_code"), "webhook.address_refused");
  EXPECT_NE(row(ids[0], "last_error").find("webhooks.allow_private_addresses"), std::string::npos);
  EXPECT_TRUE(received().empty()) << "nothing was sent";
  auto log = sql("SELECT error_code, status IS NULL FROM webhook_deliveries WHERE notification_id = " +
                 std::to_string(ids[0]));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0][0].as<std::string>(), "webhook.address_refused");
  EXPECT_EQ(sql("SELECT enabled FROM webhook_endpoints")[0][0].as<bool>(), true) << "the setting may be turned on";
}

TEST_F(DispatcherTest, ARedeliverySendsTheSameBytesUnderTheSameWebhookId) {
  auto w = endpoint("/ok/again");
  keys_["/ok/again"] = {{"secret", kSecret}};
  write_keys();
  auto ids = event("fax.sent", job());
  Dispatcher d(*pool_, *queue_, fast());
  deliver(d, ids[0]);
  const auto delivery = sql("SELECT id FROM webhook_deliveries")[0][0].as<std::int64_t>();
  sql("UPDATE fax_jobs SET subject = 'changed since' ");  // the stored body is what is sent
  auto again = pool_->transact([&](db::Tx& tx) { return db::webhook_deliveries::redeliver(tx, w.id, delivery); });
  ASSERT_TRUE(again && *again);
  EXPECT_NE(**again, ids[0]);
  deliver(d, **again);
  auto got = received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1]["id"], got[0]["id"]);
  EXPECT_EQ(got[1]["body"], got[0]["body"]);
  EXPECT_TRUE(got[1]["verified"].get<bool>());
  auto none = pool_->transact([&](db::Tx& tx) { return db::webhook_deliveries::redeliver(tx, w.id + 1, delivery); });
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value()) << "a delivery of another endpoint";
}

// The receiver's HTTPS servers, each with the certificate its name says, all for the
// URL host localhost: "trusted" (signed by the test's CA, DNS:localhost), "wrong-name"
// (signed by it, for another host only) and "self-signed" (for localhost, nobody's CA).
// Made once per test process: gtest_discover_tests runs each test in its own.
class DispatcherHttpsTest : public DispatcherTest {
 protected:
  static void SetUpTestSuite() {
    certs_ = std::filesystem::temp_directory_path() / ("faxbridge-webhook-tls-" + std::to_string(::getpid()));
    std::filesystem::remove_all(certs_);
    std::filesystem::create_directories(certs_);
    ca_ = faxbridge::testing::TestCa::make(certs_);
    trusted_ = ca_.issue("localhost", "DNS:localhost,IP:127.0.0.1");
    wrong_name_ = ca_.issue("elsewhere", "DNS:elsewhere.example.test");
    self_signed_ = faxbridge::testing::TestCertificate::make(certs_, "self-signed");
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(certs_); }
  std::vector<std::string> receiver_args() override {
    std::vector<std::string> args;
    const std::pair<const char*, const faxbridge::testing::TestCertificate*> servers[] = {
        {"trusted", &trusted_}, {"wrong-name", &wrong_name_}, {"self-signed", &self_signed_}};
    for (const auto& [name, c] : servers) args.insert(args.end(), {"--tls", name, c->cert_file, c->key_file});
    return args;
  }
  std::string https_url(const std::string& server, const std::string& path) {
    int port = 0;
    std::ifstream(dir_ / ("port-" + server)) >> port;
    EXPECT_NE(port, 0) << "no HTTPS server " << server;
    return "https://localhost:" + std::to_string(port) + path;
  }
  void trust_ca() { set("webhooks.ca_file", json(ca_.cert_file).dump()); }
  std::vector<json> tls_connections() {
    std::vector<json> out;
    std::ifstream in(dir_ / "tls.jsonl");
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }
  // The try was refused at TLS: the client finished a handshake with `server` and sent
  // nothing, and the row and its log say webhook.tls_failed with no HTTP status.
  void expect_refused_at_tls(std::int64_t id, const std::string& server, const std::string& why) {
    EXPECT_EQ(row(id, "error_code"), "webhook.tls_failed");
    EXPECT_NE(row(id, "last_error").find(why), std::string::npos) << row(id, "last_error");
    EXPECT_NE(row(id, "last_error").find("Nothing was sent"), std::string::npos) << row(id, "last_error");
    EXPECT_TRUE(received().empty()) << "a request reached the receiver: " << received()[0].dump();
    auto tls = tls_connections();
    ASSERT_FALSE(tls.empty()) << "the client never reached the HTTPS server";
    EXPECT_EQ(tls.back()["server"], server);
    auto log = sql("SELECT error_code, status IS NULL FROM webhook_deliveries WHERE notification_id = " +
                   std::to_string(id) + " ORDER BY id DESC LIMIT 1");
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0][0].as<std::string>(), "webhook.tls_failed");
    EXPECT_TRUE(log[0][1].as<bool>()) << "no HTTP status: no request was made";
  }

  static inline std::filesystem::path certs_;
  static inline faxbridge::testing::TestCa ca_;
  static inline faxbridge::testing::TestCertificate trusted_, wrong_name_, self_signed_;
};

TEST_F(DispatcherHttpsTest, AReceiverWithAPrivateCasCertificateIsRefusedUntilWebhooksCaFileTrustsItThenVerifies) {
  endpoint_at(https_url("trusted", "/ok/tls"));
  keys_["/ok/tls"] = {{"secret", kSecret}};
  write_keys();
  auto ids = event("fax.sent", job());
  ASSERT_EQ(ids.size(), 1u);
  Dispatcher d(*pool_, *queue_, fast());
  // Verification is on without any setting: the system's bundle does not know the test's CA.
  deliver(d, ids[0]);
  EXPECT_EQ(row(ids[0], "state"), "pending");
  expect_refused_at_tls(ids[0], "trusted", "not signed by a trusted CA");
  EXPECT_NE(row(ids[0], "last_error").find("webhooks.ca_file"), std::string::npos) << "says what to set";

  trust_ca();
  deliver(d, ids[0]);
  EXPECT_EQ(row(ids[0], "state"), "sent");
  EXPECT_EQ(row(ids[0], "attempts"), "2");
  auto got = received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["server"], "trusted") << "delivered over HTTPS";
  EXPECT_TRUE(got[0]["verified"].get<bool>()) << got[0].dump();
  EXPECT_EQ(got[0]["id"], "msg_" + std::to_string(ids[0]));
}

TEST_F(DispatcherHttpsTest, ASelfSignedCertificateIsRefusedRetriedWithTheBackoffAndNeverSentUnverified) {
  trust_ca();  // a private CA is trusted, just not this certificate's issuer (itself)
  auto w = endpoint_at(https_url("self-signed", "/ok/self"));
  DispatcherSettings s = fast();
  s.backoff = {1h};  // two tries: the first failure waits an hour
  Dispatcher d(*pool_, *queue_, s);
  auto ids = event("fax.sent", job());
  deliver(d, ids[0]);
  EXPECT_EQ(row(ids[0], "state"), "pending");
  EXPECT_EQ(row(ids[0], "attempts"), "1");
  expect_refused_at_tls(ids[0], "self-signed", "not signed by a trusted CA");
  EXPECT_EQ(sql("SELECT not_before > now() + interval '50 minutes' FROM notifications WHERE id = " +
                std::to_string(ids[0]))[0][0].as<bool>(), true) << "retried after the backoff's delay";

  sql("UPDATE notifications SET not_before = now() WHERE id = " + std::to_string(ids[0]));
  deliver(d, ids[0]);
  EXPECT_EQ(row(ids[0], "state"), "failed");
  EXPECT_EQ(row(ids[0], "error_code"), "webhook.retries_exhausted");
  EXPECT_NE(row(ids[0], "last_error").find("not signed by a trusted CA"), std::string::npos) << row(ids[0], "last_error");
  EXPECT_TRUE(received().empty()) << "no try sent the body unverified";
  EXPECT_EQ(tls_connections().size(), 2u);
  EXPECT_EQ(sql("SELECT count(*) FROM webhook_deliveries WHERE error_code = 'webhook.tls_failed'")[0][0].as<int>(), 2);
  EXPECT_EQ(sql("SELECT enabled FROM webhook_endpoints WHERE id = " + std::to_string(w.id))[0][0].as<bool>(), false);
}

TEST_F(DispatcherHttpsTest, ACertificateOfTheTrustedCaForAnotherHostNameIsRefused) {
  trust_ca();
  endpoint_at(https_url("wrong-name", "/ok/name"));
  auto ids = event("fax.sent", job());
  Dispatcher d(*pool_, *queue_, fast());
  deliver(d, ids[0]);
  EXPECT_EQ(row(ids[0], "state"), "pending");
  expect_refused_at_tls(ids[0], "wrong-name", "not for the host name localhost");
}

TEST_F(DispatcherHttpsTest, ACaFileThatCannotBeReadRefusesTheTryNamingTheFile) {
  set("webhooks.ca_file", json((certs_ / "missing.pem").string()).dump());
  endpoint_at(https_url("trusted", "/ok/missing"));
  auto ids = event("fax.sent", job());
  Dispatcher d(*pool_, *queue_, fast());
  deliver(d, ids[0]);
  EXPECT_EQ(row(ids[0], "state"), "pending");
  EXPECT_EQ(row(ids[0], "error_code"), "webhook.tls_failed");
  EXPECT_NE(row(ids[0], "last_error").find("missing.pem"), std::string::npos) << row(ids[0], "last_error");
  EXPECT_TRUE(received().empty());
  EXPECT_TRUE(tls_connections().empty()) << "refused before connecting";
}

}  // namespace
}  // namespace faxbridge::webhook
