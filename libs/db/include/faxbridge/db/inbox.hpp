#pragma once
// The inbox as the API reads it: received faxes joined with the inbox entries of one
// user (their own inbox), or every received fax (an administrator's view of all of
// them). Lists are keyset-paginated on (read, received_at, id): unread first, newest
// first, so a page costs the same however deep the caller has scrolled, and a fax that
// arrives between two pages never shifts the next one. (db::inbox::deliver and
// for_user, the router's side, are in records.hpp.)
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

struct InboxFax {
  std::int64_t id = 0;  // the received fax's id
  std::optional<std::string> reference;
  std::string state;  // received_faxes.state
  std::string caller_number;
  std::string called_number;
  std::string remote_station_id;
  int pages = 0;
  std::optional<std::string> media;
  TimePoint received_at;  // when the call came in
  std::optional<TimePoint> ended_at;
  // Of the user's entry; in the all-faxes view, whether any recipient has read it (and
  // when the first did).
  bool read = false;
  std::optional<TimePoint> read_at;
  std::optional<std::int64_t> via_group_id;  // the group number it came through
  std::string via_group_name;
  std::optional<std::string> error_code;
  std::optional<std::string> t30_text;
  std::optional<std::int64_t> tiff_document_id;
  std::optional<std::int64_t> pdf_document_id;
};

// Where a page ends: the sort key of its last fax.
struct InboxCursor {
  bool read = false;
  std::int64_t received_at_us = 0;  // microseconds since the epoch
  std::int64_t id = 0;
};

struct InboxQuery {
  std::optional<std::int64_t> user_id;  // nullopt: every received fax (administrators)
  std::optional<bool> unread;           // true: only unread; false: only read
  std::optional<std::string> reference;  // a prefix of the reference number
  std::optional<std::string> from;       // part of the caller's number
  std::optional<TimePoint> received_after;   // inclusive
  std::optional<TimePoint> received_before;  // exclusive
  int limit = 50;
  std::optional<InboxCursor> after;
};

struct InboxPage {
  std::vector<InboxFax> faxes;
  std::optional<InboxCursor> next;  // set when more faxes follow
};

namespace inbox {
Result<InboxPage> list(Tx& tx, const InboxQuery& query);
// One fax in a user's inbox (nullopt when it is not there: another user's fax, a
// deleted entry, no such fax), or, with user_id nullopt, any received fax.
Result<std::optional<InboxFax>> find(Tx& tx, std::int64_t received_fax_id, std::optional<std::int64_t> user_id);
// Marks the user's entry read (at `now`, keeping an earlier time) or unread. false:
// the fax is not in the user's inbox.
Result<bool> set_read(Tx& tx, std::int64_t received_fax_id, std::int64_t user_id, bool read, TimePoint now);
}  // namespace inbox

// The metadata of a stored document, without its bytes: enough to answer a conditional
// request (ETag from the sha256) before reading megabytes.
struct DocumentHead {
  std::int64_t id = 0;
  std::string kind;
  std::string media_type;
  std::int64_t size_bytes = 0;
  std::optional<int> page_count;
  std::string sha256_hex;
};

namespace documents {
Result<std::optional<DocumentHead>> head(Tx& tx, std::int64_t id);
}  // namespace documents

}  // namespace faxbridge::db
