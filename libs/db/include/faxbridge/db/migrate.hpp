#pragma once
// Numbered plain-SQL migrations (libs/db/migrations/NNNN_name.sql), compiled into the
// binaries. Each one is applied in its own transaction together with its row in
// schema_migrations, under an advisory lock, so concurrent migrators (several services
// starting at once) apply each exactly once. A checksum catches an applied file that
// was edited afterwards.
#include <cstdint>
#include <string>
#include <vector>

#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// The migrations built into this binary, ordered by version.
const std::vector<Migration>& builtin_migrations();

struct SchemaStatus {
  int current = 0;  // highest applied version, 0 for an empty database
  int latest = 0;   // highest version this binary knows
  bool up_to_date() const { return current == latest; }
};

// Applies what is missing; returns the versions applied now (empty when up to date).
Result<std::vector<int>> migrate(Pool& pool, const std::vector<Migration>& migrations = builtin_migrations());

// db.schema_too_new when the database has versions this binary does not know.
Result<SchemaStatus> schema_status(Pool& pool, const std::vector<Migration>& migrations = builtin_migrations());

std::uint64_t migration_checksum(const std::string& sql);

}  // namespace faxbridge::db
