#pragma once
// A unit of work inside a transaction that can be undone alone: fn runs within a
// savepoint, and an error it returns rolls back only what fn wrote (ROLLBACK TO
// SAVEPOINT), together with the after-commit actions fn registered, while the
// transaction goes on to commit the rest. This lets one commit carry several
// independent units (mail-ingest's batch of mails, each with its own ledger row) where
// one unit's refusal must not undo the others.
//
// An exception fn throws (a failed statement, a broken connection) is not caught: the
// whole transaction fails, as it would without the savepoint, and Pool::transact
// handles it as always. A savepoint needs Pool::transact (std::logic_error under
// Pool::autocommit).
#include <functional>

#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

Result<void> within_savepoint(Tx& tx, const std::function<Result<void>(Tx&)>& fn);

}  // namespace faxbridge::db
