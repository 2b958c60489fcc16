#pragma once
// Internal: the templates shipped in libs/notifier/templates, compiled in by
// embed_templates.cmake (builtin_templates.cpp in the build tree).
#include <string>
#include <vector>

namespace faxbridge::notifier {

struct BuiltinTemplatePart {
  std::string name;      // fax_to_email, return_receipt, ...
  std::string language;  // en, it
  std::string part;      // subject, text, html
  std::string source;
};

const std::vector<BuiltinTemplatePart>& builtin_template_parts();

}  // namespace faxbridge::notifier
