#pragma once
// The yearly reference-number counter: one row per year, incremented in the caller's
// transaction, so the number and the fax that carries it commit together and any
// number of instances stay unique. A new year starts at 1.
#include "faxbridge/core/reference.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db::references {

Result<ReferenceNumber> next(Tx& tx, int year);

}  // namespace faxbridge::db::references
