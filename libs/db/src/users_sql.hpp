#pragma once
// Internal to libs/db: a user row as every reader selects it, for statements that read
// a user together with something else in one round trip (the API token check).
#include <string>

#include "faxbridge/db/users.hpp"
#include "pqxx_support.hpp"

namespace faxbridge::db::users_sql {

// The columns user_from reads, in order, unqualified: select them FROM users only
// (a subquery when joining, so the names cannot be ambiguous).
const std::string& columns();
// A user from the columns above; `r` may be a slice of a wider row (pqxx::row::slice).
User user_from(const pqxx::row& r);

}  // namespace faxbridge::db::users_sql
