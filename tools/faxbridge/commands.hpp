#pragma once
// The operator commands of the `faxbridge` tool, apart from argument parsing so that
// tests can run them against a database and read what they print.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/error.hpp"

namespace faxbridge::cli {

struct NewUserArgs {
  std::string username;
  std::string display_name;
  std::string email;
  std::string fax_number;
  std::string phone_number;
  std::string language = "en";
  std::string cover_page_name;
  std::optional<int> permission_level;  // none: inherits the default level
  bool enable_send = true;
  bool enable_receive = true;
  bool enable_fax_to_email = false;
  std::string fax_to_email_address;
  std::optional<std::string> password;  // none: no web login until one is set
};

// Each returns the process exit status: 0 done, 1 the operation failed (the reason
// is printed to err with its code), 2 bad input.
// Prints "faxbridge: [code] sentence (context)" and returns 2 for bad input, else 1.
int fail(std::ostream& err, const Error& e);

int version(std::ostream& out);
int migrate(const std::string& dsn, int wait_seconds, std::ostream& out, std::ostream& err);
int users_add(const std::string& dsn, const NewUserArgs& args, std::ostream& out, std::ostream& err);
int users_list(const std::string& dsn, bool json, std::ostream& out, std::ostream& err);
int job_status(const std::string& dsn, std::int64_t id, std::ostream& out, std::ostream& err);
int job_cancel(const std::string& dsn, const std::string& bus_endpoint, std::int64_t id, std::ostream& out,
               std::ostream& err);

// `faxbridge tokens create USERNAME [--name N]` (token_commands.cpp): prints the new API
// token alone on `out` (shown once; only its hash is stored), a note on `err`.
int tokens_create(const std::string& dsn, const std::string& username, const std::string& name, std::ostream& out,
                  std::ostream& err);

// `faxbridge routes list|add|set` (route_commands.cpp).
struct NewRouteArgs {
  bool is_default = false;
  std::string prefix;
  std::string description;
  std::vector<std::string> addresses;  // host[:port] or sip: URIs, in dialling order
  bool only_if_none = false;           // add nothing when any route exists (first-run seeding)
  std::string t38_policy = "auto";     // auto | require | off
};
int routes_list(const std::string& dsn, std::ostream& out, std::ostream& err);
int routes_add(const std::string& dsn, const NewRouteArgs& args, std::ostream& out, std::ostream& err);
// Changes an existing route (by the id `routes list` shows); unset fields stay.
struct RouteChanges {
  std::optional<std::string> t38_policy;
};
int routes_set(const std::string& dsn, std::int64_t id, const RouteChanges& changes, std::ostream& out,
               std::ostream& err);

// `faxbridge settings list|get|set` over the typed settings catalog (settings_commands.cpp).
// VALUE is what an operator types: true/false, a number, or text (no JSON quoting).
int settings_list(const std::string& dsn, std::ostream& out, std::ostream& err);
int settings_get(const std::string& dsn, const std::string& key, std::ostream& out, std::ostream& err);
int settings_set(const std::string& dsn, const std::string& key, const std::string& value, std::ostream& out,
                 std::ostream& err);

// `faxbridge convert IN... -o OUT.tif`: the converter's pipeline without a database
// (commands_convert.cpp). OUT ending in .pdf writes the fax as PDF instead.
struct ConvertArgs {
  std::vector<std::string> inputs;
  std::string output;
  std::string cover;                        // a shipped cover name or an .svg file; empty: none
  std::vector<std::string> fields;          // k=v: cover fields; reference/tsid/recipient for the header
  bool standard = false;
  bool header = false;                      // stamp the page header band
  bool office = true;                       // LibreOffice for office documents
  bool sandbox = true;
};
int convert(const ConvertArgs& args, std::ostream& out, std::ostream& err);

}  // namespace faxbridge::cli
