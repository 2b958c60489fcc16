#pragma once
// Documents: uploads, converted fax pages, received TIFFs, PDFs and previews, with
// their bytes in Postgres (one backup holds everything; no shared file system).
#include <cstdint>
#include <optional>
#include <string>

#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

struct Document {
  std::int64_t id = 0;
  std::string kind;  // upload | fax_pages | received_tiff | pdf | preview
  std::string media_type;
  std::string filename;
  std::optional<int> page_count;
  std::optional<std::int64_t> owner_user_id;
  std::string bytes;
  std::string sha256_hex;  // filled by documents::put
};

namespace documents {
Result<Document> put(Tx& tx, Document doc);
Result<Document> get(Tx& tx, std::int64_t id);
// The document with its bytes in base64 (RFC 2045 lines of 76 characters, LF ends) in
// `bytes`, for a mail attachment: the server encodes once, and a bytea's hex text never
// travels or gets unescaped only to be encoded again.
Result<Document> get_base64(Tx& tx, std::int64_t id);
// get_base64 for several documents in one statement (a notifier's batch of mails), in no
// given order; an id with no document is left out.
Result<std::vector<Document>> get_base64_all(Tx& tx, const std::vector<std::int64_t>& ids);
}  // namespace documents

}  // namespace faxbridge::db
