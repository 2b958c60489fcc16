#include "faxbridge/db/documents.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db::documents {

Result<Document> put(Tx& tx, Document doc) {
  // The bytes go as a binary parameter (pqxx sends a binarystring in binary format), never
  // escaped into text. Prepared: mail-ingest stores a document per mail, and parsing and
  // planning this INSERT each time was a tenth of PostgreSQL's CPU (bench/mail).
  pqxx::binarystring bytes(doc.bytes.data(), doc.bytes.size());
  // sha256() runs in the server, so the checksum is of exactly what was stored.
  static const std::string sql =
      "INSERT INTO documents (kind, media_type, filename, size_bytes, sha256, page_count, owner_user_id, bytes) "
      "VALUES ($1, $2, $3, $4, sha256($5), $6, $7, $5) RETURNING id, encode(sha256, 'hex')";
  auto r = exec_prepared_text(tx, sql, doc.kind, doc.media_type, doc.filename,
                              static_cast<std::int64_t>(doc.bytes.size()), bytes, doc.page_count, doc.owner_user_id);
  doc.id = r[0][0].as<std::int64_t>();
  doc.sha256_hex = r[0][1].as<std::string>();
  return doc;
}

namespace {

// The statement's columns: id, kind, media_type, filename, page_count, owner_user_id,
// the bytes (as bytea, or as base64 text), sha256 in hex.
const std::string kColumns = "SELECT id, kind, media_type, filename, page_count, owner_user_id, ";
const std::string kSha = ", encode(sha256, 'hex') FROM documents ";

Document document_from(const pqxx::row& row, bool base64) {
  Document d;
  d.id = row[0].as<std::int64_t>();
  d.kind = row[1].as<std::string>();
  d.media_type = row[2].as<std::string>();
  d.filename = row[3].as<std::string>();
  d.page_count = opt<int>(row[4]);
  d.owner_user_id = opt<std::int64_t>(row[5]);
  if (base64) {
    d.bytes.assign(row[6].c_str(), row[6].size());
  } else {
    pqxx::binarystring b(row[6]);
    d.bytes = b.str();
  }
  d.sha256_hex = row[7].as<std::string>();
  return d;
}

// One statement for both forms: the bytes column as bytea, or as base64 text.
Result<Document> get_as(Tx& tx, std::int64_t id, bool base64) {
  static const std::string kAsBytea = kColumns + "bytes" + kSha + "WHERE id = $1";
  static const std::string kAsBase64 = kColumns + "encode(bytes, 'base64')" + kSha + "WHERE id = $1";
  auto r = exec_prepared_text(tx, base64 ? kAsBase64 : kAsBytea, id);
  if (r.empty()) return Error(Code::k_io_not_found, "No document has the id " + std::to_string(id) + ".");
  return document_from(r[0], base64);
}

}  // namespace

Result<Document> get(Tx& tx, std::int64_t id) { return get_as(tx, id, false); }

Result<Document> get_base64(Tx& tx, std::int64_t id) { return get_as(tx, id, true); }

Result<std::vector<Document>> get_base64_all(Tx& tx, const std::vector<std::int64_t>& ids) {
  std::vector<Document> docs;
  if (ids.empty()) return docs;
  static const std::string sql = kColumns + "encode(bytes, 'base64')" + kSha + "WHERE id = ANY($1::bigint[])";
  for (const auto& row : exec_prepared_text(tx, sql, bigint_array(ids))) docs.push_back(document_from(row, true));
  return docs;
}

}  // namespace faxbridge::db::documents
