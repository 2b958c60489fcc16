#include "faxbridge/db/migrate.hpp"

#include "faxbridge/core/log.hpp"
#include "pqxx_support.hpp"

namespace faxbridge::db {
namespace {

// Any fixed number: the key of the advisory lock that serialises migrators.
constexpr std::int64_t kMigrationLockKey = 0x6661786272696467;  // "faxbridg"

constexpr const char* kCreateTable = R"sql(
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version     int PRIMARY KEY,
    name        text NOT NULL,
    checksum    bigint NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
  ))sql";

}  // namespace

std::uint64_t migration_checksum(const std::string& sql) {
  // FNV-1a 64: stable across builds and platforms, unlike std::hash.
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : sql) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

Result<std::vector<int>> migrate(Pool& pool, const std::vector<Migration>& migrations) {
  std::vector<int> applied;
  for (const auto& m : migrations) {
    auto r = pool.transact([&](Tx& tx) -> Result<bool> {
      auto& w = W(tx);
      w.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
      w.exec(kCreateTable);
      const auto sum = static_cast<std::int64_t>(migration_checksum(m.sql));
      auto row = w.exec_params("SELECT checksum FROM schema_migrations WHERE version = $1", m.version);
      if (!row.empty()) {
        if (row[0][0].as<std::int64_t>() != sum) {
          log::warn("db.migration_changed", {{"version", m.version}, {"name", m.name}});
        }
        return false;
      }
      w.exec(m.sql);
      w.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    m.version, m.name, sum);
      return true;
    });
    if (!r) {
      Error e = r.error();
      e.message = "Migration " + std::to_string(m.version) + " (" + m.name + ") failed: " + e.message;
      e.code = e.code == Code::k_db_unavailable ? e.code : Code::k_db_migration_failed;
      return e;
    }
    if (*r) {
      applied.push_back(m.version);
      log::info("db.migration_applied", {{"version", m.version}, {"name", m.name}});
    }
  }
  return applied;
}

Result<SchemaStatus> schema_status(Pool& pool, const std::vector<Migration>& migrations) {
  SchemaStatus st;
  st.latest = migrations.empty() ? 0 : migrations.back().version;
  auto r = pool.transact([&](Tx& tx) -> Result<int> {
    auto& w = W(tx);
    auto exists = w.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (!exists[0][0].as<bool>()) return 0;
    auto row = w.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
    return row[0][0].as<int>();
  });
  if (!r) return r.error();
  st.current = *r;
  if (st.current > st.latest) {
    return Error(Code::k_db_schema_too_new,
                 "The database schema (version " + std::to_string(st.current) +
                     ") is newer than this program knows (" + std::to_string(st.latest) +
                     "); upgrade Faxbridge.");
  }
  return st;
}

}  // namespace faxbridge::db
