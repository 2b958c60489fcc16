// Cover page templates over HTTP (cover_page_routes.cpp): the stored ones listed with
// their languages, an SVG upload checked (a static drawing that renders) as the body or
// as a form's file, the PNG preview, the default, deletion, and the names a fax user's
// send form shows.
#include "admin_config_fixture.hpp"

#include "faxbridge/db/registry.hpp"
#include "faxbridge/document/compose.hpp"

namespace faxbridge::webapi::testing {
namespace {

const std::string kSvg =
    R"X(<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="610pt" height="842pt" viewBox="0 0 610 842">
  <rect x="0" y="0" width="610" height="842" fill="#fff"/>
  <text x="40" y="60" font-size="30" font-family="DejaVu Sans">{{company_name}}</text>
  <text x="40" y="120" font-size="20" font-family="DejaVu Sans">To: {{recipient_name}}</text>
  <rect x="40" y="200" width="530" height="40" fill="none" stroke="#000" stroke-width="3"/>
</svg>
)X";

ApiReply put_svg(ApiClient& c, const std::string& name, const std::string& svg, const std::string& query = "") {
  return c.send("PUT", "/api/v1/admin/cover-pages/" + name + query, svg, "image/svg+xml");
}

using CoverPages = AdminConfigTest;

TEST_F(CoverPages, ListsTheBuiltInOnesAndTheDefault) {
  auto r = admin_->get("/api/v1/admin/cover-pages");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["default"], "default");
  std::set<std::string> names;
  for (const auto& c : r.json["cover_pages"]) {
    names.insert(c["name"]);
    EXPECT_EQ(c["builtin"], true);
    EXPECT_EQ(c["language"], nullptr);
    EXPECT_GT(c["size_bytes"].get<int>(), 1000);
  }
  EXPECT_EQ(names, (std::set<std::string>{"confidential", "default", "urgent"}));
  auto svg = admin_->get("/api/v1/admin/cover-pages/urgent");
  ASSERT_EQ(svg.status, 200);
  EXPECT_EQ(svg.content_type, "image/svg+xml");
  EXPECT_EQ(svg.body, document::builtin_covers().at("urgent"));
  EXPECT_NE(svg.header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  expect_problem(admin_->get("/api/v1/admin/cover-pages/nothing"), 404, "cover_page.not_found");
}

TEST_F(CoverPages, UploadAnSvgAsTheBodyOrAsAFormAndLocalizedCopies) {
  auto created = put_svg(*admin_, "it_urgent", kSvg);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.header("Location"), "/api/v1/admin/cover-pages/it_urgent");
  EXPECT_EQ(created.json["name"], "it_urgent");
  EXPECT_EQ(created.json["base_name"], "urgent");
  EXPECT_EQ(created.json["language"], "it");
  EXPECT_EQ(created.json["builtin"], false);
  EXPECT_EQ(created.json["default"], false);
  EXPECT_EQ(admin_->get("/api/v1/admin/cover-pages/it_urgent").body, kSvg);

  auto replaced = put_svg(*admin_, "it_urgent", kSvg + "<!-- v2 -->\n");
  ASSERT_EQ(replaced.status, 200) << replaced.body;

  auto put_form = admin_->send("PUT", "/api/v1/admin/cover-pages/de-AT_urgent",
                               "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"u.svg\"\r\n"
                               "Content-Type: image/svg+xml\r\n\r\n" + kSvg + "\r\n--b--\r\n",
                               "multipart/form-data; boundary=b");
  ASSERT_EQ(put_form.status, 201) << put_form.body;
  EXPECT_EQ(put_form.json["language"], "de-AT");

  // The converter's lookup picks the sender's language.
  auto resolved = pool_.transact([](db::Tx& tx) { return db::cover_pages::resolve(tx, "urgent", "it"); });
  ASSERT_TRUE(resolved && *resolved);
  EXPECT_EQ((*resolved)->name, "it_urgent");

  // A fax user sees the names for the send form, with their languages.
  auto names = user_->get("/api/v1/cover-pages");
  ASSERT_EQ(names.status, 200) << names.body;
  EXPECT_EQ(names.json["default"], "default");
  bool urgent = false;
  for (const auto& c : names.json["cover_pages"]) {
    if (c["name"] != "urgent") continue;
    urgent = true;
    EXPECT_EQ(c["languages"], json({"de-AT", "it"}));
    EXPECT_EQ(c["generic"], true);
  }
  EXPECT_TRUE(urgent);
  EXPECT_EQ(audit("cover_page.create").size(), 2u);
  EXPECT_EQ(audit("cover_page.update").size(), 1u);
}

TEST_F(CoverPages, RefusesWhatIsNotAStaticSvgDrawing) {
  const std::string head = R"X(<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">)X";
  for (const std::string& bad : std::vector<std::string>{
           head + "<script>alert(1)</script></svg>",
           head + R"X(<rect width="10" height="10" onclick="alert(1)"/></svg>)X",
           head + R"X(<image href="file:///etc/passwd" width="10" height="10"/></svg>)X",
           head + R"X(<image xlink:href="https://tracker.example/x.png" width="10" height="10"/></svg>)X",
           head + R"X(<rect width="10" height="10" fill="url(https://evil.example/p.svg#g)"/></svg>)X",
           head + R"X(<style>@import url("https://evil.example/a.css");</style></svg>)X",
           head + R"X(<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject></svg>)X",
           head + R"X(<image href="data:image/svg+xml;base64,PHN2Zy8+" width="10" height="10"/></svg>)X",
           R"X(<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>)X" + head + "<text>&x;</text></svg>",
           R"X(<?xml-stylesheet href="https://evil.example/a.css"?>)X" + head + "</svg>",
           std::string("<html><body>not svg</body></html>"),
           head + "<rect width=10 height=10/></svg>",
           head + "<rect width=\"10\"",  // truncated
           std::string(""),
       }) {
    auto r = put_svg(*admin_, "bad", bad);
    expect_problem(r, 409, "document.cover_invalid");
  }
  // Parses by the lexer but not as XML: librsvg refuses it, so it is not stored either.
  expect_problem(put_svg(*admin_, "bad", head + "<g></svg>"), 409, "document.cover_invalid");
  expect_problem(admin_->get("/api/v1/admin/cover-pages/bad"), 404, "cover_page.not_found");
  // An embedded PNG logo and internal references are fine.
  const std::string logo = head +
                           R"X(<defs><linearGradient id="g"/></defs><rect width="10" height="10" fill="url(#g)"/>)X"
                           R"X(<use href="#g"/><image href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/></svg>)X";
  EXPECT_EQ(put_svg(*admin_, "logo", logo).status, 201);
  EXPECT_TRUE(audit("cover_page.create").size() == 1u);
}

TEST_F(CoverPages, RefusesOtherMediaTypesBadNamesAndLargeBodies) {
  expect_problem(admin_->send("PUT", "/api/v1/admin/cover-pages/x", "%PDF-1.4", "application/pdf"), 415,
                 "api.unsupported_media_type");
  expect_problem(admin_->send("PUT", "/api/v1/admin/cover-pages/x", kSvg, "text/plain"), 415,
                 "api.unsupported_media_type");
  expect_problem(admin_->send("PUT", "/api/v1/admin/cover-pages/x", kSvg, ""), 415, "api.unsupported_media_type");
  auto bad_name = expect_problem(put_svg(*admin_, "bad%20name", kSvg), 422, "api.validation_failed");
  EXPECT_EQ(bad_name["errors"][0]["field"], "name");
  expect_problem(put_svg(*admin_, std::string(65, 'a'), kSvg), 422, "api.validation_failed");
  expect_problem(put_svg(*admin_, "x", kSvg, "?default=yes"), 422, "api.validation_failed");
  expect_problem(put_svg(*admin_, "x", kSvg + "<!--" + std::string(1 << 20, 'x') + "-->"), 413, "api.body_too_large");
  auto no_file = admin_->send("PUT", "/api/v1/admin/cover-pages/x",
                              "--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--b--\r\n",
                              "multipart/form-data; boundary=b");
  expect_problem(no_file, 422, "api.validation_failed");
  expect_problem(admin_->get("/api/v1/admin/cover-pages/x"), 404, "cover_page.not_found");
}

TEST_F(CoverPages, PreviewIsAPngOfTheRenderedPage) {
  ASSERT_EQ(put_svg(*admin_, "mine", kSvg).status, 201);
  auto r = admin_->get("/api/v1/admin/cover-pages/mine/preview");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  EXPECT_EQ(r.content_type, "image/png");
  ASSERT_GT(r.body.size(), 24u);
  EXPECT_EQ(r.body.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned char>(r.body[at]) << 24) | (static_cast<unsigned char>(r.body[at + 1]) << 16) |
           (static_cast<unsigned char>(r.body[at + 2]) << 8) | static_cast<unsigned char>(r.body[at + 3]);
  };
  EXPECT_EQ(r.body.substr(12, 4), "IHDR");
  EXPECT_EQ(be32(16), 850u) << "the default preview width";
  // A4's length on the fax line's 215 mm width (1728 pixels at 204 dpi), square pixels.
  EXPECT_NEAR(static_cast<double>(be32(20)), 850.0 * 297 / (1728 / 204.0 * 25.4), 3.0) << "an A4 page";
  EXPECT_EQ(static_cast<int>(r.body[24]), 8) << "8-bit";
  EXPECT_EQ(static_cast<int>(r.body[25]), 0) << "grey";
  // Drawn with the company's settings: another name, other pixels.
  ASSERT_EQ(admin_->put("/api/v1/admin/settings/company.name", {{"value", "Bianchi & Figli S.p.A."}}).status, 200);
  auto renamed = admin_->get("/api/v1/admin/cover-pages/mine/preview");
  ASSERT_EQ(renamed.status, 200);
  EXPECT_NE(renamed.body, r.body);
  auto small = admin_->get("/api/v1/admin/cover-pages/default/preview?width=200");
  ASSERT_EQ(small.status, 200);
  EXPECT_EQ(small.body.substr(12, 4), "IHDR");
  expect_problem(admin_->get("/api/v1/admin/cover-pages/mine/preview?width=5000"), 422, "api.validation_failed");
  expect_problem(admin_->get("/api/v1/admin/cover-pages/mine/preview?width=abc"), 422, "api.validation_failed");
  expect_problem(admin_->get("/api/v1/admin/cover-pages/nothing/preview"), 404, "cover_page.not_found");
}

TEST_F(CoverPages, TheDefaultMovesAndDeletingItLeavesNone) {
  ASSERT_EQ(put_svg(*admin_, "mine", kSvg, "?default=true").status, 201);
  auto list = admin_->get("/api/v1/admin/cover-pages");
  EXPECT_EQ(list.json["default"], "mine");
  auto back = admin_->patch("/api/v1/admin/cover-pages/urgent", {{"default", true}});
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(back.json["default"], true);
  EXPECT_EQ(admin_->get("/api/v1/admin/cover-pages").json["default"], "urgent");
  // Replacing the default keeps it the default.
  ASSERT_EQ(put_svg(*admin_, "urgent", kSvg).status, 200);
  EXPECT_EQ(admin_->get("/api/v1/admin/cover-pages").json["default"], "urgent");
  expect_problem(admin_->patch("/api/v1/admin/cover-pages/urgent", {{"default", "yes"}}), 422, "api.validation_failed");
  expect_problem(admin_->patch("/api/v1/admin/cover-pages/urgent", json::object()), 422, "api.validation_failed");
  expect_problem(admin_->patch("/api/v1/admin/cover-pages/urgent", {{"default", true}, {"name", "x"}}), 422,
                 "api.validation_failed");
  expect_problem(admin_->patch("/api/v1/admin/cover-pages/nothing", {{"default", true}}), 404, "cover_page.not_found");

  ASSERT_EQ(admin_->del("/api/v1/admin/cover-pages/urgent").status, 204);
  EXPECT_EQ(admin_->get("/api/v1/admin/cover-pages").json["default"], nullptr);
  auto none = pool_.transact([](db::Tx& tx) { return db::cover_pages::resolve(tx, "", "en"); });
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value()) << "no default: faxes go without a cover page";
  EXPECT_EQ(user_->get("/api/v1/cover-pages").json["default"], nullptr);
  expect_problem(admin_->del("/api/v1/admin/cover-pages/urgent"), 404, "cover_page.not_found");
  EXPECT_EQ(audit("cover_page.delete").size(), 1u);
}

TEST_F(CoverPages, OnlyAdministratorsManageThemAndFaxUsersListNames) {
  expect_admin_only("GET", "/api/v1/admin/cover-pages");
  expect_admin_only("GET", "/api/v1/admin/cover-pages/default");
  expect_admin_only("GET", "/api/v1/admin/cover-pages/default/preview");
  expect_admin_only("PATCH", "/api/v1/admin/cover-pages/default", {{"default", true}});
  expect_admin_only("DELETE", "/api/v1/admin/cover-pages/default");
  expect_problem(put_svg(*user_, "x", kSvg), 403, "api.forbidden");
  expect_problem(put_svg(*nobody_, "x", kSvg), 401, "api.unauthenticated");
  EXPECT_EQ(user_->get("/api/v1/cover-pages").status, 200);
  EXPECT_EQ(admin_->get("/api/v1/cover-pages").status, 200);
  expect_problem(nofax_->get("/api/v1/cover-pages"), 403, "api.forbidden");
  expect_problem(nobody_->get("/api/v1/cover-pages"), 401, "api.unauthenticated");
}

// The send form's preview: a fax user sees a listed name drawn in the copy their
// language picks, which is what their fax would carry.
TEST_F(CoverPages, AFaxUserPreviewsANameInTheCopyOfTheirLanguage) {
  const std::string italian = kSvg.substr(0, kSvg.find("</svg>")) +
                              R"(<rect x="0" y="400" width="610" height="300" fill="#000"/></svg>)";
  ASSERT_EQ(put_svg(*admin_, "it_urgent", italian).status, 201);
  auto english = user_->get("/api/v1/cover-pages/urgent/preview?width=200");
  ASSERT_EQ(english.status, 200) << english.body.substr(0, 300);
  EXPECT_EQ(english.content_type, "image/png");
  EXPECT_EQ(english.body, admin_->get("/api/v1/admin/cover-pages/urgent/preview?width=200").body);
  ASSERT_EQ(user_->patch("/api/v1/me/preferences", {{"language", "it"}}).status, 200);
  auto localized = user_->get("/api/v1/cover-pages/urgent/preview?width=200");
  ASSERT_EQ(localized.status, 200);
  EXPECT_EQ(localized.body, admin_->get("/api/v1/admin/cover-pages/it_urgent/preview?width=200").body);
  EXPECT_NE(localized.body, english.body);
  expect_problem(user_->get("/api/v1/cover-pages/nothing/preview"), 404, "cover_page.not_found");
  expect_problem(user_->get("/api/v1/cover-pages/urgent/preview?width=9"), 422, "api.validation_failed");
  expect_problem(nofax_->get("/api/v1/cover-pages/urgent/preview"), 403, "api.forbidden");
}

// Deleted built-ins come back as shipped; an edited built-in and a custom page stay as
// they are, the default does not move, and a second call restores nothing.
TEST_F(CoverPages, RestoringTheBuiltInsRecreatesOnlyTheMissingOnes) {
  const std::string edited = kSvg + "<!-- our urgent -->\n";
  ASSERT_EQ(put_svg(*admin_, "urgent", edited).status, 200);
  ASSERT_EQ(put_svg(*admin_, "my-cover", kSvg).status, 201);
  ASSERT_EQ(admin_->del("/api/v1/admin/cover-pages/confidential").status, 204);
  ASSERT_EQ(admin_->del("/api/v1/admin/cover-pages/default").status, 204);  // cover pages off

  auto r = admin_->send("POST", "/api/v1/admin/cover-pages/builtins/restore", "", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["restored"], json({"confidential", "default"}));
  EXPECT_EQ(r.json["default"], nullptr) << "restoring does not turn cover pages back on";
  std::set<std::string> names;
  for (const auto& c : r.json["cover_pages"]) names.insert(c["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"confidential", "default", "my-cover", "urgent"}));
  EXPECT_EQ(admin_->get("/api/v1/admin/cover-pages/default").body, document::builtin_covers().at("default"));
  EXPECT_EQ(admin_->get("/api/v1/admin/cover-pages/confidential").body, document::builtin_covers().at("confidential"));
  EXPECT_EQ(admin_->get("/api/v1/admin/cover-pages/urgent").body, edited) << "an edited built-in is kept";
  EXPECT_EQ(admin_->get("/api/v1/admin/cover-pages/my-cover").body, kSvg);

  auto again = admin_->send("POST", "/api/v1/admin/cover-pages/builtins/restore", "", "");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["restored"], json::array());

  // One audit row, for the call that restored something, with the caller's address.
  auto audit = admin_->get("/api/v1/admin/audit?action=cover_page.restore_builtins");
  ASSERT_EQ(audit.json["events"].size(), 1u) << audit.body;
  EXPECT_EQ(audit.json["events"][0]["details"]["restored"], json({"confidential", "default"}));
  EXPECT_EQ(audit.json["events"][0]["ip"], "127.0.0.1");
  expect_problem(user_->send("POST", "/api/v1/admin/cover-pages/builtins/restore", "", ""), 403, "api.forbidden");
}

}  // namespace
}  // namespace faxbridge::webapi::testing
