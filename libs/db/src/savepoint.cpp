// DESIGN: see savepoint.hpp. The savepoint is plain SQL on the transaction itself, not a
// pqxx::subtransaction: pqxx 6.4 lets only the innermost of nested transaction objects
// run statements, and the repositories fn calls run theirs on the Tx they are given.
// One name serves every level: PostgreSQL's ROLLBACK TO and RELEASE address the newest
// savepoint of that name, so nesting works (and kAtCommit's savepoints left open nest
// the same way). On an error, ROLLBACK TO and RELEASE go in one round trip.
#include "faxbridge/db/savepoint.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db {

Result<void> within_savepoint(Tx& tx, const std::function<Result<void>(Tx&)>& fn, SavepointRelease release) {
  pqxx::work& w = savepoint_parent(tx);
  const std::size_t actions = tx.impl().after_commit.size();
  w.exec("SAVEPOINT faxbridge_unit");
  Result<void> r = fn(tx);
  if (r) {
    if (release == SavepointRelease::kNow) w.exec("RELEASE SAVEPOINT faxbridge_unit");
    return r;
  }
  w.exec("ROLLBACK TO SAVEPOINT faxbridge_unit; RELEASE SAVEPOINT faxbridge_unit");
  // What fn meant to log once committed did not happen.
  tx.impl().after_commit.resize(actions);
  return r;
}

}  // namespace faxbridge::db
