// Rendering mail templates with ctemplate (templates.hpp). Each render parses its
// parts into a TemplateCache of its own: the templates are short, a cache per render
// has no locking to reason about, and an administrator's change is seen by the next
// mail without any invalidation.
#include "faxbridge/notifier/templates.hpp"

#include <ctemplate/template.h>
#include <ctemplate/template_cache.h>
#include <ctemplate/template_dictionary.h>
#include <ctemplate/template_modifiers.h>

#include <algorithm>

#include "builtin_templates.hpp"
#include "faxbridge/db/mail_templates.hpp"

namespace faxbridge::notifier {
namespace {

constexpr const char* kFallbackLanguage = "en";

std::string html_escaped(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

void fill(ctemplate::TemplateDictionary& dict, const TemplateValues& v, bool html) {
  for (const auto& [k, value] : v.fields) dict.SetValue(k, html ? html_escaped(value) : value);
  for (const auto& s : v.sections) dict.ShowSection(s);
  for (const auto& [name, entries] : v.lists) {
    for (const auto& entry : entries) {
      auto* sub = dict.AddSectionDictionary(name);
      for (const auto& [k, value] : entry) sub->SetValue(k, html ? html_escaped(value) : value);
    }
  }
}

Result<void> parse_into(ctemplate::TemplateCache& cache, const char* part, const std::string& source) {
  if (!cache.StringToTemplateCache(part, source, ctemplate::DO_NOT_STRIP)) {
    return Error(Code::k_template_invalid, std::string("The ") + part +
                                               " part does not parse: check that every {{#SECTION}} has its "
                                               "{{/SECTION}} and that every marker is closed with }}.");
  }
  return ok();
}

Result<std::string> expand(ctemplate::TemplateCache& cache, const char* part, const TemplateValues& values, bool html) {
  ctemplate::TemplateDictionary dict(part);
  fill(dict, values, html);
  std::string out;
  if (!cache.ExpandWithData(part, ctemplate::DO_NOT_STRIP, &dict, nullptr, &out)) {
    return Error(Code::k_template_render_failed, std::string("The ") + part + " part could not be rendered.");
  }
  return out;
}

std::string one_line(std::string s) {
  std::replace_if(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\t'; }, ' ');
  const auto first = s.find_first_not_of(' ');
  const auto last = s.find_last_not_of(' ');
  return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

}  // namespace

const std::vector<std::string>& template_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& p : builtin_template_parts()) {
      if (std::find(n.begin(), n.end(), p.name) == n.end()) n.push_back(p.name);
    }
    std::sort(n.begin(), n.end());
    return n;
  }();
  return names;
}

const std::vector<std::string>& template_languages() {
  static const std::vector<std::string> languages = [] {
    std::vector<std::string> l;
    for (const auto& p : builtin_template_parts()) {
      if (std::find(l.begin(), l.end(), p.language) == l.end()) l.push_back(p.language);
    }
    std::sort(l.begin(), l.end());
    return l;
  }();
  return languages;
}

std::optional<TemplateSet> builtin_template(const std::string& name, const std::string& language) {
  TemplateSet set;
  int found = 0;
  for (const auto& p : builtin_template_parts()) {
    if (p.name != name || p.language != language) continue;
    ++found;
    if (p.part == "subject") set.subject = p.source;
    else if (p.part == "text") set.text = p.source;
    else set.html = p.source;
  }
  if (found == 0) return std::nullopt;
  return set;
}

Result<void> check_template(const TemplateSet& set) {
  ctemplate::TemplateCache cache;
  if (auto r = parse_into(cache, "subject", set.subject); !r) return r;
  if (auto r = parse_into(cache, "text", set.text); !r) return r;
  return parse_into(cache, "html", set.html);
}

Result<RenderedMail> render(const TemplateSet& set, const TemplateValues& values) {
  ctemplate::TemplateCache cache;
  if (auto r = parse_into(cache, "subject", set.subject); !r) return r.error();
  if (auto r = parse_into(cache, "text", set.text); !r) return r.error();
  if (auto r = parse_into(cache, "html", set.html); !r) return r.error();
  RenderedMail out;
  auto subject = expand(cache, "subject", values, false);
  if (!subject) return subject.error();
  auto text = expand(cache, "text", values, false);
  if (!text) return text.error();
  out.subject = one_line(*subject);
  out.text = *text;
  if (!set.html.empty()) {
    // The HTML part may show the subject as rendered (its <title>).
    TemplateValues with_subject = values;
    with_subject.fields["SUBJECT_LINE"] = out.subject;
    auto html = expand(cache, "html", with_subject, true);
    if (!html) return html.error();
    out.html = *html;
  }
  return out;
}

Result<TemplateSet> load_template(db::Tx& tx, const std::string& name, const std::string& language) {
  auto set = builtin_template(name, language);
  std::string effective = language;
  if (!set) {
    set = builtin_template(name, kFallbackLanguage);
    effective = kFallbackLanguage;
  }
  if (!set) return Error(Code::k_template_not_found, "No mail template is named " + name + ".");
  auto rows = db::mail_templates::parts(tx, name, effective);
  if (!rows) return rows.error();
  for (const auto& row : *rows) {
    if (row.part == "subject") set->subject = row.body;
    else if (row.part == "text") set->text = row.body;
    else if (row.part == "html") set->html = row.body;
  }
  return *set;
}

}  // namespace faxbridge::notifier
