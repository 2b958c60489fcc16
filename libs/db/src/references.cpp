#include "faxbridge/db/references.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db::references {

Result<ReferenceNumber> next(Tx& tx, int year) {
  // The row lock taken by the upsert serialises concurrent drawers of the same year.
  auto r = W(tx).exec_params(
      "INSERT INTO reference_counters (year, last_value) VALUES ($1, 1) "
      "ON CONFLICT (year) DO UPDATE SET last_value = reference_counters.last_value + 1 "
      "WHERE reference_counters.last_value < 99999999 RETURNING last_value",
      year);
  if (r.empty()) return ReferenceNumber::make(year, kMaxReferenceSequence + 1);  // exhausted
  return ReferenceNumber::make(year, r[0][0].as<std::int64_t>());
}

}  // namespace faxbridge::db::references
