// DESIGN: cover page templates (the seed's "Cover Pages"), SVG with {{field}}
// placeholders (document/compose.hpp), stored in the cover_pages table the converter
// reads. Localized copies follow the seed's naming, "<lang>_<name>" ("it_urgent"): the
// converter picks "<sender's language>_<name>", then "<name>" (db::cover_pages::resolve),
// so a name that starts with two lower-case letters (optionally "-XX") and "_" reads
// as a localized copy; name unlocalized templates without that form ("my-cover").
// An upload (PUT, the SVG as the body or as the "file" part of a form) must pass
// document::check_cover_template (a static drawing: no scripts, no external
// references, no DOCTYPE) and then render with document::render_cover and sample fields,
// so a template that is stored is one the converter can draw: document.cover_invalid
// otherwise. One template is the default (the cover of faxes whose sender chose none);
// PATCH {"default": false} leaves none, and deleting the default has the same effect,
// as the seed says: no cover page is sent then. The preview is the rendered page as a
// PNG, drawn at fax resolution with the company's settings and sample fields. Fax users
// (level 2) see only the names and languages, for the send form's drop-down, and each
// one's preview in the copy their language picks.
// Rendering runs librsvg in this process on an administrator's upload of at most
// BodyLimits::raw_max_bytes, after the lexer refused entities and references.
#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <variant>

#include "admin_support.hpp"
#include "context.hpp"
#include "faxbridge/api/body.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/db/preferences.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/registry.hpp"
#include "faxbridge/db/settings.hpp"
#include "faxbridge/document/compose.hpp"
#include "faxbridge/document/export.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;

constexpr int kPreviewWidth = 850;  // a screen's page width; the fax page is 1728 pixels

bool valid_name(std::string_view name) {
  static const std::regex re(R"(^[A-Za-z0-9._-]{1,64}$)");
  return std::regex_match(name.begin(), name.end(), re);
}

// "it_urgent" -> {"it", "urgent"}; "urgent" -> {"", "urgent"}.
std::pair<std::string, std::string> split_name(const std::string& name) {
  static const std::regex re(R"(^([a-z]{2}(-[A-Z]{2})?)_(.+)$)");
  std::smatch m;
  if (std::regex_match(name, m, re)) return {m[1].str(), m[3].str()};
  return {"", name};
}

bool is_builtin(const std::string& name) { return document::builtin_covers().count(name) > 0; }

json item_json(const db::CoverPageInfo& c) {
  const auto [language, base] = split_name(c.name);
  return {{"name", c.name},
          {"base_name", base},
          {"language", language.empty() ? json(nullptr) : json(language)},
          {"default", c.is_default},
          {"builtin", is_builtin(c.name)},
          {"size_bytes", c.size_bytes},
          {"updated_at", iso8601_utc(c.updated_at)}};
}

api::Problem not_found(std::string_view name) {
  return api::Problem(Code::k_cover_page_not_found, "There is no cover page named \"" + std::string(name) +
                                                        "\"; GET /api/v1/admin/cover-pages lists them.");
}

api::Problem bad_name() {
  api::Problem p(Code::k_api_validation_failed, "One field is invalid; see errors.");
  p.errors = {{"name", Code::k_api_field_invalid,
               "A cover page name is 1-64 letters, digits, dots, dashes or underscores; \"<lang>_<name>\" "
               "(it_urgent) is the <lang> copy of <name>."}};
  return p;
}

// The fields a preview is drawn with: the company's own settings and a sample fax.
document::CoverFields sample_fields(const db::SettingsSnapshot& s) {
  auto or_sample = [&](const char* key, const char* sample) {
    auto v = s.get_string(key);
    return v.empty() ? std::string(sample) : v;
  };
  document::CoverFields f;
  f.values = {{"company_name", or_sample("company.name", "Example Company")},
              {"company_address", or_sample("company.address", "1 Example Street, Milan")},
              {"company_phone", or_sample("company.phone", "+39 02 9786 5303")},
              {"company_fax", or_sample("company.fax", "+39 02 9786 5403")},
              {"sender_name", "Christian Bianchi"},
              {"sender_company", or_sample("company.name", "Example Company")},
              {"sender_fax", or_sample("company.fax", "+39 02 9786 5403")},
              {"sender_phone", or_sample("company.phone", "+39 02 9786 5303")},
              {"recipient_name", "Maria Rossi"},
              {"recipient_company", "Recipient Ltd"},
              {"recipient_number", "+39 06 1234 5678"},
              {"subject", "Sample cover page"},
              {"note", "This is how the note of a fax appears on this cover page. Long notes are wrapped."},
              {"date", "2026-01-15 10:30 UTC"},
              {"page_count", "3"},
              {"reference", "2026.00001234"}};
  return f;
}

Result<db::SettingsSnapshot> load_settings(Context& cx) {
  return cx.pool.transact([](db::Tx& tx) { return db::settings::load(tx); });
}

// A cover page is stored only if it passes the checks and renders.
Result<void> check_svg(Context& cx, const std::string& svg) {
  if (auto c = document::check_cover_template(svg); !c) return c;
  auto settings = load_settings(cx);
  if (!settings) return settings.error();
  auto page = document::render_cover(svg, sample_fields(*settings), document::Resolution::kFine);
  if (!page) {
    Error e = page.error();
    for (const auto& [k, v] : e.context) {
      if (k == "reason") e.message += " (" + v + ")";
    }
    return e;
  }
  return ok();
}

// A FileSink into memory, for the one small file of a cover page form.
class MemorySink final : public api::FileSink {
 public:
  MemorySink(std::string& out, std::size_t limit) : out_(out), limit_(limit) {}
  Result<void> write(const char* data, std::size_t size) override {
    if (out_.size() + size > limit_) {
      return Error(Code::k_api_body_too_large,
                   "The cover page is larger than " + std::to_string(limit_) + " bytes, the limit of this endpoint.");
    }
    out_.append(data, size);
    return ok();
  }
  Result<void> finish() override { return ok(); }

 private:
  std::string& out_;
  std::size_t limit_;
};

// The administrator's list: every page and the default's name (null: none).
Result<json> list_json(Context& cx) {
  auto pages = cx.pool.transact([](db::Tx& tx) { return db::cover_pages::list(tx); });
  if (!pages) return pages.error();
  json items = json::array();
  json default_name = nullptr;
  for (const auto& c : *pages) {
    items.push_back(item_json(c));
    if (c.is_default) default_name = c.name;
  }
  return json{{"cover_pages", items}, {"default", default_name}};
}

api::Reply list(Context& cx, api::Request& req) {
  if (auto problem = refuse_unknown_query(req)) return *problem;
  auto body = list_json(cx);
  if (!body) return body.error();
  return api::Response::json(*body);
}

api::Reply names_for_users(Context& cx, api::Request& req) {
  if (auto problem = refuse_unknown_query(req)) return *problem;
  auto pages = cx.pool.transact([](db::Tx& tx) { return db::cover_pages::list(tx); });
  if (!pages) return pages.error();
  struct Entry {
    std::set<std::string> languages;
    bool generic = false;
  };
  std::map<std::string, Entry> by_base;
  json default_name = nullptr;
  for (const auto& c : *pages) {
    const auto [language, base] = split_name(c.name);
    auto& e = by_base[base];
    if (language.empty()) {
      e.generic = true;
    } else {
      e.languages.insert(language);
    }
    if (c.is_default) default_name = base;
  }
  json items = json::array();
  for (const auto& [base, e] : by_base) {
    items.push_back({{"name", base}, {"languages", e.languages}, {"generic", e.generic}});
  }
  return api::Response::json({{"cover_pages", items}, {"default", default_name}});
}

api::Reply get_svg(Context& cx, api::Request& req) {
  const std::string name(req.param("name"));
  if (!valid_name(name)) return not_found(name);
  auto page = cx.pool.transact([&](db::Tx& tx) { return db::cover_pages::get(tx, name); });
  if (!page) return page.error();
  if (!*page) return not_found(name);
  // Opened in a browser, an SVG is a document: nothing in it may run or load.
  return api::Response::text((*page)->svg, "image/svg+xml")
      .with_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
      .with_header("X-Content-Type-Options", "nosniff");
}

// The `width` query parameter of a preview: 100 to the fax width, kPreviewWidth if absent.
std::variant<int, api::Problem> preview_width(const api::Request& req) {
  auto w = req.query("width");
  if (!w) return kPreviewWidth;
  char* end = nullptr;
  const long v = std::strtol(w->c_str(), &end, 10);
  if (w->empty() || *end != '\0' || v < 100 || v > document::kFaxWidth) {
    api::Problem p(Code::k_api_validation_failed, "One field is invalid; see errors.");
    p.errors = {{"width", Code::k_api_field_out_of_range,
                 "The preview width is 100 to " + std::to_string(document::kFaxWidth) + " pixels."}};
    return p;
  }
  return static_cast<int>(v);
}

api::Reply render_preview(Context& cx, const db::CoverPage& page, int width) {
  auto settings = load_settings(cx);
  if (!settings) return settings.error();
  auto bitmap = document::render_cover(page.svg, sample_fields(*settings), document::Resolution::kFine);
  if (!bitmap) return bitmap.error();
  auto png = document::page_png(*bitmap, document::Resolution::kFine, width);
  if (!png) return png.error();
  return api::Response::text(std::move(*png), "image/png").with_header("Cache-Control", "no-store");
}

api::Reply preview(Context& cx, api::Request& req) {
  const std::string name(req.param("name"));
  auto width = preview_width(req);
  if (auto* p = std::get_if<api::Problem>(&width)) return std::move(*p);
  if (!valid_name(name)) return not_found(name);
  auto page = cx.pool.transact([&](db::Tx& tx) { return db::cover_pages::get(tx, name); });
  if (!page) return page.error();
  if (!*page) return not_found(name);
  return render_preview(cx, **page, std::get<int>(width));
}

// The send form's preview: a name as the drop-down lists it ("urgent"), drawn in the copy
// the converter would put before this sender's fax ("it_urgent" for an Italian sender,
// else "urgent"). A name with no copy for the sender is a 404, not the default's picture.
api::Reply sender_preview(Context& cx, api::Request& req) {
  const std::string name(req.param("name"));
  auto width = preview_width(req);
  if (auto* p = std::get_if<api::Problem>(&width)) return std::move(*p);
  if (!valid_name(name)) return not_found(name);
  const auto user_id = req.principal()->user_id;
  auto page = cx.pool.transact([&](db::Tx& tx) -> Result<std::optional<db::CoverPage>> {
    auto prefs = db::preferences::get(tx, user_id);
    if (!prefs) return prefs.error();
    auto exists = db::preferences::cover_page_exists(tx, name, prefs->language);
    if (!exists) return exists.error();
    if (!*exists) return std::optional<db::CoverPage>{};
    return db::cover_pages::resolve(tx, name, prefs->language);
  });
  if (!page) return page.error();
  if (!*page) return not_found(name);
  return render_preview(cx, **page, std::get<int>(width));
}

api::Reply put(Context& cx, api::Request& req) {
  const std::string name(req.param("name"));
  if (!valid_name(name)) return bad_name();
  bool make_default = false;
  if (auto d = req.query("default")) {
    if (*d != "true" && *d != "false") {
      api::Problem p(Code::k_api_validation_failed, "One field is invalid; see errors.");
      p.errors = {{"default", Code::k_api_field_wrong_type, "default is true or false."}};
      return p;
    }
    make_default = *d == "true";
  }
  std::string svg;
  const std::string type = api::media_type(req.header("Content-Type").value_or(""));
  // The server read a multipart body for the handler; anything else is in body().
  if (type == "multipart/form-data" && req.content_type().empty()) {
    std::string file;
    auto form = req.multipart([&](const api::PartInfo& part) -> Result<std::unique_ptr<api::FileSink>> {
      if (part.name != "file") {
        return Error(Code::k_api_multipart_invalid,
                     "The form has a file part named \"" + part.name + "\"; send the SVG as the part \"file\".");
      }
      return std::unique_ptr<api::FileSink>(std::make_unique<MemorySink>(file, api::BodyLimits{}.raw_max_bytes));
    });
    if (!form) return std::move(form).problem();
    if (form->files.empty() && form->field("file")) file = *form->field("file");
    if (form->files.empty() && !form->field("file")) {
      api::Problem p(Code::k_api_validation_failed, "One field is invalid; see errors.");
      p.errors = {{"file", Code::k_api_field_required, "The form needs the SVG as the part \"file\"."}};
      return p;
    }
    svg = std::move(file);
  } else if (req.content_type() != "image/svg+xml") {
    return api::Problem(Code::k_api_unsupported_media_type,
                        "A cover page is an SVG: send it with Content-Type image/svg+xml" +
                            (req.content_type().empty() ? std::string(" (the request has none).")
                                                        : std::string(", not ") + req.content_type() + "."));
  } else {
    svg = req.body();
  }
  if (auto c = check_svg(cx, svg); !c) return c.error();

  struct Stored {
    db::CoverPageInfo info;
    bool created = false;
  };
  auto stored = cx.pool.transact([&](db::Tx& tx) -> Result<Stored> {
    auto before = db::cover_pages::info(tx, name);
    if (!before) return before.error();
    // A replaced page keeps being the default; ?default=true makes it the default.
    const bool is_default = make_default || (*before && (*before)->is_default);
    if (auto p = db::cover_pages::put(tx, {name, svg, is_default}); !p) return p.error();
    auto after = db::cover_pages::info(tx, name);
    if (!after) return after.error();
    auto a = db::audit::record(tx, audit_event(req, *before ? "cover_page.update" : "cover_page.create", "cover_page",
                                               name, {{"size_bytes", svg.size()}, {"default", is_default}}));
    if (!a) return a.error();
    return Stored{**after, !*before};
  });
  if (!stored) return stored.error();
  auto r = api::Response::json(item_json(stored->info), stored->created ? 201 : 200);
  if (stored->created) r.with_header("Location", "/api/v1/admin/cover-pages/" + name);
  return r;
}

api::Reply patch(Context& cx, api::Request& req) {
  const std::string name(req.param("name"));
  api::Fields f(req.json());
  bool is_default = false;
  f.required("default", is_default);
  if (auto problem = f.finish()) return *problem;
  if (!valid_name(name)) return not_found(name);
  auto info = cx.pool.transact([&](db::Tx& tx) -> Result<std::optional<db::CoverPageInfo>> {
    auto found = db::cover_pages::set_default(tx, name, is_default);
    if (!found) return found.error();
    if (!*found) return std::optional<db::CoverPageInfo>{};
    auto a = db::audit::record(tx, audit_event(req, "cover_page.update", "cover_page", name, {{"default", is_default}}));
    if (!a) return a.error();
    return db::cover_pages::info(tx, name);
  });
  if (!info) return info.error();
  if (!*info) return not_found(name);
  return api::Response::json(item_json(**info));
}

api::Reply remove(Context& cx, api::Request& req) {
  const std::string name(req.param("name"));
  if (!valid_name(name)) return not_found(name);
  auto gone = cx.pool.transact([&](db::Tx& tx) -> Result<bool> {
    auto r = db::cover_pages::remove(tx, name);
    if (!r || !*r) return r;
    auto a = db::audit::record(tx, audit_event(req, "cover_page.delete", "cover_page", name));
    if (!a) return a.error();
    return true;
  });
  if (!gone) return gone.error();
  if (!*gone) return not_found(name);
  return api::Response::no_content();
}

// The built-ins an administrator deleted come back as the migration seeded them
// (document::builtin_covers is the same source); a page that exists under a built-in's
// name, edited or not, is left alone, and so are custom pages. Restoring never changes
// which page is the default: deleting the default turned cover pages off on purpose,
// and PATCH {"default": true} turns them on again. Nothing restored: nothing audited.
api::Reply restore_builtins(Context& cx, api::Request& req) {
  auto restored = cx.pool.transact([&](db::Tx& tx) -> Result<std::vector<std::string>> {
    std::vector<std::string> names;
    for (const auto& [name, svg] : document::builtin_covers()) {  // a std::map: by name
      auto inserted = db::cover_pages::insert_if_missing(tx, {name, svg, false});
      if (!inserted) return inserted.error();
      if (*inserted) names.push_back(name);
    }
    if (!names.empty()) {
      auto a = db::audit::record(tx, audit_event(req, "cover_page.restore_builtins", "cover_page",
                                                 "", {{"restored", names}}));
      if (!a) return a.error();
    }
    return names;
  });
  if (!restored) return restored.error();
  auto body = list_json(cx);
  if (!body) return body.error();
  (*body)["restored"] = *restored;
  return api::Response::json(*body);
}

}  // namespace

std::vector<api::Route> cover_page_routes(Context& cx) {
  return {
      {"GET", "/api/v1/cover-pages", api::kFaxUser, api::BodyKind::kNone,
       [&cx](api::Request& r) { return names_for_users(cx, r); }},
      {"GET", "/api/v1/cover-pages/{name}/preview", api::kFaxUser, api::BodyKind::kNone,
       [&cx](api::Request& r) { return sender_preview(cx, r); }},
      {"GET", "/api/v1/admin/cover-pages", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return list(cx, r); }},
      {"GET", "/api/v1/admin/cover-pages/{name}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return get_svg(cx, r); }},
      {"PUT", "/api/v1/admin/cover-pages/{name}", api::kAdministrator, api::BodyKind::kRaw,
       [&cx](api::Request& r) { return put(cx, r); }},
      {"PATCH", "/api/v1/admin/cover-pages/{name}", api::kAdministrator, api::BodyKind::kJson,
       [&cx](api::Request& r) { return patch(cx, r); }},
      {"DELETE", "/api/v1/admin/cover-pages/{name}", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return remove(cx, r); }},
      {"GET", "/api/v1/admin/cover-pages/{name}/preview", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return preview(cx, r); }},
      {"POST", "/api/v1/admin/cover-pages/builtins/restore", api::kAdministrator, api::BodyKind::kNone,
       [&cx](api::Request& r) { return restore_builtins(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
