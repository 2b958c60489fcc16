// The fax list's and POST /faxes' hand-written JSON (faxes_json, fax_page_json) against
// nlohmann's dump of fax_json, the one definition of the shape: byte for byte, for
// faxes with every optional field empty and full, a failure with and without its
// codes, and text that needs escaping (quotes, backslashes, control characters,
// UTF-8). Text that is not UTF-8 is refused by both.
#include "fax_json.hpp"

#include <gtest/gtest.h>

namespace faxbridge::webapi {
namespace {

db::FaxRecord bare() {
  db::FaxRecord f;
  f.id = 7;
  f.state = "submitted";
  f.recipient_number = "+12125550100";
  f.resolution = "fine";
  f.created_at = "2026-12-01T09:30:00.000Z";
  f.updated_at = "2026-12-01T09:30:00.000Z";
  return f;
}

db::FaxRecord full() {
  db::FaxRecord f = bare();
  f.id = 9007199254740993;  // above 2^53: integers stay integers
  f.reference = "2026.00000042";
  f.state = "failed";
  f.sender_user_id = 3;
  f.sender_username = "alice";
  f.recipient_name = "Bob \"the builder\" O'Neil";
  f.recipient_company = "Back\\slash & Co";
  f.subject = "line one\nline two\ttabbed\r\x01\x1f\x7f";
  f.note = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa0";  // café € and a fax machine emoji
  f.cover_page_name = "urgent";
  f.priority = 50;
  f.scheduled_at = "2026-12-02T08:00:00.000Z";
  f.max_attempts = 5;
  f.retry_interval_s = 300;
  f.labels = {"invoices", "q4 \"2026\"", ""};
  f.client_reference = "INV-1/2\b\f";
  f.document_ids = {11, 12, 13};
  f.page_count = 4;
  f.pages_sent = 2;
  f.attempts = 3;
  f.cancel_requested = true;
  f.error_code = "fax.call_dropped";
  f.error_category = "line";
  f.error_detail = "The call dropped after page 2.";
  f.last_sip_status = 200;
  f.last_t30_code = 49;
  f.completed_at = "2026-12-01T10:00:00.000Z";
  return f;
}

std::string expected_page(const std::vector<db::FaxRecord>& faxes, const std::optional<std::string>& cursor) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& f : faxes) items.push_back(fax_json(f));
  return nlohmann::json({{"faxes", items}, {"next_cursor", cursor ? nlohmann::json(*cursor) : nlohmann::json()}})
      .dump();
}

std::string expected_faxes(const std::vector<db::FaxRecord>& faxes) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& f : faxes) items.push_back(fax_json(f));
  return nlohmann::json({{"faxes", items}}).dump();
}

TEST(FaxJson, APageIsWhatNlohmannDumpsForTheSameFaxes) {
  auto unknown_code = full();
  unknown_code.error_code = "no.such_code";
  unknown_code.error_retryable.reset();
  unknown_code.error_category.reset();
  unknown_code.last_sip_status.reset();
  unknown_code.last_t30_code.reset();
  auto known_code = unknown_code;
  known_code.error_code = "fax.call_dropped";  // retryable by its class
  auto told = full();
  told.error_retryable = false;
  auto normal = full();
  normal.priority = 100;
  auto low = full();
  low.priority = 200;
  const std::vector<db::FaxRecord> faxes = {bare(), full(), unknown_code, known_code, told, normal, low};
  EXPECT_EQ(fax_page_json(faxes, std::nullopt), expected_page(faxes, std::nullopt));
  EXPECT_EQ(fax_page_json(faxes, "MTIzLjQ1"), expected_page(faxes, "MTIzLjQ1"));
  EXPECT_EQ(faxes_json(faxes), expected_faxes(faxes));
}

TEST(FaxJson, AnEmptyPageHasAnEmptyArray) {
  EXPECT_EQ(fax_page_json({}, std::nullopt), R"({"faxes":[],"next_cursor":null})");
  EXPECT_EQ(fax_page_json({}, std::nullopt), expected_page({}, std::nullopt));
  EXPECT_EQ(faxes_json({}), expected_faxes({}));
}

TEST(FaxJson, EveryControlCharacterIsEscapedAsNlohmannDoes) {
  auto f = bare();
  for (int c = 1; c < 0x20; ++c) f.subject += static_cast<char>(c);
  f.subject += "\"\\/";
  EXPECT_EQ(faxes_json({f}), expected_faxes({f}));
}

TEST(FaxJson, TextThatIsNotUtf8IsRefusedByBothWays) {
  auto f = bare();
  f.subject = "bad \xff byte";
  EXPECT_THROW(fax_json(f).dump(), nlohmann::json::type_error);
  EXPECT_THROW(faxes_json({f}), nlohmann::json::type_error);
}

}  // namespace
}  // namespace faxbridge::webapi
