// The notifier against a real Postfix: fax-to-email as TIFF and as PDF (the attachment
// read back by a mail client and decoded by libtiff / Poppler), the format switched
// between two faxes without a restart, the wait for the converter's PDF, receipts of
// every kind, the refusals, alerts once per cause, bad rows failing alone, and the
// failsafe: the mail server down with 20 mails pending, then back.
#include <poppler.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "notifier_fixture.hpp"

namespace faxbridge::notifier {
namespace {

using namespace std::chrono_literals;
using namespace testing_support;

int pdf_pages(const std::string& path) {
  GError* error = nullptr;
  const std::string uri = "file://" + path;
  PopplerDocument* doc = poppler_document_new_from_file(uri.c_str(), nullptr, &error);
  if (!doc) {
    if (error) g_error_free(error);
    return -1;
  }
  const int n = poppler_document_get_n_pages(doc);
  g_object_unref(doc);
  return n;
}

std::string message_id_of(std::int64_t id) { return "<notification-" + std::to_string(id) + "@faxbridge.example.test>"; }

class NotifierTest : public NotifierWorld {};

TEST_F(NotifierTest, AFaxArrivesByMailAsTiffThenAsPdfOnceTheFormatIsSwitchedWithoutARestart) {
  set("incoming.attachment_format", "\"tif\"");
  set("incoming.attach_thumbnail", "true");
  const auto alice = user("alice", "alice@example.test");
  start_notifier();

  auto first = received(2, true);
  const auto n1 = enqueue("fax_to_email", "alice@example.test", std::nullopt, first.id, alice, {{"attach", true}});
  ASSERT_TRUE(reaches(n1, "sent")) << field(n1, "error_code") << " " << field(n1, "last_error");
  auto got = wait_for_mails("alice@example.test", 1);
  ASSERT_EQ(got.size(), 1u);
  const Mail& m = got[0];
  EXPECT_EQ(m.header("message-id"), message_id_of(n1));
  EXPECT_EQ(m.header("auto-submitted"), "auto-generated");
  EXPECT_NE(m.header("subject").find("+4930123456"), std::string::npos) << m.header("subject");
  EXPECT_NE(m.header("subject").find(first.reference), std::string::npos) << m.header("subject");
  const std::string text = m.text();
  for (const std::string& fact : {std::string("+390297865403"), std::string("SENDER TSI"), std::string("Pages:           2"),
                                  std::string("1 min 5 s"), first.reference, std::string("attached as TIFF")}) {
    EXPECT_NE(text.find(fact), std::string::npos) << fact << " not in:\n" << text;
  }
  const json* html = m.part("text/html");
  ASSERT_TRUE(html);
  EXPECT_NE((*html)["text"].get<std::string>().find("ACME Fax &amp; Co"), std::string::npos);
  const json* png = m.part("image/png");
  ASSERT_TRUE(png) << m.parsed["structure"].dump();
  EXPECT_EQ((*png)["content_id"], "<page1>");
  EXPECT_NE((*html)["text"].get<std::string>().find("cid:page1"), std::string::npos);
  const json* tif = m.part("image/tiff");
  ASSERT_TRUE(tif) << m.parsed["structure"].dump();
  EXPECT_EQ((*tif)["filename"], "fax-" + first.reference + ".tif");
  EXPECT_EQ((*tif)["sha256"], mail::testing::sha256_of(first.tiff)) << "the attachment is the received TIFF";
  EXPECT_EQ(tiff_pages_decoded(m.part_file(*tif)), 2);

  // The administrator switches the format; the running notifier follows on the next fax.
  set("incoming.attachment_format", "\"pdf\"");
  auto second = received(3, true);
  const auto n2 = enqueue("fax_to_email", "alice@example.test", std::nullopt, second.id, alice, {{"attach", true}});
  ASSERT_TRUE(reaches(n2, "sent")) << field(n2, "error_code") << " " << field(n2, "last_error");
  got = wait_for_mails("alice@example.test", 2);
  ASSERT_EQ(got.size(), 2u);
  const Mail& m2 = got[1];
  EXPECT_EQ(m2.header("message-id"), message_id_of(n2));
  EXPECT_FALSE(m2.part("image/tiff"));
  const json* pdf = m2.part("application/pdf");
  ASSERT_TRUE(pdf) << m2.parsed["structure"].dump();
  EXPECT_EQ((*pdf)["filename"], "fax-" + second.reference + ".pdf");
  EXPECT_EQ((*pdf)["sha256"], mail::testing::sha256_of(second.pdf)) << "the attachment is the converter's PDF";
  EXPECT_EQ(pdf_pages(m2.part_file(*pdf)), 3);
}

TEST_F(NotifierTest, APdfMailWaitsForTheConverterAndFallsBackToTheTiffWhenThePdfCannotBeMade) {
  set("incoming.attachment_format", "\"pdf\"");
  const auto alice = user("alice", "alice@example.test");
  start_notifier();
  auto fax = received(1, false);
  const auto n = enqueue("fax_to_email", "alice@example.test", std::nullopt, fax.id, alice, {{"attach", true}});
  ASSERT_TRUE(eventually([&] { return field(n, "error_code") == "notification.waiting"; }, 20s));
  ASSERT_TRUE(eventually([&] { return std::stoi(field(n, "attempts")) >= 2; }, 20s));
  EXPECT_EQ(field(n, "state"), "pending") << "never sent without its PDF";
  EXPECT_TRUE(mails("alice@example.test").empty());
  add_pdf(fax);
  ASSERT_TRUE(reaches(n, "sent"));
  auto got = wait_for_mails("alice@example.test", 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].part("application/pdf"));

  // A TIFF the converter could not turn into a PDF: the mail carries the TIFF and says why.
  auto broken = received(1, false);
  sql("UPDATE received_faxes SET pdf_error_code = 'document.corrupt', pdf_error_detail = 'x' WHERE id = " +
      std::to_string(broken.id));
  const auto n2 = enqueue("fax_to_email", "alice@example.test", std::nullopt, broken.id, alice, {{"attach", true}});
  ASSERT_TRUE(reaches(n2, "sent"));
  got = wait_for_mails("alice@example.test", 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[1].part("image/tiff"));
  EXPECT_NE(got[1].text().find("could not be made (document.corrupt)"), std::string::npos) << got[1].text();
}

TEST_F(NotifierTest, ReceiptsOfEveryKindSayWhatHappenedInTheUsersLanguage) {
  const auto alice = user("alice", "alice@example.test");
  const auto carla = user("carla", "carla@example.test", "it");
  start_notifier();
  const auto sent = job(alice, "sent", 2, {{"busy", 0, 486, ""}, {"sent", 2, std::nullopt, ""}});
  const auto partial = job(alice, "partially_sent", 3, {{"partially_sent", 1, std::nullopt, "fax.t30_failed"}});
  sql("UPDATE fax_jobs SET error_code = 'fax.t30_failed', error_detail = 'The line dropped during page 2.' WHERE id = " +
      std::to_string(partial));
  const auto queued = job(carla, "queued", 4, {});
  const std::vector<std::int64_t> ids = {
      enqueue("return_receipt", "alice@example.test", sent, std::nullopt, alice),
      enqueue("failure_receipt", "alice@example.test", partial, std::nullopt, alice),
      enqueue("enqueued_receipt", "carla@example.test", queued, std::nullopt, carla),
      enqueue("send_refused", "alice@example.test", sent, std::nullopt, alice,
              {{"error", {{"code", "policy.send_not_allowed"}, {"message", "Your account may not send faxes."}}},
               {"subject", "Contract"}}),
      enqueue("failed_incoming_call", "alice@example.test", std::nullopt, std::nullopt, alice,
              {{"caller", "+4930999"}, {"called", "+390297865403"}, {"error_code", "fax.no_pages"}}),
      enqueue("admin_alert", "fax-admin@example.test", std::nullopt, std::nullopt, std::nullopt,
              {{"error", {{"code", "route.none"}, {"message", "No default route is set: faxes cannot be sent."}}}}),
  };
  for (auto id : ids) ASSERT_TRUE(reaches(id, "sent")) << id << ": " << field(id, "last_error");
  auto to_alice = wait_for_mails("alice@example.test", 4);
  ASSERT_EQ(to_alice.size(), 4u);
  auto by_id = [&](std::int64_t id) -> const Mail* {
    for (const auto& m : to_alice)
      if (m.header("message-id") == message_id_of(id)) return &m;
    return nullptr;
  };
  const Mail* receipt = by_id(ids[0]);
  ASSERT_TRUE(receipt);
  EXPECT_EQ(receipt->header("subject"), "Fax sent to +390212345678: Quarterly report");
  EXPECT_EQ(receipt->header("auto-submitted"), "auto-replied") << "never faxed back (RFC 3834)";
  EXPECT_NE(receipt->text().find("Pages sent:  2 of 2"), std::string::npos) << receipt->text();
  EXPECT_NE(receipt->text().find("1. "), std::string::npos);
  EXPECT_NE(receipt->text().find(": busy (SIP 486)"), std::string::npos) << receipt->text();
  EXPECT_NE(receipt->text().find(": sent, 2 pages"), std::string::npos) << receipt->text();
  EXPECT_NE(receipt->text().find("Mario Rossi"), std::string::npos);
  const Mail* failure = by_id(ids[1]);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->header("subject"), "Fax partially sent to +390212345678: Quarterly report");
  EXPECT_NE(failure->text().find("1 of 3 pages reached the recipient"), std::string::npos) << failure->text();
  EXPECT_NE(failure->text().find("The line dropped during page 2. (fax.t30_failed)"), std::string::npos)
      << failure->text();
  const Mail* refused = by_id(ids[3]);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->header("auto-submitted"), "auto-replied") << "a reply, never faxed back (RFC 3834)";
  EXPECT_NE(refused->text().find("Your account may not send faxes. (policy.send_not_allowed)"), std::string::npos);
  EXPECT_EQ(refused->header("subject"), "Fax not accepted: Contract");
  const Mail* call = by_id(ids[4]);
  ASSERT_TRUE(call);
  EXPECT_NE(call->text().find("+4930999"), std::string::npos);
  EXPECT_NE(call->text().find("fax.no_pages"), std::string::npos);

  auto to_carla = wait_for_mails("carla@example.test", 1);
  ASSERT_EQ(to_carla.size(), 1u);
  EXPECT_EQ(to_carla[0].header("subject"), "Fax in coda per +390212345678: Quarterly report");
  EXPECT_NE(to_carla[0].text().find("Il tuo fax è nella coda di invio."), std::string::npos) << to_carla[0].text();
  auto to_admin = wait_for_mails("fax-admin@example.test", 1);
  ASSERT_EQ(to_admin.size(), 1u);
  EXPECT_EQ(to_admin[0].header("subject"), "Faxbridge alert: route.none");
  EXPECT_NE(to_admin[0].text().find("No default route is set"), std::string::npos);
}

TEST_F(NotifierTest, APermanentRefusalFailsTheRowWithTheServersAnswerAndTellsTheAdministratorOnce) {
  const auto nobody = user("nobody", "nobody@example.test");
  start_notifier();
  auto fax = received(1, true);
  const auto a = enqueue("fax_to_email", "nobody@example.test", std::nullopt, fax.id, nobody);
  const auto b = enqueue("fax_to_email", "nobody@example.test", std::nullopt, fax.id, nobody);
  for (auto id : {a, b}) {
    ASSERT_TRUE(reaches(id, "failed")) << field(id, "state");
    EXPECT_EQ(field(id, "error_code"), "smtp.rejected");
    EXPECT_NE(field(id, "last_error").find("5.1.1"), std::string::npos) << field(id, "last_error");
    EXPECT_EQ(field(id, "attempts"), "1") << "a 5xx is not retried";
  }
  auto alerts = sql("SELECT id, state FROM notifications WHERE kind = 'admin_alert' ORDER BY id");
  ASSERT_EQ(alerts.size(), 2u);
  ASSERT_TRUE(eventually([&] {
    auto s = sql("SELECT count(*) FROM notifications WHERE kind = 'admin_alert' AND state IN ('sent', 'suppressed')");
    return s[0][0].as<int>() == 2;
  }, 30s));
  auto to_admin = wait_for_mails("fax-admin@example.test", 1);
  std::this_thread::sleep_for(1s);  // a second mail, were there one, has had time to arrive
  to_admin = mails("fax-admin@example.test");
  ASSERT_EQ(to_admin.size(), 1u) << "one mail per cause, not one per refusal";
  EXPECT_NE(to_admin[0].text().find("nobody@example.test"), std::string::npos) << to_admin[0].text();
  EXPECT_NE(to_admin[0].text().find("5.1.1"), std::string::npos) << to_admin[0].text();
  EXPECT_EQ(sql("SELECT count(*) FROM notifications WHERE state = 'suppressed'")[0][0].as<int>(), 1);
  EXPECT_EQ(sql("SELECT suppressed FROM alert_causes WHERE cause = 'notification.smtp.rejected'")[0][0].as<int>(), 1);
}

TEST_F(NotifierTest, AdministratorAlertsAreOnePerCausePerIntervalSoAnOutageIsOneMail) {
  start_notifier();
  const json down{{"error", {{"code", "sip.registration_failed"}, {"message", "The trunk is not registered."}}}};
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(enqueue("admin_alert", "fax-admin@example.test", std::nullopt, std::nullopt,
                                                    std::nullopt, down));
  const auto other = enqueue("admin_alert", "fax-admin@example.test", std::nullopt, std::nullopt, std::nullopt,
                             {{"error", {{"code", "route.none"}, {"message", "No default route."}}}});
  ASSERT_TRUE(eventually([&] {
    return sql("SELECT count(*) FROM notifications WHERE state IN ('sent', 'suppressed')")[0][0].as<int>() == 6;
  }, 30s));
  EXPECT_EQ(sql("SELECT count(*) FROM notifications WHERE state = 'sent'")[0][0].as<int>(), 2);
  EXPECT_EQ(sql("SELECT count(*) FROM notifications WHERE state = 'suppressed' AND error_code = "
                "'notification.suppressed'")[0][0].as<int>(), 4);
  EXPECT_EQ(field(other, "state"), "sent");
  auto to_admin = wait_for_mails("fax-admin@example.test", 2);
  EXPECT_EQ(to_admin.size(), 2u);
}

TEST_F(NotifierTest, ABadAddressOrABrokenTemplateFailsItsOwnRowAndTheOthersAreDelivered) {
  const auto alice = user("alice", "alice@example.test");
  const auto broken = user("broken", "not an address");
  start_notifier();
  const auto done = job(alice, "queued", 1, {});
  sql("INSERT INTO mail_templates (name, language, part, body) VALUES ('failure_receipt', 'en', 'text', "
      "'{{#ATTEMPTS}} never closed')");
  const auto bad_address = enqueue("enqueued_receipt", "not an address", done, std::nullopt, broken);
  const auto bad_template = enqueue("failure_receipt", "alice@example.test", done, std::nullopt, alice);
  const auto good = enqueue("enqueued_receipt", "alice@example.test", done, std::nullopt, alice);
  ASSERT_TRUE(reaches(bad_address, "failed"));
  EXPECT_EQ(field(bad_address, "error_code"), "mail.invalid_address");
  ASSERT_TRUE(reaches(bad_template, "failed"));
  EXPECT_EQ(field(bad_template, "error_code"), "template.render_failed");
  EXPECT_NE(field(bad_template, "last_error").find("text part"), std::string::npos) << field(bad_template, "last_error");
  ASSERT_TRUE(reaches(good, "sent"));
  EXPECT_EQ(wait_for_mails("alice@example.test", 1).size(), 1u);
}

TEST_F(NotifierTest, ATemporaryRefusalIsRetriedWithTheServersAnswerKept) {
  const auto busy = user("busy", "busy@example.test");
  start_notifier();
  const auto done = job(busy, "queued", 1, {});
  const auto id = enqueue("enqueued_receipt", "busy@example.test", done, std::nullopt, busy);
  ASSERT_TRUE(eventually([&] { return std::stoi(field(id, "attempts")) >= 3; }, 30s)) << field(id, "attempts");
  EXPECT_EQ(field(id, "error_code"), "smtp.temporary");
  EXPECT_NE(field(id, "last_error").find("4.2.1"), std::string::npos) << field(id, "last_error");
  EXPECT_NE(field(id, "state"), "failed");
}

TEST_F(NotifierTest, WithTheMailServerDownTwentyPendingMailsWaitAndAreEachDeliveredOnceWhenItReturns) {
  const auto alice = user("alice", "alice@example.test");
  const auto done = job(alice, "queued", 1, {});
  ASSERT_TRUE(postfix_->stop());
  start_notifier();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(enqueue("enqueued_receipt", "alice@example.test", done, std::nullopt, alice));
  ASSERT_TRUE(eventually([&] {
    return sql("SELECT count(*) FROM notifications WHERE attempts >= 2 AND error_code = 'smtp.unreachable'")[0][0]
               .as<int>() == 20;
  }, 60s));
  EXPECT_EQ(sql("SELECT count(*) FROM notifications WHERE state IN ('sent', 'failed')")[0][0].as<int>(), 0);
  ASSERT_TRUE(postfix_->start());
  for (auto id : ids) ASSERT_TRUE(reaches(id, "sent", 60s)) << id << " " << field(id, "last_error");
  auto got = wait_for_mails("alice@example.test", 20);
  std::this_thread::sleep_for(1s);
  got = mails("alice@example.test");
  ASSERT_EQ(got.size(), 20u) << "each exactly once";
  std::set<std::string> seen;
  for (const auto& m : got) seen.insert(m.header("message-id"));
  std::set<std::string> expected;
  for (auto id : ids) expected.insert(message_id_of(id));
  EXPECT_EQ(seen, expected);
}

TEST_F(NotifierTest, TheWatchdogTellsTheAdministratorOfAStalledQueueAFailingConverterAndAGatewayDownOnceEach) {
  const auto alice = user("alice", "alice@example.test");
  NotifierSettings s;
  s.watch_interval = std::chrono::hours(1);  // looked at by hand below
  start_notifier(s);
  EXPECT_EQ(*notifier_->watch_now(), 0) << "nothing wrong yet";
  const auto waiting = job(alice, "queued", 1, {});
  sql("UPDATE fax_jobs SET not_before = now() - interval '20 minutes' WHERE id = " + std::to_string(waiting));
  for (int i = 0; i < 5; ++i) {
    const auto j = job(alice, "failed", 1, {});
    sql("UPDATE fax_jobs SET error_code = 'document.corrupt' WHERE id = " + std::to_string(j));
  }
  sql("INSERT INTO gateway_health (address, state, last_ok_at, last_fail_at) VALUES "
      "('pbx.example.test:5060', 'down', now() - interval '10 minutes', now())");
  auto written = notifier_->watch_now();
  ASSERT_TRUE(written) << written.error().to_string();
  EXPECT_EQ(*written, 3);
  EXPECT_EQ(*notifier_->watch_now(), 0) << "the same conditions an instant later: no new alert";
  auto to_admin = wait_for_mails("fax-admin@example.test", 3);
  ASSERT_EQ(to_admin.size(), 3u);
  std::set<std::string> subjects;
  for (const auto& m : to_admin) subjects.insert(m.header("subject"));
  EXPECT_EQ(subjects, (std::set<std::string>{"Faxbridge alert: alert.queue_stalled",
                                             "Faxbridge alert: alert.conversions_failing",
                                             "Faxbridge alert: alert.gateway_down"}));
}

// The database stopped for 30 s while batches are being sent: the mails already out cannot
// be recorded as sent, and the notifier keeps trying that commit (their leases outlive the
// outage) rather than giving them back, so after the restart they are recorded without
// being sent again; every other mail goes exactly once and nothing is lost. A resend, if
// any (a lease that expired and was taken over), carries the Message-ID it went with.
// The notifier itself keeps running throughout.
TEST_F(NotifierTest, PostgresStoppedForThirtySecondsMidBatchLosesNothingAndAnyResendKeepsItsMessageId) {
  const auto alice = user("alice", "alice@example.test");
  const auto done = job(alice, "queued", 1, {});
  constexpr int kMails = 120;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < kMails; ++i) ids.push_back(enqueue("enqueued_receipt", "alice@example.test", done, std::nullopt, alice));
  start_notifier();
  int sent_before_stop = 0;
  ASSERT_TRUE(eventually([&] {
    sent_before_stop = sql("SELECT count(*) FROM notifications WHERE state = 'sent'")[0][0].as<int>();
    return sent_before_stop >= 5;
  }, 60s));
  ASSERT_TRUE(db::testing::shared_cluster().stop());
  ASSERT_LT(sent_before_stop, kMails) << "the stop should come mid-batch; raise kMails if this machine is faster";
  std::this_thread::sleep_for(30s);
  ASSERT_TRUE(db::testing::shared_cluster().restart());

  for (auto id : ids) ASSERT_TRUE(reaches(id, "sent", 150s)) << id << " " << field(id, "state") << " " << field(id, "last_error");
  // Every mail reached the server; any copy beyond the first carries the same Message-ID.
  std::map<std::string, int> copies;
  ASSERT_TRUE(eventually([&] {
    copies.clear();
    for (const auto& raw : postfix_->messages()) {
      const auto header_end = raw.find("\r\n\r\n") != std::string::npos ? raw.find("\r\n\r\n") : raw.find("\n\n");
      std::string head = raw.substr(0, header_end);
      std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
      const auto at = head.find("\nmessage-id:");
      if (at == std::string::npos) continue;
      const auto end = head.find('\n', at + 1);
      auto value = head.substr(at + 12, end - at - 12);
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t\r") + 1);
      ++copies[value];
    }
    return copies.size() >= static_cast<std::size_t>(kMails);
  }, 120s));
  std::set<std::string> expected;
  for (auto id : ids) {
    auto mid = message_id_of(id);
    std::transform(mid.begin(), mid.end(), mid.begin(), [](unsigned char c) { return std::tolower(c); });
    expected.insert(mid);
  }
  std::set<std::string> seen;
  int duplicates = 0;
  for (const auto& [mid, n] : copies) {
    seen.insert(mid);
    duplicates += n - 1;
  }
  EXPECT_EQ(seen, expected);
  // Only a mail whose lease was taken over can go twice: none should, with a 1-minute
  // lease and a 30 s outage; a few are tolerated for a slow restart on a busy machine.
  EXPECT_LE(duplicates, 8) << "resent copies";
  std::printf("sent before the stop: %d of %d; resent copies after the restart: %d\n", sent_before_stop, kMails,
              duplicates);
}

}  // namespace
}  // namespace faxbridge::notifier
