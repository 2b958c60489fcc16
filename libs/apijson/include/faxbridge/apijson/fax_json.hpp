#pragma once
// The fax, its call attempts, an uploaded file and a received fax as the API shows them
// (docs/api/openapi.yaml, schemas Fax, FaxAttempt, File, InboxFax). One place, so
// POST /faxes, GET /faxes, GET /faxes/{id}, cancel, resend, the inbox and the webhook
// bodies (libs/webhook: `data` is the same object) can never disagree. Its own small
// library so that libs/webhook writes the API's objects without linking the web API.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "faxbridge/db/faxes.hpp"
#include "faxbridge/db/inbox.hpp"
#include "faxbridge/db/records.hpp"

namespace faxbridge::apijson {

nlohmann::json fax_json(const db::FaxRecord& fax);
// `{"faxes":[...]}` (POST /faxes) and `{"faxes":[...],"next_cursor":...}` (the list):
// the bytes nlohmann dumps for the same objects (keys sorted), written straight into
// one string. A page of 50-200 faxes built as nlohmann objects cost most of web-api's
// CPU (a std::map per object, copies, frees: bench/api/README.md); fax_json_test
// checks that both ways give the same text.
std::string faxes_json(const std::vector<db::FaxRecord>& faxes);
std::string fax_page_json(const std::vector<db::FaxRecord>& faxes, const std::optional<std::string>& next_cursor);
nlohmann::json attempt_json(const db::AttemptRecord& attempt);
nlohmann::json file_json(const db::StoredFile& file);
// A received fax as the inbox shows it (InboxFax).
nlohmann::json inbox_fax_json(const db::InboxFax& fax);

// The API's priority names over fax_jobs.priority (smaller is sooner; 100 the default).
inline constexpr int kPriorityHigh = 50;
inline constexpr int kPriorityNormal = 100;
inline constexpr int kPriorityLow = 200;
int priority_value(std::string_view name);  // "low" | "normal" | "high"
std::string_view priority_name(int value);

}  // namespace faxbridge::apijson
