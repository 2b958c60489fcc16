// faxbridge-notifier as a real process against a real Postfix: SIGKILLed twice while it
// sends, restarted each time. Nothing is lost (every row ends sent, its mail in the
// maildir), and a mail sent twice (killed after the server took it, before the row was
// marked) carries the row's one Message-ID both times; the test counts those.
#include <csignal>
#include <map>

#include "faxbridge/testing/process.hpp"
#include "notifier_fixture.hpp"

namespace faxbridge::notifier {
namespace {

using namespace std::chrono_literals;
using namespace testing_support;

class NotifierServiceTest : public NotifierWorld {
 protected:
  std::unique_ptr<faxbridge::testing::Child> start_process(int n) {
    std::map<std::string, std::string> env{{"FAXBRIDGE_DB_DSN", dsn_},
                                           {"FAXBRIDGE_INSTANCE_ID", "notifier-" + std::to_string(n)},
                                           {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", ports_.publish_endpoint()},
                                           {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", ports_.subscribe_endpoint()},
                                           {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
                                           {"FAXBRIDGE_HTTP_PORT", "0"},
                                           {"FAXBRIDGE_NOTIFIER_SWEEP_MS", "200"},
                                           {"FAXBRIDGE_NOTIFIER_RETRY_FIRST_MS", "200"},
                                           {"FAXBRIDGE_LOG_LEVEL", "warn"}};
    return std::make_unique<faxbridge::testing::Child>(FAXBRIDGE_NOTIFIER_BIN, std::vector<std::string>{}, env,
                                                      (dir_ / ("notifier-" + std::to_string(n) + ".out")).string());
  }
  int count(const std::string& where) {
    return sql("SELECT count(*) FROM notifications WHERE " + where)[0][0].as<int>();
  }
};

TEST_F(NotifierServiceTest, KilledWhileSendingNothingIsLostAndARepeatedMailCarriesTheSameMessageId) {
  const auto alice = user("alice", "alice@example.test");
  // Large mails (a 12-page fax attached), so a kill finds some in the middle of their send.
  set("incoming.attachment_format", "\"tif\"");
  auto fax = received(12, false);
  constexpr int kMails = 40;
  std::set<std::string> expected;
  for (int i = 0; i < kMails; ++i) {
    const auto id = enqueue("fax_to_email", "alice@example.test", std::nullopt, fax.id, alice, {{"attach", true}});
    expected.insert("<notification-" + std::to_string(id) + "@faxbridge.example.test>");
  }
  auto process = start_process(1);
  for (int kill_after : {5, 20}) {
    // The killed process's claimed batches (up to 8 rows per worker) wait for their
    // lease (1 minute) before the next process may take them, so allow more than that.
    ASSERT_TRUE(eventually([&] { return count("state = 'sent'") >= kill_after; }, 150s)) << count("state = 'sent'");
    process->signal(SIGKILL);
    (void)process->wait(10s);
    const int held = count("state = 'sending'");
    std::printf("killed with %d sent, %d in the middle of their send\n", count("state = 'sent'"), held);
    std::fflush(stdout);
    process = start_process(kill_after);
  }
  // Rows the killed process held come back when their lease (1 minute) expires.
  ASSERT_TRUE(eventually([&] { return count("state = 'sent'") == kMails; }, 180s))
      << count("state = 'sent'") << " sent, " << count("state = 'sending'") << " sending, " << count("state = 'pending'")
      << " pending, " << count("state = 'failed'") << " failed";
  process->signal(SIGTERM);
  auto status = process->wait(30s);
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "the notifier did not stop cleanly";

  std::vector<Mail> got;
  std::map<std::string, int> copies;
  ASSERT_TRUE(eventually([&] {
    got = mails("alice@example.test");
    copies.clear();
    for (const auto& m : got) ++copies[m.header("message-id")];
    return copies.size() == expected.size();
  }, 60s)) << copies.size() << " of " << expected.size() << " distinct mails arrived";
  int repeated = 0;
  for (const auto& [id, n] : copies) {
    EXPECT_TRUE(expected.count(id)) << id << " is no row's Message-ID";
    repeated += n - 1;
  }
  std::printf("%d mails, %zu distinct Message-IDs: %d sent again after a kill, each with its first Message-ID\n",
              static_cast<int>(got.size()), copies.size(), repeated);
  EXPECT_LE(repeated, 8) << "only mails in the middle of their send when killed (at most 4 workers x 2 kills) repeat";
}

}  // namespace
}  // namespace faxbridge::notifier
