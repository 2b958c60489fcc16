#include "faxbridge/db/documents.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db::documents {

Result<Document> put(Tx& tx, Document doc) {
  auto& w = W(tx);
  pqxx::binarystring bytes(doc.bytes.data(), doc.bytes.size());
  // sha256() runs in the server, so the checksum is of exactly what was stored.
  auto r = w.exec_params(
      "INSERT INTO documents (kind, media_type, filename, size_bytes, sha256, page_count, owner_user_id, bytes) "
      "VALUES ($1, $2, $3, $4, sha256($5), $6, $7, $5) RETURNING id, encode(sha256, 'hex')",
      doc.kind, doc.media_type, doc.filename, static_cast<std::int64_t>(doc.bytes.size()), bytes,
      doc.page_count, doc.owner_user_id);
  doc.id = r[0][0].as<std::int64_t>();
  doc.sha256_hex = r[0][1].as<std::string>();
  return doc;
}

Result<Document> get(Tx& tx, std::int64_t id) {
  auto r = exec_prepared_text(tx, 
      "SELECT id, kind, media_type, filename, page_count, owner_user_id, bytes, encode(sha256, 'hex') "
      "FROM documents WHERE id = $1",
      id);
  if (r.empty()) return Error(Code::k_io_not_found, "No document has the id " + std::to_string(id) + ".");
  Document d;
  d.id = r[0][0].as<std::int64_t>();
  d.kind = r[0][1].as<std::string>();
  d.media_type = r[0][2].as<std::string>();
  d.filename = r[0][3].as<std::string>();
  d.page_count = opt<int>(r[0][4]);
  d.owner_user_id = opt<std::int64_t>(r[0][5]);
  pqxx::binarystring b(r[0][6]);
  d.bytes = b.str();
  d.sha256_hex = r[0][7].as<std::string>();
  return d;
}

}  // namespace faxbridge::db::documents
