#pragma once
// Internal to libs/db: a year's reference sequence ran past 99999999 (nextval's
// SQLSTATE 2200H, sequence_generator_limit_exceeded), wherever a number is drawn.
#include <pqxx/pqxx>

namespace faxbridge::db::references_sql {

inline bool is_exhausted(const pqxx::sql_error& e) { return e.sqlstate() == "2200H"; }

}  // namespace faxbridge::db::references_sql
