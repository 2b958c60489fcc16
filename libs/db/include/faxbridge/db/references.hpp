#pragma once
// Reference numbers (YYYY.NNNNNNNN) from one PostgreSQL sequence per year (migration
// 0006, faxbridge_next_reference): unique and increasing across any number of
// instances, restarting at 1 each year, never waited on. A number drawn in a
// transaction that rolls back is skipped, so numbers may have gaps.
// Who draws: a fax job gets its number in its own INSERT (the column's default), so
// the converter and the router only read it; a received fax gets its number from the
// router when it routes it (docs/design.md, "Reference numbers").
#include "faxbridge/core/reference.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db::references {

// reference.exhausted after 99,999,999 numbers in a year.
Result<ReferenceNumber> next(Tx& tx, int year);

}  // namespace faxbridge::db::references
