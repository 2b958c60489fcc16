#include "commands.hpp"

#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "faxbridge/core/password.hpp"
#include "faxbridge/core/phone.hpp"
#include "faxbridge/core/version.hpp"
#include "faxbridge/db/migrate.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/users.hpp"

namespace faxbridge::cli {

int fail(std::ostream& err, const Error& e) {
  err << "faxbridge: " << e.to_string() << "\n";
  return e.kind() == ErrorKind::kInvalidArgument ? 2 : 1;
}

int version(std::ostream& out) {
  const auto& ms = db::builtin_migrations();
  out << "faxbridge " << kVersion << " (schema " << (ms.empty() ? 0 : ms.back().version) << ")\n";
  return 0;
}

int migrate(const std::string& dsn, int wait_seconds, std::ostream& out, std::ostream& err) {
  db::Pool pool(db::PoolSettings{dsn, 1});
  // In a compose file the database may still be starting: wait for it if asked to.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
  for (;;) {
    auto ping = pool.ping();
    if (ping) break;
    if (std::chrono::steady_clock::now() >= until) return fail(err, ping.error());
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  auto status = db::schema_status(pool);
  if (!status) return fail(err, status.error());
  auto applied = db::migrate(pool);
  if (!applied) return fail(err, applied.error());
  if (applied->empty()) {
    out << "The schema is up to date (version " << status->latest << ").\n";
  } else {
    out << "Applied " << applied->size() << " migration(s); the schema is now at version " << status->latest
        << ".\n";
  }
  return 0;
}

int users_add(const std::string& dsn, const NewUserArgs& a, std::ostream& out, std::ostream& err) {
  db::User u;
  u.username = a.username;
  u.display_name = a.display_name;
  u.email = a.email;
  u.phone_number = a.phone_number;
  u.language = a.language;
  u.cover_page_name = a.cover_page_name;
  u.own_permission_level = a.permission_level;
  u.enable_send = a.enable_send;
  u.enable_receive = a.enable_receive;
  u.enable_fax_to_email = a.enable_fax_to_email;
  u.fax_to_email_address = a.fax_to_email_address.empty() ? a.email : a.fax_to_email_address;
  if (!a.fax_number.empty()) {
    // A DID must match what the gateway receives, so it is stored in canonical form.
    auto n = normalize_phone(a.fax_number);
    if (!n) return fail(err, n.error());
    u.fax_number = n->canonical;
  }
  if (a.password) {
    auto h = password::hash(*a.password);
    if (!h) return fail(err, h.error());
    u.password_hash = *h;
  }
  db::Pool pool(db::PoolSettings{dsn, 1});
  auto created = pool.transact([&](db::Tx& tx) -> Result<db::User> {
    auto c = db::users::create(tx, u);
    if (!c) return c;
    nlohmann::json details = {{"permission_level", c->permission_level}};
    auto a2 = db::audit::record(tx, {std::nullopt, "cli", "user.create", "user", std::to_string(c->id), details.dump()});
    if (!a2) return a2.error();
    return c;
  });
  if (!created) return fail(err, created.error());
  out << "Created user " << created->username << " (id " << created->id << ", permission level "
      << created->permission_level << (created->fax_number ? ", fax number " + *created->fax_number : "") << ").\n";
  return 0;
}

int users_list(const std::string& dsn, bool json, std::ostream& out, std::ostream& err) {
  db::Pool pool(db::PoolSettings{dsn, 1});
  auto users = pool.transact([](db::Tx& tx) { return db::users::list(tx, 100000); });
  if (!users) return fail(err, users.error());
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& u : *users) {
      arr.push_back({{"id", u.id},
                     {"username", u.username},
                     {"display_name", u.display_name},
                     {"email", u.email},
                     {"permission_level", u.permission_level},
                     {"fax_number", u.fax_number ? nlohmann::json(*u.fax_number) : nlohmann::json()},
                     {"enable_send", u.enable_send},
                     {"enable_receive", u.enable_receive},
                     {"enable_fax_to_email", u.enable_fax_to_email},
                     {"disabled", u.disabled}});
    }
    out << arr.dump(2) << "\n";
    return 0;
  }
  out << std::left << std::setw(6) << "ID" << std::setw(20) << "USERNAME" << std::setw(26) << "NAME" << std::setw(6)
      << "LEVEL" << std::setw(16) << "FAX NUMBER" << "SEND RECEIVE\n";
  for (const auto& u : *users) {
    out << std::left << std::setw(6) << u.id << std::setw(20) << u.username << std::setw(26) << u.display_name
        << std::setw(6) << u.permission_level << std::setw(16) << u.fax_number.value_or("-")
        << std::setw(5) << (u.enable_send ? "yes" : "no") << (u.enable_receive ? "yes" : "no") << "\n";
  }
  return 0;
}

}  // namespace faxbridge::cli
