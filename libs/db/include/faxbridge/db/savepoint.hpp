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

// When a unit that succeeded gives its savepoint up. kNow: RELEASE SAVEPOINT at once.
// kAtCommit: left open, so the next unit's savepoint nests inside it and the COMMIT
// releases them all; one round trip fewer per unit, for a run of units in one
// transaction (mail-ingest's batch: up to 40, within the 64 subtransactions PostgreSQL
// caches either way, as a released savepoint's subtransaction counts too). A unit that
// fails is still rolled back and released alone, so the units before it keep theirs.
enum class SavepointRelease { kNow, kAtCommit };

Result<void> within_savepoint(Tx& tx, const std::function<Result<void>(Tx&)>& fn,
                              SavepointRelease release = SavepointRelease::kNow);

}  // namespace faxbridge::db
