#pragma once
// The two SQL shortcuts the benchmark drivers use for setup and polling: a statement
// committed on a connection of its own, and one number read on a kept connection.
#include <cstdint>
#include <pqxx/pqxx>
#include <string>

namespace faxbridge::bench {

inline void exec(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::work w(c);
  w.exec(sql);
  w.commit();
}

inline std::int64_t count(pqxx::connection& c, const std::string& sql) {
  pqxx::nontransaction w(c);
  return w.exec(sql)[0][0].as<std::int64_t>();
}

}  // namespace faxbridge::bench
