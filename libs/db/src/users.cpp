#include "faxbridge/db/users.hpp"

#include "faxbridge/db/settings.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db {
namespace {

// The effective level is computed where the row is read, so every reader (the router's
// send check, the API's caller) sees the inherited default the same way. The catalog's
// default stands in when the setting was never written.
const std::string& columns() {
  static const std::string c = [] {
    const auto* spec = find_setting(std::string(kDefaultPermissionLevelKey));
    return "id, username, display_name, email, password_hash, "
           "coalesce(permission_level, (SELECT (s.value #>> '{}')::int FROM settings s WHERE s.key = '" +
           std::string(kDefaultPermissionLevelKey) + "'), " + spec->default_json +
           "), fax_number, phone_number, enable_receive, enable_send, enable_fax_to_email, fax_to_email_address, "
           "attach_fax, cover_page_name, language, company, disabled, permission_level";
  }();
  return c;
}

User user_from(const pqxx::row& r) {
  User u;
  u.id = r[0].as<std::int64_t>();
  u.username = r[1].as<std::string>();
  u.display_name = r[2].as<std::string>();
  u.email = r[3].as<std::string>();
  u.password_hash = opt<std::string>(r[4]);
  u.permission_level = r[5].as<int>();
  u.fax_number = opt<std::string>(r[6]);
  u.phone_number = r[7].as<std::string>();
  u.enable_receive = r[8].as<bool>();
  u.enable_send = r[9].as<bool>();
  u.enable_fax_to_email = r[10].as<bool>();
  u.fax_to_email_address = r[11].as<std::string>();
  u.attach_fax = r[12].as<bool>();
  u.cover_page_name = r[13].as<std::string>();
  u.language = r[14].as<std::string>();
  u.company = r[15].as<std::string>();
  u.disabled = r[16].as<bool>();
  u.own_permission_level = opt<int>(r[17]);
  return u;
}

// Turns the constraint a write hit into the error a person can act on. A savepoint
// keeps the caller's transaction usable after the failed statement.
template <typename F>
Result<User> guarded_write(Tx& tx, const User& u, F&& write) {
  pqxx::subtransaction sp(W(tx), "user_write");
  try {
    auto rows = write(sp);
    sp.commit();
    if (rows.empty()) return Error(Code::k_user_not_found, "No user has the id " + std::to_string(u.id) + ".");
    return user_from(rows[0]);
  } catch (const pqxx::unique_violation& e) {
    const std::string what = e.what();
    if (what.find("users_fax_number_key") != std::string::npos) {
      return Error(Code::k_user_exists, "The fax number " + u.fax_number.value_or("") +
                                            " already belongs to another user.");
    }
    return Error(Code::k_user_exists, "A user named \"" + u.username + "\" already exists.");
  } catch (const pqxx::check_violation& e) {
    return Error(Code::k_user_invalid,
                 "The user \"" + u.username +
                     "\" has an invalid field: usernames are 1-64 letters, digits or ._@+-, "
                     "languages are codes like en or pt-BR, permission levels 0 to 10.")
        .with("constraint", e.what());
  }
}

}  // namespace

namespace users {

Result<User> create(Tx& tx, const User& u) {
  return guarded_write(tx, u, [&](pqxx::subtransaction& sp) {
    return sp.exec_params(
        std::string("INSERT INTO users (username, display_name, email, password_hash, permission_level, "
                    "fax_number, phone_number, enable_receive, enable_send, enable_fax_to_email, "
                    "fax_to_email_address, attach_fax, cover_page_name, language, company, disabled) "
                    "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) RETURNING ") + columns(),
        u.username, u.display_name, u.email, u.password_hash, u.own_permission_level, u.fax_number,
        u.phone_number, u.enable_receive, u.enable_send, u.enable_fax_to_email,
        u.fax_to_email_address, u.attach_fax, u.cover_page_name, u.language, u.company, u.disabled);
  });
}

Result<User> update(Tx& tx, const User& u) {
  return guarded_write(tx, u, [&](pqxx::subtransaction& sp) {
    return sp.exec_params(
        std::string("UPDATE users SET username=$2, display_name=$3, email=$4, password_hash=$5, "
                    "permission_level=$6, fax_number=$7, phone_number=$8, enable_receive=$9, "
                    "enable_send=$10, enable_fax_to_email=$11, fax_to_email_address=$12, attach_fax=$13, "
                    "cover_page_name=$14, language=$15, company=$16, disabled=$17, updated_at=now() "
                    "WHERE id=$1 RETURNING ") + columns(),
        u.id, u.username, u.display_name, u.email, u.password_hash, u.own_permission_level, u.fax_number,
        u.phone_number, u.enable_receive, u.enable_send, u.enable_fax_to_email,
        u.fax_to_email_address, u.attach_fax, u.cover_page_name, u.language, u.company, u.disabled);
  });
}

Result<User> get(Tx& tx, std::int64_t id) {
  auto rows = W(tx).exec_params(std::string("SELECT ") + columns() + " FROM users WHERE id = $1", id);
  if (rows.empty()) return Error(Code::k_user_not_found, "No user has the id " + std::to_string(id) + ".");
  return user_from(rows[0]);
}

Result<User> by_username(Tx& tx, const std::string& username) {
  auto rows = W(tx).exec_params(
      std::string("SELECT ") + columns() + " FROM users WHERE lower(username) = lower($1)", username);
  if (rows.empty()) return Error(Code::k_user_not_found, "No user is named \"" + username + "\".");
  return user_from(rows[0]);
}

Result<std::optional<User>> by_fax_number(Tx& tx, const std::string& fax_number) {
  auto rows = W(tx).exec_params(std::string("SELECT ") + columns() + " FROM users WHERE fax_number = $1",
                                fax_number);
  if (rows.empty()) return std::optional<User>{};
  return std::optional<User>(user_from(rows[0]));
}

Result<std::vector<User>> list(Tx& tx, int limit, std::int64_t after_id) {
  auto rows = W(tx).exec_params(
      std::string("SELECT ") + columns() + " FROM users WHERE id > $1 ORDER BY id LIMIT $2", after_id, limit);
  std::vector<User> out;
  for (const auto& r : rows) out.push_back(user_from(r));
  return out;
}

}  // namespace users

namespace groups {

Result<Group> create(Tx& tx, const std::string& name, const std::string& fax_number) {
  pqxx::subtransaction sp(W(tx), "group_create");
  try {
    auto r = sp.exec_params("INSERT INTO groups (name, fax_number) VALUES ($1, $2) RETURNING id", name, fax_number);
    sp.commit();
    return Group{r[0][0].as<std::int64_t>(), name, fax_number};
  } catch (const pqxx::unique_violation&) {
    return Error(Code::k_user_exists, "A group named \"" + name + "\" or with the fax number " +
                                          fax_number + " already exists.");
  }
}

Result<void> add_member(Tx& tx, std::int64_t group_id, std::int64_t user_id) {
  W(tx).exec_params("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    group_id, user_id);
  return ok();
}

Result<std::optional<Group>> by_fax_number(Tx& tx, const std::string& fax_number) {
  auto r = W(tx).exec_params("SELECT id, name, fax_number FROM groups WHERE fax_number = $1", fax_number);
  if (r.empty()) return std::optional<Group>{};
  return std::optional<Group>(Group{r[0][0].as<std::int64_t>(), r[0][1].as<std::string>(), r[0][2].as<std::string>()});
}

Result<std::vector<std::int64_t>> members(Tx& tx, std::int64_t group_id) {
  auto r = W(tx).exec_params("SELECT user_id FROM group_members WHERE group_id = $1 ORDER BY user_id", group_id);
  std::vector<std::int64_t> out;
  for (const auto& row : r) out.push_back(row[0].as<std::int64_t>());
  return out;
}

}  // namespace groups
}  // namespace faxbridge::db
