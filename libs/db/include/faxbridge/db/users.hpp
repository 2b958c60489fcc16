#pragma once
// Users and groups: who may send and receive, and where received faxes go.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/clock.hpp"
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
  TimePoint created_at{};  // filled by reads; writes ignore them
  TimePoint updated_at{};
};

// What the administration's user list filters on (GET /api/v1/admin/users).
struct UserQuery {
  std::string text;                  // part of the username, name, email or fax number; "" any
  std::optional<int> level;          // the effective level
  std::optional<bool> disabled;
  int limit = 50;
  std::int64_t after_id = 0;         // the cursor: users with a larger id, in id order
};

namespace users {
// user.exists when the username or fax number is taken; user.invalid for bad fields.
Result<User> create(Tx& tx, const User& user);
Result<User> update(Tx& tx, const User& user);
Result<User> get(Tx& tx, std::int64_t id);
// The users of these ids in one statement, in no given order; an id with no user is left out.
Result<std::vector<User>> get_all(Tx& tx, const std::vector<std::int64_t>& ids);
Result<User> by_username(Tx& tx, const std::string& username);
// The user whose mail address this is (case-insensitive): mail-ingest's sender lookup.
// Several users sharing one address: none is chosen (nullopt), rather than a guess.
Result<std::optional<User>> by_email(Tx& tx, const std::string& email);
Result<std::optional<User>> by_fax_number(Tx& tx, const std::string& fax_number);
Result<std::vector<User>> list(Tx& tx, int limit = 1000, std::int64_t after_id = 0);
Result<std::vector<User>> search(Tx& tx, const UserQuery& query);
// Deletes the user; false when there is none. Their sessions, tokens, group memberships
// and inbox entries go with them (ON DELETE CASCADE); faxes they sent lose their sender.
Result<bool> remove(Tx& tx, std::int64_t id);
// Whether the user sent a fax or has one in their inbox: what deleting them would cut
// loose from its history.
Result<bool> has_faxes(Tx& tx, std::int64_t id);
// Sets the user's password hash only while it is still `expected` (the hash the caller
// verified the current password against): false when it changed meanwhile (another
// change won the race) or the user is gone, so a stale check never overwrites a newer
// password.
Result<bool> replace_password_hash(Tx& tx, std::int64_t id, const std::string& expected,
                                   const std::string& new_hash);

// The guard against locking everybody out: the number of enabled users whose effective
// level is 10, counted after the transaction's own changes. Every transaction that may
// lower it (a user's level, disabling, deleting, the default level) calls
// lock_administrators first: the lock serialises them, so two administrators demoting
// each other at the same moment cannot both see the other still standing.
Result<void> lock_administrators(Tx& tx);
Result<std::int64_t> enabled_administrators(Tx& tx);
// user.last_admin when enabled_administrators() is 0; call after the change, in its
// transaction, so that the refusal rolls the change back.
Result<void> require_an_administrator(Tx& tx);
}  // namespace users

// A fax number belongs to at most one user or group: a fax to it must reach one place.
struct NumberOwner {
  enum class Kind { kUser, kGroup };
  Kind kind = Kind::kUser;
  std::int64_t id = 0;
  std::string name;  // the username or the group's name
};

namespace numbers {
// Who has the (canonical) number, after taking the transaction-scoped lock every writer
// of users' and groups' numbers takes, so two writers cannot give one number to a user
// and a group at once (each table's unique index sees only its own rows).
Result<std::optional<NumberOwner>> owner(Tx& tx, const std::string& fax_number);
}  // namespace numbers

struct Group {
  std::int64_t id = 0;
  std::string name;
  std::string fax_number;
  TimePoint created_at{};
};

struct GroupMember {
  std::int64_t id = 0;
  std::string username;
  std::string display_name;
};

namespace groups {
// group.exists when the name or the fax number is taken.
Result<Group> create(Tx& tx, const std::string& name, const std::string& fax_number);
Result<Group> get(Tx& tx, std::int64_t id);  // group.not_found
Result<std::vector<Group>> list(Tx& tx);     // by name
Result<Group> update(Tx& tx, const Group& group);  // group.not_found, group.exists
Result<bool> remove(Tx& tx, std::int64_t id);      // false when there is none
// Replaces the members with exactly these users (user.not_found naming the first id
// that is no user; nothing changes then).
Result<void> set_members(Tx& tx, std::int64_t group_id, const std::vector<std::int64_t>& user_ids);
Result<std::vector<GroupMember>> member_details(Tx& tx, std::int64_t group_id);  // by username
Result<void> add_member(Tx& tx, std::int64_t group_id, std::int64_t user_id);
Result<std::optional<Group>> by_fax_number(Tx& tx, const std::string& fax_number);
Result<std::vector<std::int64_t>> members(Tx& tx, std::int64_t group_id);
}  // namespace groups

}  // namespace faxbridge::db
