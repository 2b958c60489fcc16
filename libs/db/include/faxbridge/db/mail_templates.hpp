#pragma once
// An administrator's changes to the mail templates (mail_templates rows, migration 0015):
// one row per changed part (subject, text, html) of a template name and language. The
// built-in templates (libs/notifier) fill what has no row.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::db {

struct MailTemplatePart {
  std::string name, language, part, body;
  std::string updated_at;  // ISO 8601, UTC
  std::optional<std::int64_t> updated_by;
};

namespace mail_templates {
Result<std::vector<MailTemplatePart>> parts(Tx& tx, const std::string& name, const std::string& language);
Result<std::vector<MailTemplatePart>> all(Tx& tx);
Result<void> put(Tx& tx, const MailTemplatePart& part);
// Back to the built-in template: every changed part of that name and language goes.
Result<int> reset(Tx& tx, const std::string& name, const std::string& language);
}  // namespace mail_templates

}  // namespace faxbridge::db
