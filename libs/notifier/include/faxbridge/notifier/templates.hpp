#pragma once
// Mail templates: a subject, a plain text body and an HTML body per template name and
// language, rendered by ctemplate (Debian's libctemplate; the Google template system:
// {{FIELD}}, {{#SECTION}}...{{/SECTION}}, no logic in the template).
//
// The built-in templates live in libs/notifier/templates/<language>/<name>.<part>.tpl and
// are compiled in; an administrator's changes (mail_templates rows, /api/v1/templates)
// take their place part by part. A language without a template falls back to English.
//
// Escaping is decided here, never by the template's author: the HTML body receives
// every value HTML-escaped, the text body and the subject the value as it is; the
// subject's line breaks become spaces (a header has none). A missing field renders
// empty, as ctemplate does; a part that does not parse is template.invalid.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"

namespace faxbridge::notifier {

struct TemplateSet {
  std::string subject, text, html;
};

struct TemplateValues {
  std::map<std::string, std::string> fields;  // {{NAME}}
  std::set<std::string> sections;             // {{#NAME}}...{{/NAME}} shown once
  // {{#NAME}}...{{/NAME}} shown once per entry, with the entry's fields inside.
  std::map<std::string, std::vector<std::map<std::string, std::string>>> lists;
};

struct RenderedMail {
  std::string subject, text, html;
};

// The names and languages shipped (the notifications kinds that are mails).
const std::vector<std::string>& template_names();
const std::vector<std::string>& template_languages();
// The shipped template; nullopt for a name or language not shipped.
std::optional<TemplateSet> builtin_template(const std::string& name, const std::string& language);

// Parses every part; template.invalid naming the part that does not parse.
Result<void> check_template(const TemplateSet& set);
Result<RenderedMail> render(const TemplateSet& set, const TemplateValues& values);

// Values like those of a real mail of this name (a sample fax, two attempts, ...), for
// previews; their field, section and list names are the ones the notifier sets.
TemplateValues sample_values(const std::string& name, const std::string& language);

// The template in force: the built-in one of `language` (English when it has none) with
// the administrator's rows over it. template.not_found for a name nobody ships.
Result<TemplateSet> load_template(db::Tx& tx, const std::string& name, const std::string& language);

}  // namespace faxbridge::notifier
