// Test helper: draws N reference numbers for a year, one transaction each, and prints
// them one per line. references_test runs several of these at once.
#include <iostream>
#include <string>

#include "faxbridge/db/references.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: db_reference_drawer DSN YEAR COUNT\n";
    return 2;
  }
  faxbridge::db::Pool pool(faxbridge::db::PoolSettings{argv[1], 1, 10});
  const int year = std::stoi(argv[2]);
  const int count = std::stoi(argv[3]);
  for (int i = 0; i < count; ++i) {
    auto r = pool.transact([&](faxbridge::db::Tx& tx) { return faxbridge::db::references::next(tx, year); });
    if (!r) {
      std::cerr << r.error().to_string() << "\n";
      return 1;
    }
    std::cout << r->str() << "\n";
  }
  return 0;
}
