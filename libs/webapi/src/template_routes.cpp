// DESIGN: the mail templates (notifier/templates.hpp) for administrators: every
// template name the notifier sends, in every language it ships, each with a subject, a
// text body and an HTML body. GET shows the template in force (the built-in one, or the
// administrator's parts over it) and which parts were changed; PUT changes any of the
// three parts, each checked first (template.invalid, naming the part, when it does not
// parse: a stored template is one the notifier can render); DELETE puts the built-in
// template back. POST .../preview renders the template in force, or the parts in the body
// (a draft not saved yet), with sample values, so a change can be seen before it is
// saved. Mounted under /api/v1/admin/templates like the other administration (the issue
// names /api/v1/templates; everything an administrator alone changes is under /admin).
// Changes are audited without the text (it may be long), and the next mail uses them.
#include <algorithm>

#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/db/mail_templates.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/notifier/templates.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxPartChars = 100'000;
const char* const kParts[] = {"subject", "text", "html"};

api::Problem not_found(const std::string& name, const std::string& language) {
  return api::Problem(Code::k_template_not_found, "No mail template is named " + name + " in language " + language +
                                                      "; GET /api/v1/admin/templates lists them.");
}

bool known(const std::string& name, const std::string& language) {
  const auto& names = notifier::template_names();
  const auto& languages = notifier::template_languages();
  return std::find(names.begin(), names.end(), name) != names.end() &&
         std::find(languages.begin(), languages.end(), language) != languages.end();
}

std::string& part_of(notifier::TemplateSet& set, const std::string& part) {
  return part == "subject" ? set.subject : part == "text" ? set.text : set.html;
}

Result<json> template_json(db::Tx& tx, const std::string& name, const std::string& language) {
  auto set = notifier::load_template(tx, name, language);
  if (!set) return set.error();
  auto rows = db::mail_templates::parts(tx, name, language);
  if (!rows) return rows.error();
  json changed = json::object();
  std::optional<std::string> updated_at;
  for (const char* p : kParts) changed[p] = false;
  for (const auto& r : *rows) {
    changed[r.part] = true;
    if (!updated_at || r.updated_at > *updated_at) updated_at = r.updated_at;
  }
  const auto sample = notifier::sample_values(name, language);
  json fields = json::array(), sections = json::array();
  for (const auto& [k, v] : sample.fields) fields.push_back(k);
  for (const auto& s : sample.sections) sections.push_back(s);
  for (const auto& [k, v] : sample.lists) sections.push_back(k);
  return json{{"name", name},
              {"language", language},
              {"subject", set->subject},
              {"text", set->text},
              {"html", set->html},
              {"changed", changed},
              {"updated_at", updated_at ? json(*updated_at) : json()},
              {"fields", fields},
              {"sections", sections}};
}

api::Reply list(Context& cx, api::Request& req) {
  if (auto p = refuse_unknown_query(req)) return *p;
  auto body = cx.pool.transact([&](db::Tx& tx) -> Result<json> {
    auto rows = db::mail_templates::all(tx);
    if (!rows) return rows.error();
    json items = json::array();
    for (const auto& name : notifier::template_names()) {
      for (const auto& language : notifier::template_languages()) {
        json changed = json::array();
        for (const auto& r : *rows)
          if (r.name == name && r.language == language) changed.push_back(r.part);
        items.push_back({{"name", name}, {"language", language}, {"changed_parts", changed}});
      }
    }
    return json{{"templates", items}};
  });
  if (!body) return body.error();
  return api::Response::json(*body);
}

api::Reply get(Context& cx, api::Request& req) {
  const std::string name(req.param("name")), language(req.param("language"));
  if (!known(name, language)) return not_found(name, language);
  auto body = cx.pool.transact([&](db::Tx& tx) { return template_json(tx, name, language); });
  if (!body) return body.error();
  return api::Response::json(*body);
}

// The parts a body gives ({"subject": ..., "text": ..., "html": ...}, at least one), each
// parsed: one 422 names every part that is missing or does not parse.
api::ProblemOr<std::map<std::string, std::string>> parts_of(const json& body, bool at_least_one) {
  api::Fields f(body);
  std::map<std::string, std::string> parts;
  for (const char* p : kParts) {
    std::optional<std::string> v;
    f.optional(p, v, api::Text{0, kMaxPartChars});
    if (v) parts[p] = *v;
  }
  if (at_least_one && f.ok() && parts.empty()) {
    f.reject("", Code::k_api_validation_failed, "Give at least one of subject, text and html.");
  }
  for (const auto& [p, source] : parts) {
    notifier::TemplateSet one;
    part_of(one, p) = source;
    if (auto checked = notifier::check_template(one); !checked) {
      f.reject(p, Code::k_template_invalid, checked.error().message);
    }
  }
  if (parts.count("subject") && parts["subject"].find_first_not_of(" \t\r\n") == std::string::npos) {
    f.reject("subject", Code::k_template_invalid, "The subject may not be empty: a mail needs one.");
  }
  if (parts.count("text") && parts["text"].find_first_not_of(" \t\r\n") == std::string::npos) {
    f.reject("text", Code::k_template_invalid, "The text body may not be empty: every mail reader shows it.");
  }
  if (auto problem = f.finish()) return *problem;
  return parts;
}

api::Reply put(Context& cx, api::Request& req) {
  const std::string name(req.param("name")), language(req.param("language"));
  if (!known(name, language)) return not_found(name, language);
  auto parts = parts_of(req.json(), true);
  if (!parts) return parts.problem();
  auto body = cx.pool.transact([&](db::Tx& tx) -> Result<json> {
    json changed = json::array();
    for (const auto& [p, source] : parts.value()) {
      auto r = db::mail_templates::put(tx, {name, language, p, source, "", req.principal() ? std::optional<std::int64_t>(req.principal()->user_id) : std::nullopt});
      if (!r) return r.error();
      changed.push_back(p);
    }
    auto a = db::audit::record(tx, audit_event(req, "template.update", "mail_template", name + "/" + language,
                                               {{"parts", changed}}));
    if (!a) return a.error();
    return template_json(tx, name, language);
  });
  if (!body) return body.error();
  return api::Response::json(*body);
}

api::Reply reset(Context& cx, api::Request& req) {
  const std::string name(req.param("name")), language(req.param("language"));
  if (!known(name, language)) return not_found(name, language);
  auto body = cx.pool.transact([&](db::Tx& tx) -> Result<json> {
    auto n = db::mail_templates::reset(tx, name, language);
    if (!n) return n.error();
    if (*n > 0) {
      auto a = db::audit::record(tx, audit_event(req, "template.reset", "mail_template", name + "/" + language));
      if (!a) return a.error();
    }
    return template_json(tx, name, language);
  });
  if (!body) return body.error();
  return api::Response::json(*body);
}

api::Reply preview(Context& cx, api::Request& req) {
  const std::string name(req.param("name")), language(req.param("language"));
  if (!known(name, language)) return not_found(name, language);
  const json body = req.json().is_null() ? json::object() : req.json();
  auto draft = parts_of(body, false);
  if (!draft) return draft.problem();
  auto set = cx.pool.transact([&](db::Tx& tx) { return notifier::load_template(tx, name, language); });
  if (!set) return set.error();
  for (const auto& [p, source] : draft.value()) part_of(*set, p) = source;
  auto rendered = notifier::render(*set, notifier::sample_values(name, language));
  if (!rendered) return rendered.error();
  return api::Response::json({{"subject", rendered->subject}, {"text", rendered->text}, {"html", rendered->html}});
}

}  // namespace

std::vector<api::Route> template_routes(Context& cx) {
  return {
      {"GET", "/api/v1/admin/templates", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return list(cx, r); }},
      {"GET", "/api/v1/admin/templates/{name}/{language}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return get(cx, r); }},
      {"PUT", "/api/v1/admin/templates/{name}/{language}", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return put(cx, r); }},
      {"DELETE", "/api/v1/admin/templates/{name}/{language}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return reset(cx, r); }},
      {"POST", "/api/v1/admin/templates/{name}/{language}/preview", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return preview(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
