#pragma once
// One SQL statement in its own committed transaction on `dsn`: how tests set up or read
// rows beside the code under test (its own connection, so nothing the code holds is shared).
#include <pqxx/pqxx>
#include <string>

namespace faxbridge::testing {

inline pqxx::result committed_sql(const std::string& dsn, const std::string& query) {
  pqxx::connection c(dsn);
  pqxx::work w(c);
  auto r = w.exec(query);
  w.commit();
  return r;
}

}  // namespace faxbridge::testing
