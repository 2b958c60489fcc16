// DESIGN: see faxes.hpp. Lists of ids and labels cross into SQL as one text parameter
// (string_to_array), since pqxx 6.4 has no array parameters. Every read of a fax is
// the one statement kFaxSelect, so the list and the single fax can never disagree on
// a field. Times leave as ISO text made by Postgres (UTC, milliseconds, like
// core's iso8601_utc), and a row's list position as whole microseconds since the
// epoch: the cursor compares it back exactly (to_timestamp of whole seconds plus an
// integer interval, no float rounding). The statements the API runs on every request
// (the list, a fax, a broadcast's reads and writes) are prepared per connection
// (exec_prepared_text; the list, one text per combination of filters,
// exec_prepared_varying): parsing and planning the 30-column select was most of
// Postgres's time per page (bench/api/README.md).
#include "faxbridge/db/faxes.hpp"

#include <algorithm>

#include "faxbridge/db/states.hpp"
#include "pqxx_support.hpp"
#include "states_sql.hpp"

namespace faxbridge::db {
namespace {

constexpr const char* kIso = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'";

std::string iso(const std::string& column) { return "to_char(" + column + " AT TIME ZONE 'UTC', " + kIso + ")"; }

const std::string& fax_select() {
  static const std::string sql =
      "SELECT j.id, j.reference, j.state, j.sender_user_id, u.username, j.recipient_number, j.recipient_name, "
      "j.recipient_company, j.subject, j.note, j.cover_page_name, j.resolution, j.priority, " +
      iso("j.scheduled_at") +
      ", j.max_attempts, j.retry_interval_s, j.labels, j.client_reference, "
      "array_to_string(ARRAY(SELECT d.document_id FROM fax_job_documents d WHERE d.job_id = j.id "
      "  ORDER BY d.position), ','), "
      "j.page_count, j.pages_sent, j.attempts, j.cancel_requested, j.error_code, j.error_category, j.error_detail, "
      "j.error_retryable, la.sip_status, la.t30_code, " +
      iso("j.created_at") + ", " + iso("j.updated_at") + ", " + iso("j.completed_at") +
      ", (extract(epoch FROM j.created_at) * 1000000)::bigint, j.recipient_canonical "
      "FROM fax_jobs j LEFT JOIN users u ON u.id = j.sender_user_id "
      "LEFT JOIN LATERAL (SELECT a.sip_status, a.t30_code FROM attempts a WHERE a.job_id = j.id "
      "  AND (a.sip_status IS NOT NULL OR a.t30_code IS NOT NULL) ORDER BY a.attempt_no DESC LIMIT 1) la ON true ";
  return sql;
}

std::vector<std::int64_t> id_list(const std::string& text) {
  std::vector<std::int64_t> out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(std::stoll(text.substr(at, comma - at)));
    at = comma + 1;
  }
  return out;
}

std::string join_ids(const std::vector<std::int64_t>& ids) {
  std::string out;
  for (auto id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out;
}

FaxRecord fax_from(const pqxx::row& r) {
  FaxRecord f;
  f.id = r[0].as<std::int64_t>();
  f.reference = opt<std::string>(r[1]);
  f.state = r[2].as<std::string>();
  f.sender_user_id = opt<std::int64_t>(r[3]);
  f.sender_username = opt<std::string>(r[4]);
  f.recipient_number = r[5].as<std::string>();
  f.recipient_name = r[6].as<std::string>();
  f.recipient_company = r[7].as<std::string>();
  f.subject = r[8].as<std::string>();
  f.note = r[9].as<std::string>();
  f.cover_page_name = opt<std::string>(r[10]);
  f.resolution = r[11].as<std::string>();
  f.priority = r[12].as<int>();
  f.scheduled_at = opt<std::string>(r[13]);
  f.max_attempts = opt<int>(r[14]);
  f.retry_interval_s = opt<int>(r[15]);
  f.labels = text_array(r[16]);
  f.client_reference = opt<std::string>(r[17]);
  f.document_ids = id_list(r[18].as<std::string>());
  f.page_count = opt<int>(r[19]);
  f.pages_sent = r[20].as<int>();
  f.attempts = r[21].as<int>();
  f.cancel_requested = r[22].as<bool>();
  f.error_code = opt<std::string>(r[23]);
  f.error_category = opt<std::string>(r[24]);
  f.error_detail = opt<std::string>(r[25]);
  f.error_retryable = opt<bool>(r[26]);
  f.last_sip_status = opt<int>(r[27]);
  f.last_t30_code = opt<int>(r[28]);
  f.created_at = r[29].as<std::string>();
  f.updated_at = r[30].as<std::string>();
  f.completed_at = opt<std::string>(r[31]);
  f.created_at_us = r[32].as<std::int64_t>();
  f.recipient_canonical = r[33].as<std::string>();
  return f;
}

Error no_fax(std::int64_t id) {
  return Error(Code::k_fax_not_found, "You have no fax with the id " + std::to_string(id) + ".");
}

}  // namespace

namespace files {

Result<StoredFile> create(Tx& tx, std::int64_t owner, const std::string& filename, const std::string& media_type,
                          std::optional<int> page_count, const std::string& bytes) {
  pqxx::binarystring data(bytes.data(), bytes.size());
  auto r = W(tx).exec_params(
      "INSERT INTO documents (kind, media_type, filename, size_bytes, sha256, page_count, owner_user_id, bytes) "
      "VALUES ('upload', $1, $2, $3, sha256($4), $5, $6, $4) RETURNING id, encode(sha256, 'hex'), " +
          iso("created_at"),
      media_type, filename, static_cast<std::int64_t>(bytes.size()), data, page_count, owner);
  StoredFile f;
  f.id = r[0][0].as<std::int64_t>();
  f.filename = filename;
  f.media_type = media_type;
  f.size_bytes = static_cast<std::int64_t>(bytes.size());
  f.sha256_hex = r[0][1].as<std::string>();
  f.page_count = page_count;
  f.created_at = r[0][2].as<std::string>();
  return f;
}

Result<std::vector<std::int64_t>> owned(Tx& tx, std::int64_t owner, const std::vector<std::int64_t>& ids) {
  std::vector<std::int64_t> out;
  if (ids.empty()) return out;
  static const std::string sql =
      "SELECT id FROM documents WHERE kind = 'upload' AND owner_user_id = $1 "
      "AND id = ANY(string_to_array($2, ',')::bigint[])";
  auto r = exec_prepared_text(tx, sql, owner, join_ids(ids));
  for (const auto& row : r) out.push_back(row[0].as<std::int64_t>());
  return out;
}

}  // namespace files

namespace faxes {

Result<std::vector<std::int64_t>> create(Tx& tx, const std::vector<NewJob>& jobs, const std::vector<std::string>& labels,
                                         const std::optional<std::string>& client_reference, const std::string& actor) {
  std::vector<std::int64_t> ids;
  ids.reserve(jobs.size());
  for (const auto& n : jobs) {
    auto job = jobs::create(tx, n, actor);
    if (!job) return job.error();
    ids.push_back(job->id);
  }
  if (!ids.empty() && (!labels.empty() || client_reference)) {
    static const std::string sql =
        "UPDATE fax_jobs SET labels = string_to_array($1, E'\\n'), client_reference = $2 "
        "WHERE id = ANY(string_to_array($3, ',')::bigint[])";
    exec_prepared_text(tx, sql, join_lines(labels), client_reference, join_ids(ids));
  }
  return ids;
}

Result<FaxRecord> get(Tx& tx, std::int64_t id, std::optional<std::int64_t> viewer) {
  static const std::string sql = fax_select() + "WHERE j.id = $1 AND ($2::bigint IS NULL OR j.sender_user_id = $2)";
  auto r = exec_prepared_text(tx, sql, id, viewer);
  if (r.empty()) return no_fax(id);
  return fax_from(r[0]);
}

Result<std::vector<FaxRecord>> get_many(Tx& tx, const std::vector<std::int64_t>& ids) {
  std::vector<FaxRecord> out;
  if (ids.empty()) return out;
  static const std::string sql =
      fax_select() + "WHERE j.id = ANY(string_to_array($1, ',')::bigint[]) ORDER BY j.id";
  auto r = exec_prepared_text(tx, sql, join_ids(ids));
  std::vector<FaxRecord> found;
  for (const auto& row : r) found.push_back(fax_from(row));
  // In the order asked for (a broadcast's answer follows its `to`).
  for (auto id : ids) {
    for (auto& f : found) {
      if (f.id == id) {
        out.push_back(std::move(f));
        break;
      }
    }
  }
  return out;
}

Result<std::vector<FaxRecord>> list(Tx& tx, const FaxListQuery& q) {
  // Only the filters present enter the statement, so each combination is its own
  // prepared statement with its own plan (exec_prepared_varying); one statement with
  // every filter as `($n IS NULL OR ...)` would share one generic plan among all. The
  // limit and the states are in the text, not parameters: with LIMIT $n Postgres's
  // generic plan assumes a tenth of the table is read (cost high enough for JIT, so it
  // keeps planning every call). A state filter reads the state indexes of migration 0018
  // as ranges; a generic plan over a state parameter walked the whole list index.
  std::vector<std::string> params;
  std::string where;
  auto param = [&](std::string value) {
    params.push_back(std::move(value));
    return "$" + std::to_string(params.size());
  };
  auto require = [&](const std::string& condition) {
    where += where.empty() ? "WHERE " : " AND ";
    where += condition;
  };
  if (q.sender) require("j.sender_user_id = " + param(std::to_string(*q.sender)) + "::bigint");
  // Names from the state table only (an unknown one matches no row), sorted, so the same
  // set is the same text.
  std::vector<std::string_view> states;
  for (const auto& s : q.states) {
    if (const auto state = parse_job_state(s)) states.push_back(state_name(*state));
  }
  if (!q.states.empty() && states.empty()) return std::vector<FaxRecord>{};
  std::sort(states.begin(), states.end());
  states.erase(std::unique(states.begin(), states.end()), states.end());
  if (q.reference) require("j.reference = " + param(*q.reference));
  if (q.client_reference) require("j.client_reference = " + param(*q.client_reference));
  if (q.recipient_canonical) require("j.recipient_canonical = " + param(*q.recipient_canonical));
  if (q.label) require("j.labels @> ARRAY[" + param(*q.label) + "::text]");
  if (q.created_after) require("j.created_at > " + param(to_sql_time(*q.created_after)) + "::timestamptz");
  if (q.created_before) require("j.created_at < " + param(to_sql_time(*q.created_before)) + "::timestamptz");
  if (q.after) {
    // A row comparison the list index serves as a range (migration 0011).
    const auto us = param(std::to_string(q.after->first));
    const auto id = param(std::to_string(q.after->second));
    require("(j.created_at, j.id) < (to_timestamp((" + us + "::bigint / 1000000)::float8) + (" + us +
            "::bigint % 1000000) * interval '1 microsecond', " + id + "::bigint)");
  }
  const std::string order = " ORDER BY j.created_at DESC, j.id DESC LIMIT " + std::to_string(std::max(q.limit, 0) + 1);
  auto with_state = [&](std::string_view state) {
    return (where.empty() ? "WHERE " : where + " AND ") + "j.state = " + states_sql::quoted(state);
  };
  std::string sql;
  if (states.size() == 1) {
    sql = fax_select() + with_state(states[0]) + order;  // one range of a (sender,) state index
  } else if (states.size() > 1) {
    // `state IN (a, b)` cannot read a (state, created_at) index in list order, so the plan
    // walked the whole list index filtering; instead each state's page is its own range
    // and the pages are merged.
    std::string pages;
    for (auto state : states) {
      pages += std::string(pages.empty() ? "" : " UNION ALL ") + "(SELECT j.id FROM fax_jobs j " + with_state(state) +
               order + ")";
    }
    sql = fax_select() + "WHERE j.id IN (SELECT id FROM (" + pages + ") pages)" + order;
  } else {
    sql = fax_select() + where + order;
  }
  auto r = exec_prepared_varying(tx, sql, pqxx::prepare::make_dynamic_params(params));
  std::vector<FaxRecord> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(fax_from(row));
  return out;
}

Result<bool> cover_page_exists(Tx& tx, const std::string& name, const std::string& language) {
  // "en_default" names the English version of "default": it exists when either does
  // (the converter's lookup falls back from the localized name to the plain one).
  auto r = W(tx).exec_params(
      "SELECT EXISTS (SELECT 1 FROM cover_pages WHERE name = $1 OR name = $2 || '_' || $1 "
      "OR ($1 ~ '^[a-z]{2}_.' AND name = substring($1 FROM 4)))",
      name, language);
  return r[0][0].as<bool>();
}

}  // namespace faxes

namespace idempotency {

Result<IdempotencyClaim> claim(Tx& tx, std::int64_t user_id, const std::string& key, const std::string& request_hash,
                               std::chrono::seconds lifetime, std::chrono::seconds abandoned_after) {
  auto& w = W(tx);
  // A twin request inserting the same key waits here for the first one's commit, then
  // finds its row (READ COMMITTED sees it in the SELECT below).
  auto r = w.exec_params(
      "INSERT INTO idempotency_keys (user_id, key, request_hash, status, response) "
      "VALUES ($1, $2, decode($3, 'hex'), 0, 'null') "
      "ON CONFLICT (user_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = 0, "
      "  response = 'null', created_at = now() "
      "WHERE idempotency_keys.created_at < now() - $4 * interval '1 second' "
      "   OR (idempotency_keys.status = 0 AND idempotency_keys.created_at < now() - $5 * interval '1 second') "
      "RETURNING 1",
      user_id, key, request_hash, static_cast<std::int64_t>(lifetime.count()),
      static_cast<std::int64_t>(abandoned_after.count()));
  IdempotencyClaim c;
  if (!r.empty()) return c;
  auto found = w.exec_params(
      "SELECT encode(request_hash, 'hex'), status, response::text FROM idempotency_keys WHERE user_id = $1 AND key = $2",
      user_id, key);
  if (found.empty()) {
    // Released between our insert and our read: the caller may simply retry.
    c.kind = IdempotencyClaim::Kind::kInProgress;
    return c;
  }
  if (found[0][0].as<std::string>() != request_hash) {
    c.kind = IdempotencyClaim::Kind::kReused;
  } else if (found[0][1].as<int>() == 0) {
    c.kind = IdempotencyClaim::Kind::kInProgress;
  } else {
    c.kind = IdempotencyClaim::Kind::kReplay;
    c.status = found[0][1].as<int>();
    c.response = found[0][2].as<std::string>();
  }
  return c;
}

Result<void> complete(Tx& tx, std::int64_t user_id, const std::string& key, int status, const std::string& response_json) {
  W(tx).exec_params("UPDATE idempotency_keys SET status = $3, response = $4::jsonb WHERE user_id = $1 AND key = $2",
                    user_id, key, status, response_json);
  return ok();
}

Result<void> release(Tx& tx, std::int64_t user_id, const std::string& key) {
  W(tx).exec_params("DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = 0", user_id, key);
  return ok();
}

Result<int> purge(Tx& tx, std::chrono::seconds lifetime, int batch) {
  auto r = W(tx).exec_params(
      "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys "
      "WHERE created_at < now() - $1 * interval '1 second' LIMIT $2)",
      static_cast<std::int64_t>(lifetime.count()), batch);
  return static_cast<int>(r.affected_rows());
}

}  // namespace idempotency

}  // namespace faxbridge::db
