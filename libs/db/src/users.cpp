#include "faxbridge/db/users.hpp"

#include "faxbridge/db/settings.hpp"

#include "pqxx_support.hpp"
#include "users_sql.hpp"

namespace faxbridge::db {
namespace users_sql {

// The effective level is computed where the row is read, so every reader (the router's
// send check, the API's caller) sees the inherited default the same way. The catalog's
// default stands in when the setting was never written.
const std::string& effective_level() {
  static const std::string e = [] {
    const auto* spec = find_setting(std::string(kDefaultPermissionLevelKey));
    return "coalesce(permission_level, (SELECT (s.value #>> '{}')::int FROM settings s WHERE s.key = '" +
           std::string(kDefaultPermissionLevelKey) + "'), " + spec->default_json + ")";
  }();
  return e;
}

const std::string& columns() {
  static const std::string c =
      "id, username, display_name, email, password_hash, " + effective_level() +
      ", fax_number, phone_number, enable_receive, enable_send, enable_fax_to_email, fax_to_email_address, "
      "attach_fax, cover_page_name, language, company, disabled, permission_level, created_at, updated_at";
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
  u.created_at = from_sql_time(r[18].as<std::string>());
  u.updated_at = from_sql_time(r[19].as<std::string>());
  return u;
}

}  // namespace users_sql

namespace {

using users_sql::columns;
using users_sql::effective_level;
using users_sql::user_from;

// Turns the constraint a write hit into the error a person can act on. A savepoint
// keeps the caller's transaction usable after the failed statement.
template <typename F>
Result<User> guarded_write(Tx& tx, const User& u, F&& write) {
  pqxx::subtransaction sp(savepoint_parent(tx), "user_write");
  try {
    auto rows = write(sp);
    sp.commit();
    if (rows.empty()) return Error(Code::k_user_not_found, "No user has the id " + std::to_string(u.id) + ".");
    return user_from(rows[0]);
  } catch (const pqxx::unique_violation& e) {
    const std::string what = e.what();
    if (what.find("users_fax_number_key") != std::string::npos) {
      return Error(Code::k_number_taken, "The fax number " + u.fax_number.value_or("") +
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
  // Prepared: every API request's caller and every submission's sender is read here.
  static const std::string sql = std::string("SELECT ") + columns() + " FROM users WHERE id = $1";
  auto rows = exec_prepared_text(tx, sql, id);
  if (rows.empty()) return Error(Code::k_user_not_found, "No user has the id " + std::to_string(id) + ".");
  return user_from(rows[0]);
}

Result<std::vector<User>> get_all(Tx& tx, const std::vector<std::int64_t>& ids) {
  std::vector<User> users;
  if (ids.empty()) return users;
  static const std::string sql = std::string("SELECT ") + columns() + " FROM users WHERE id = ANY($1::bigint[])";
  for (const auto& row : exec_prepared_text(tx, sql, bigint_array(ids))) users.push_back(user_from(row));
  return users;
}

Result<User> by_username(Tx& tx, const std::string& username) {
  auto rows = W(tx).exec_params(
      std::string("SELECT ") + columns() + " FROM users WHERE lower(username) = lower($1)", username);
  if (rows.empty()) return Error(Code::k_user_not_found, "No user is named \"" + username + "\".");
  return user_from(rows[0]);
}

Result<std::optional<User>> by_email(Tx& tx, const std::string& email) {
  // Prepared: mail-ingest looks up the sender of every mail.
  static const std::string sql =
      std::string("SELECT ") + columns() + " FROM users WHERE email <> '' AND lower(email) = lower($1) LIMIT 2";
  auto rows = exec_prepared_text(tx, sql, email);
  if (rows.size() != 1) return std::optional<User>{};
  return std::optional<User>(user_from(rows[0]));
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

namespace {
// "50%_off" as a LIKE pattern that matches it literally, inside %...%.
std::string contains_pattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}
}  // namespace

Result<std::vector<User>> search(Tx& tx, const UserQuery& q) {
  // A number is searched by its digits, so "02 978" finds "+390297865403".
  std::string digits;
  for (char c : q.text) {
    if (c >= '0' && c <= '9') digits += c;
  }
  const std::optional<std::string> text =
      q.text.empty() ? std::nullopt : std::optional<std::string>(contains_pattern(q.text));
  const std::optional<std::string> number =
      digits.empty() ? std::nullopt : std::optional<std::string>(contains_pattern(digits));
  auto rows = W(tx).exec_params(
      std::string("SELECT ") + columns() +
          " FROM users WHERE id > $1"
          " AND ($2::text IS NULL OR username ILIKE $2 OR display_name ILIKE $2 OR email ILIKE $2"
          "      OR ($3::text IS NOT NULL AND fax_number LIKE $3))"
          " AND ($4::int IS NULL OR " + effective_level() + " = $4)"
          " AND ($5::boolean IS NULL OR disabled = $5)"
          " ORDER BY id LIMIT $6",
      q.after_id, text, number, q.level, q.disabled, q.limit);
  std::vector<User> out;
  for (const auto& r : rows) out.push_back(user_from(r));
  return out;
}

Result<bool> remove(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params("DELETE FROM users WHERE id = $1", id);
  return r.affected_rows() == 1;
}

Result<bool> has_faxes(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params(
      "SELECT EXISTS (SELECT 1 FROM fax_jobs WHERE sender_user_id = $1) "
      "OR EXISTS (SELECT 1 FROM inbox_entries WHERE user_id = $1)",
      id);
  return r[0][0].as<bool>();
}

Result<bool> replace_password_hash(Tx& tx, std::int64_t id, const std::string& expected,
                                   const std::string& new_hash) {
  auto r = W(tx).exec_params(
      "UPDATE users SET password_hash = $3, updated_at = now() WHERE id = $1 AND password_hash = $2", id, expected,
      new_hash);
  return r.affected_rows() == 1;
}

// Arbitrary but fixed keys of the transaction-scoped advisory locks of this file.
constexpr std::int64_t kAdministratorsLock = 0x66627573'65727301;  // "fbusers\1"
constexpr std::int64_t kFaxNumbersLock = 0x66627573'65727302;

Result<void> lock_administrators(Tx& tx) {
  W(tx).exec_params("SELECT pg_advisory_xact_lock($1)", kAdministratorsLock);
  return ok();
}

Result<std::int64_t> enabled_administrators(Tx& tx) {
  auto r = W(tx).exec(std::string("SELECT count(*) FROM users WHERE NOT disabled AND ") + effective_level() +
                      " = " + std::to_string(kPermissionFaxAdmin));
  return r[0][0].as<std::int64_t>();
}

Result<void> require_an_administrator(Tx& tx) {
  auto n = enabled_administrators(tx);
  if (!n) return n.error();
  if (*n > 0) return ok();
  return Error(Code::k_user_last_admin,
               "This would leave no enabled user with permission level 10, and nobody could administer the "
               "server; give another user level 10 first.");
}

}  // namespace users

namespace numbers {

Result<std::optional<NumberOwner>> owner(Tx& tx, const std::string& fax_number) {
  W(tx).exec_params("SELECT pg_advisory_xact_lock($1)", users::kFaxNumbersLock);
  auto r = W(tx).exec_params(
      "SELECT 'user', id, username FROM users WHERE fax_number = $1 "
      "UNION ALL SELECT 'group', id, name FROM groups WHERE fax_number = $1 LIMIT 1",
      fax_number);
  if (r.empty()) return std::optional<NumberOwner>{};
  NumberOwner o;
  o.kind = r[0][0].as<std::string>() == "user" ? NumberOwner::Kind::kUser : NumberOwner::Kind::kGroup;
  o.id = r[0][1].as<std::int64_t>();
  o.name = r[0][2].as<std::string>();
  return std::optional<NumberOwner>(std::move(o));
}

}  // namespace numbers

namespace groups {
namespace {

constexpr const char* kGroupColumns = "id, name, fax_number, created_at";

Group group_from(const pqxx::row& r) {
  return Group{r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(),
               from_sql_time(r[3].as<std::string>())};
}

template <typename F>
Result<Group> guarded_group_write(Tx& tx, const std::string& name, const std::string& fax_number,
                                  std::int64_t id, F&& write) {
  pqxx::subtransaction sp(savepoint_parent(tx), "group_write");
  try {
    auto rows = write(sp);
    sp.commit();
    if (rows.empty()) return Error(Code::k_group_not_found, "No group has the id " + std::to_string(id) + ".");
    return group_from(rows[0]);
  } catch (const pqxx::unique_violation& e) {
    const std::string what = e.what();
    if (what.find("fax_number") != std::string::npos) {
      return Error(Code::k_group_exists, "Another group has the fax number " + fax_number + ".");
    }
    return Error(Code::k_group_exists, "A group named \"" + name + "\" already exists.");
  } catch (const pqxx::check_violation& e) {
    return Error(Code::k_user_invalid, "A group's name has 1 to 64 characters.").with("constraint", e.what());
  }
}

}  // namespace

Result<Group> create(Tx& tx, const std::string& name, const std::string& fax_number) {
  return guarded_group_write(tx, name, fax_number, 0, [&](pqxx::subtransaction& sp) {
    return sp.exec_params(std::string("INSERT INTO groups (name, fax_number) VALUES ($1, $2) RETURNING ") +
                              kGroupColumns,
                          name, fax_number);
  });
}

Result<Group> get(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params(std::string("SELECT ") + kGroupColumns + " FROM groups WHERE id = $1", id);
  if (r.empty()) return Error(Code::k_group_not_found, "No group has the id " + std::to_string(id) + ".");
  return group_from(r[0]);
}

Result<std::vector<Group>> list(Tx& tx) {
  auto rows = W(tx).exec(std::string("SELECT ") + kGroupColumns + " FROM groups ORDER BY name, id");
  std::vector<Group> out;
  for (const auto& r : rows) out.push_back(group_from(r));
  return out;
}

Result<Group> update(Tx& tx, const Group& g) {
  return guarded_group_write(tx, g.name, g.fax_number, g.id, [&](pqxx::subtransaction& sp) {
    return sp.exec_params(
        std::string("UPDATE groups SET name = $2, fax_number = $3 WHERE id = $1 RETURNING ") + kGroupColumns, g.id,
        g.name, g.fax_number);
  });
}

Result<bool> remove(Tx& tx, std::int64_t id) {
  auto r = W(tx).exec_params("DELETE FROM groups WHERE id = $1", id);
  return r.affected_rows() == 1;
}

Result<void> set_members(Tx& tx, std::int64_t group_id, const std::vector<std::int64_t>& user_ids) {
  const std::string ids = bigint_array(user_ids);
  auto missing = W(tx).exec_params(
      "SELECT x FROM unnest($1::bigint[]) WITH ORDINALITY AS t(x, n) "
      "WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.x) ORDER BY n LIMIT 1",
      ids);
  if (!missing.empty()) {
    return Error(Code::k_user_not_found, "No user has the id " + missing[0][0].as<std::string>() + ".")
        .with("user_id", missing[0][0].as<std::string>());
  }
  W(tx).exec_params("DELETE FROM group_members WHERE group_id = $1 AND NOT (user_id = ANY($2::bigint[]))", group_id,
                    ids);
  W(tx).exec_params(
      "INSERT INTO group_members (group_id, user_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
      group_id, ids);
  return ok();
}

Result<std::vector<GroupMember>> member_details(Tx& tx, std::int64_t group_id) {
  auto rows = W(tx).exec_params(
      "SELECT u.id, u.username, u.display_name FROM group_members m JOIN users u ON u.id = m.user_id "
      "WHERE m.group_id = $1 ORDER BY lower(u.username)",
      group_id);
  std::vector<GroupMember> out;
  for (const auto& r : rows) out.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>()});
  return out;
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
