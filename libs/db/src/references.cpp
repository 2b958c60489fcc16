#include "faxbridge/db/references.hpp"

#include "pqxx_support.hpp"
#include "references_sql.hpp"

namespace faxbridge::db::references {

Result<ReferenceNumber> next(Tx& tx, int year) {
  if (year < 1970 || year > 9999) return ReferenceNumber::make(year, 1).error();
  try {
    auto r = W(tx).exec_params("SELECT faxbridge_next_reference($1)", year);
    return ReferenceNumber::parse(r[0][0].as<std::string>());
  } catch (const pqxx::sql_error& e) {
    if (!references_sql::is_exhausted(e)) throw;
    return ReferenceNumber::make(year, kMaxReferenceSequence + 1).error();
  }
}

}  // namespace faxbridge::db::references
