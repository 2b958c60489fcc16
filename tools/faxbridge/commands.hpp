#pragma once
// The operator commands of the `faxbridge` tool, apart from argument parsing so that
// tests can run them against a database and read what they print.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace faxbridge::cli {

struct NewUserArgs {
  std::string username;
  std::string display_name;
  std::string email;
  std::string fax_number;
  std::string phone_number;
  std::string language = "en";
  std::string cover_page_name;
  int permission_level = 2;
  bool enable_send = true;
  bool enable_receive = true;
  bool enable_fax_to_email = false;
  std::string fax_to_email_address;
  std::optional<std::string> password;  // none: no web login until one is set
};

// Each returns the process exit status: 0 done, 1 the operation failed (the reason
// is printed to err with its code), 2 bad input.
int version(std::ostream& out);
int migrate(const std::string& dsn, int wait_seconds, std::ostream& out, std::ostream& err);
int users_add(const std::string& dsn, const NewUserArgs& args, std::ostream& out, std::ostream& err);
int users_list(const std::string& dsn, bool json, std::ostream& out, std::ostream& err);
int job_status(const std::string& dsn, std::int64_t id, std::ostream& out, std::ostream& err);
int job_cancel(const std::string& dsn, const std::string& bus_endpoint, std::int64_t id, std::ostream& out,
               std::ostream& err);

}  // namespace faxbridge::cli
