// The inbox reads of the API (inbox.hpp). Times cross as microseconds since the epoch:
// exact, so a cursor made from a row finds that row's position again.
#include "faxbridge/db/inbox.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db {
namespace {

std::int64_t micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
TimePoint from_micros(std::int64_t us) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(us)));
}
std::optional<std::int64_t> micros(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return micros(*t);
}

// The columns of InboxFax over `f` (received_faxes) and `e` (the entry: the user's
// inbox_entries row, or the all-faxes aggregate with the same column names).
constexpr const char* kColumns =
    "f.id, f.reference, f.state, f.caller_number, f.called_number, f.remote_station_id, f.pages, f.media, "
    "(extract(epoch FROM f.started_at) * 1000000)::bigint, (extract(epoch FROM f.ended_at) * 1000000)::bigint, "
    "e.read_at IS NOT NULL, (extract(epoch FROM e.read_at) * 1000000)::bigint, e.via_group_id, "
    "coalesce(g.name, ''), f.error_code, f.t30_text, f.tiff_document_id, f.pdf_document_id";

// A user's inbox: their live entries. The all-faxes view: every received fax once,
// read when any recipient has read it; it came through no one group.
constexpr const char* kUserFrom =
    " FROM inbox_entries e JOIN received_faxes f ON f.id = e.received_fax_id "
    "LEFT JOIN groups g ON g.id = e.via_group_id WHERE e.user_id = $1 AND e.deleted_at IS NULL";
constexpr const char* kAllFrom =
    " FROM received_faxes f LEFT JOIN LATERAL (SELECT min(i.read_at) AS read_at, NULL::bigint AS via_group_id "
    "FROM inbox_entries i WHERE i.received_fax_id = f.id AND i.deleted_at IS NULL) e ON true "
    "LEFT JOIN groups g ON false WHERE $1::bigint IS NULL";

InboxFax fax_from(const pqxx::row& r) {
  InboxFax x;
  x.id = r[0].as<std::int64_t>();
  x.reference = opt<std::string>(r[1]);
  x.state = r[2].as<std::string>();
  x.caller_number = r[3].as<std::string>();
  x.called_number = r[4].as<std::string>();
  x.remote_station_id = r[5].as<std::string>();
  x.pages = r[6].as<int>();
  x.media = opt<std::string>(r[7]);
  x.received_at = from_micros(r[8].as<std::int64_t>());
  if (!r[9].is_null()) x.ended_at = from_micros(r[9].as<std::int64_t>());
  x.read = r[10].as<bool>();
  if (!r[11].is_null()) x.read_at = from_micros(r[11].as<std::int64_t>());
  x.via_group_id = opt<std::int64_t>(r[12]);
  x.via_group_name = r[13].as<std::string>();
  x.error_code = opt<std::string>(r[14]);
  x.t30_text = opt<std::string>(r[15]);
  x.tiff_document_id = opt<std::int64_t>(r[16]);
  x.pdf_document_id = opt<std::int64_t>(r[17]);
  return x;
}

}  // namespace

namespace inbox {

Result<InboxPage> list(Tx& tx, const InboxQuery& q) {
  // One statement for every combination of filters: an absent filter is a NULL
  // parameter that its condition lets through, so the text stays fixed.
  std::string sql = std::string("SELECT ") + kColumns + (q.user_id ? kUserFrom : kAllFrom) +
                    " AND ($2::boolean IS NULL OR (e.read_at IS NULL) = $2)"
                    " AND ($3::text IS NULL OR starts_with(f.reference, $3))"
                    " AND ($4::text IS NULL OR strpos(f.caller_number, $4) > 0)"
                    " AND ($5::bigint IS NULL OR f.started_at >= to_timestamp($5::float8 / 1000000))"
                    " AND ($6::bigint IS NULL OR f.started_at < to_timestamp($6::float8 / 1000000))"
                    // Keyset: rows after the cursor in (read, received_at DESC, id DESC).
                    " AND ($7::boolean IS NULL OR (e.read_at IS NOT NULL, -(extract(epoch FROM f.started_at) * "
                    "1000000)::bigint, -f.id) > ($7, -$8::bigint, -$9::bigint))"
                    " ORDER BY e.read_at IS NOT NULL, f.started_at DESC, f.id DESC LIMIT $10";
  std::optional<bool> after_read;
  std::optional<std::int64_t> after_us, after_id;
  if (q.after) {
    after_read = q.after->read;
    after_us = q.after->received_at_us;
    after_id = q.after->id;
  }
  auto rows = W(tx).exec_params(sql, q.user_id, q.unread, q.reference, q.from, micros(q.received_after),
                                micros(q.received_before), after_read, after_us, after_id, q.limit + 1);
  InboxPage page;
  for (const auto& r : rows) {
    if (static_cast<int>(page.faxes.size()) == q.limit) {
      const InboxFax& last = page.faxes.back();
      page.next = InboxCursor{last.read, micros(last.received_at), last.id};
      break;
    }
    page.faxes.push_back(fax_from(r));
  }
  return page;
}

Result<std::optional<InboxFax>> find(Tx& tx, std::int64_t id, std::optional<std::int64_t> user_id) {
  const std::string sql = std::string("SELECT ") + kColumns + (user_id ? kUserFrom : kAllFrom) + " AND f.id = $2";
  auto rows = W(tx).exec_params(sql, user_id, id);
  if (rows.empty()) return std::optional<InboxFax>{};
  return std::optional<InboxFax>(fax_from(rows[0]));
}

Result<bool> set_read(Tx& tx, std::int64_t id, std::int64_t user_id, bool read, TimePoint now) {
  auto r = W(tx).exec_params(
      "UPDATE inbox_entries SET read_at = CASE WHEN $3 THEN coalesce(read_at, to_timestamp($4::float8 / 1000000)) "
      "END WHERE received_fax_id = $1 AND user_id = $2 AND deleted_at IS NULL",
      id, user_id, read, micros(now));
  return r.affected_rows() > 0;
}

}  // namespace inbox

namespace documents {

Result<std::optional<DocumentHead>> head(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params(
      "SELECT id, kind, media_type, size_bytes, page_count, encode(sha256, 'hex') FROM documents WHERE id = $1", id);
  if (r.empty()) return std::optional<DocumentHead>{};
  DocumentHead h;
  h.id = r[0][0].as<std::int64_t>();
  h.kind = r[0][1].as<std::string>();
  h.media_type = r[0][2].as<std::string>();
  h.size_bytes = r[0][3].as<std::int64_t>();
  h.page_count = opt<int>(r[0][4]);
  h.sha256_hex = r[0][5].as<std::string>();
  return std::optional<DocumentHead>(h);
}

}  // namespace documents
}  // namespace faxbridge::db
