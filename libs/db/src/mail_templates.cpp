// mail_templates rows (mail_templates.hpp).
#include "faxbridge/db/mail_templates.hpp"

#include "pqxx_support.hpp"

namespace faxbridge::db::mail_templates {
namespace {

constexpr const char* kColumns =
    "name, language, part, body, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), updated_by";

std::vector<MailTemplatePart> rows_of(const pqxx::result& r) {
  std::vector<MailTemplatePart> out;
  for (const auto& row : r) {
    MailTemplatePart p;
    p.name = row[0].c_str();
    p.language = row[1].c_str();
    p.part = row[2].c_str();
    p.body = row[3].c_str();
    p.updated_at = row[4].c_str();
    p.updated_by = opt<std::int64_t>(row[5]);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

Result<std::vector<MailTemplatePart>> parts(Tx& tx, const std::string& name, const std::string& language) {
  return rows_of(exec_prepared_text(tx, std::string("SELECT ") + kColumns +
                                       " FROM mail_templates WHERE name = $1 AND language = $2 ORDER BY part",
                                   name, language));
}

Result<std::vector<MailTemplatePart>> all(Tx& tx) {
  return rows_of(W(tx).exec(std::string("SELECT ") + kColumns + " FROM mail_templates ORDER BY name, language, part"));
}

Result<void> put(Tx& tx, const MailTemplatePart& p) {
  W(tx).exec_params(
      "INSERT INTO mail_templates (name, language, part, body, updated_by) VALUES ($1, $2, $3, $4, $5) "
      "ON CONFLICT (name, language, part) DO UPDATE SET body = EXCLUDED.body, updated_by = EXCLUDED.updated_by, "
      "updated_at = now()",
      p.name, p.language, p.part, p.body, p.updated_by);
  return ok();
}

Result<int> reset(Tx& tx, const std::string& name, const std::string& language) {
  return static_cast<int>(
      W(tx).exec_params("DELETE FROM mail_templates WHERE name = $1 AND language = $2", name, language).affected_rows());
}

}  // namespace faxbridge::db::mail_templates
