#pragma once
// Users and groups: who may send and receive, and where received faxes go.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

// Permission levels of a fax server (ARCHITECTURE.md section 6).
inline constexpr int kPermissionNone = 0;
inline constexpr int kPermissionFaxUser = 2;
inline constexpr int kPermissionFaxAdmin = 10;

struct User {
  std::int64_t id = 0;
  std::string username;
  std::string display_name;
  std::string email;
  std::optional<std::string> password_hash;
  // The level the user has: their own, else the default level every user without one
  // inherits (setting users.default_permission_level, the seed's "level 2 is the
  // default"). Filled by reads; writes ignore it.
  int permission_level = kPermissionFaxUser;
  // The user's own level; nullopt inherits the default. This is what create and update
  // write, so an administrator sets only the differences.
  std::optional<int> own_permission_level;
  std::optional<std::string> fax_number;  // DID, normalised
  std::string phone_number;
  bool enable_receive = true;
  bool enable_send = true;
  bool enable_fax_to_email = false;
  std::string fax_to_email_address;
  bool attach_fax = true;
  std::string cover_page_name;
  std::string language = "en";
  std::string company;
  bool disabled = false;
};

namespace users {
// user.exists when the username or fax number is taken; user.invalid for bad fields.
Result<User> create(Tx& tx, const User& user);
Result<User> update(Tx& tx, const User& user);
Result<User> get(Tx& tx, std::int64_t id);
Result<User> by_username(Tx& tx, const std::string& username);
Result<std::optional<User>> by_fax_number(Tx& tx, const std::string& fax_number);
Result<std::vector<User>> list(Tx& tx, int limit = 1000, std::int64_t after_id = 0);
}  // namespace users

struct Group {
  std::int64_t id = 0;
  std::string name;
  std::string fax_number;
};

namespace groups {
Result<Group> create(Tx& tx, const std::string& name, const std::string& fax_number);
Result<void> add_member(Tx& tx, std::int64_t group_id, std::int64_t user_id);
Result<std::optional<Group>> by_fax_number(Tx& tx, const std::string& fax_number);
Result<std::vector<std::int64_t>> members(Tx& tx, std::int64_t group_id);
}  // namespace groups

}  // namespace faxbridge::db
