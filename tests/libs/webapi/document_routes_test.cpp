// The documents of faxes over HTTP, both directions: GET /inbox/{id}/file and
// /faxes/{id}/file as PDF (opens with %PDF, the right page count) and TIFF (the bytes
// as stored), page previews as PNG (signature, width), the ETag / If-None-Match 304,
// Content-Disposition and Cache-Control, own-versus-other 404s, the administrator, the
// pages that are not converted yet, bad formats, widths and page numbers.
#include "inbox_fixture.hpp"

#include "faxbridge/document/tiff.hpp"

namespace faxbridge::webapi {
namespace {

using namespace testing_support;

class DocumentRoutes : public InboxWorld {};

TEST_F(DocumentRoutes, AReceivedFaxDownloadsAsPdfAndAsTheTiffReceived) {
  const auto fax = receive({alice_.id}, {.pages = 3});
  const std::string base = "/api/v1/inbox/" + std::to_string(fax.id) + "/file";
  auto pdf = alice_.api->get(base);
  ASSERT_EQ(pdf.status, 200) << pdf.body;
  EXPECT_EQ(pdf.content_type, "application/pdf");
  EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  EXPECT_EQ(pdf_page_count(pdf.body), 3);
  EXPECT_EQ(pdf.header("Content-Disposition"), "attachment; filename=\"fax-" + fax.reference + ".pdf\"");
  EXPECT_EQ(pdf.header("Cache-Control"), "private, no-cache");
  EXPECT_FALSE(pdf.header("ETag").empty());

  auto tiff = alice_.api->get(base + "?format=tiff");
  ASSERT_EQ(tiff.status, 200);
  EXPECT_EQ(tiff.content_type, "image/tiff");
  EXPECT_EQ(tiff.body, fax.tiff);
  EXPECT_EQ(tiff.header("Content-Disposition"), "attachment; filename=\"fax-" + fax.reference + ".tif\"");
  EXPECT_NE(tiff.header("ETag"), pdf.header("ETag"));
  EXPECT_EQ(alice_.api->get(base + "?format=pdf").body, pdf.body) << "the same fax, the same bytes";
}

TEST_F(DocumentRoutes, TheConvertersPdfIsServedWhenThereIsOne) {
  const auto fax = receive({alice_.id}, {.pages = 1});
  const std::string stored = "%PDF-1.4 the converter's copy";
  auto doc = pool_.transact([&](db::Tx& tx) {
    db::Document d;
    d.kind = "pdf";
    d.media_type = "application/pdf";
    d.bytes = stored;
    return db::documents::put(tx, d);
  });
  ASSERT_TRUE(doc);
  sql("UPDATE received_faxes SET pdf_document_id = " + std::to_string(doc->id) + " WHERE id = " + std::to_string(fax.id));
  auto r = alice_.api->get("/api/v1/inbox/" + std::to_string(fax.id) + "/file?format=pdf");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, stored);
  EXPECT_EQ(r.header("ETag"), "\"" + doc->sha256_hex + "\"");
}

TEST_F(DocumentRoutes, IfNoneMatchWithTheETagAnswers304WithoutTheBytes) {
  const auto fax = receive({alice_.id});
  for (const std::string path : {"/api/v1/inbox/" + std::to_string(fax.id) + "/file",
                                 "/api/v1/inbox/" + std::to_string(fax.id) + "/file?format=tiff",
                                 "/api/v1/inbox/" + std::to_string(fax.id) + "/pages/1/preview"}) {
    auto first = alice_.api->get(path);
    ASSERT_EQ(first.status, 200) << path;
    const auto etag = first.header("ETag");
    auto again = alice_.api->get(path, {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304) << path;
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(again.header("ETag"), etag);
    EXPECT_EQ(again.header("Cache-Control"), "private, no-cache");
    EXPECT_EQ(alice_.api->get(path, {{"If-None-Match", "\"other\", W/" + etag}}).status, 304) << "a list, weak";
    EXPECT_EQ(alice_.api->get(path, {{"If-None-Match", "\"other\""}}).status, 200);
  }
  // A preview at another width or page is another representation.
  auto p1 = alice_.api->get("/api/v1/inbox/" + std::to_string(fax.id) + "/pages/1/preview");
  EXPECT_EQ(alice_.api->get("/api/v1/inbox/" + std::to_string(fax.id) + "/pages/1/preview?width=400",
                            {{"If-None-Match", p1.header("ETag")}})
                .status,
            200);
  EXPECT_EQ(alice_.api->get("/api/v1/inbox/" + std::to_string(fax.id) + "/pages/2/preview",
                            {{"If-None-Match", p1.header("ETag")}})
                .status,
            200);
  // Access is checked before the ETag: another user learns nothing from a 304.
  expect_problem(bob_.api->get("/api/v1/inbox/" + std::to_string(fax.id) + "/file", {{"If-None-Match", "*"}}), 404,
                 "inbox.not_found");
}

TEST_F(DocumentRoutes, PreviewsArePngsOfTheAskedWidth) {
  const auto fax = receive({alice_.id}, {.pages = 2});
  const std::string base = "/api/v1/inbox/" + std::to_string(fax.id) + "/pages/";
  auto r = alice_.api->get(base + "1/preview");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "image/png");
  auto [w, h] = png_size(r.body);
  EXPECT_EQ(w, 800);
  // Fine resolution, square pixels: 2292 rows of 196 dpi at 800/1728 of 204 dpi.
  EXPECT_NEAR(h, 2292 * 800.0 / 1728 * 204 / 196, 3);
  EXPECT_EQ(r.header("Content-Disposition"), "inline; filename=\"fax-" + fax.reference + "-page-1.png\"");
  EXPECT_EQ(png_size(alice_.api->get(base + "2/preview?width=100").body).first, 100);
  EXPECT_EQ(png_size(alice_.api->get(base + "2/preview?width=1728").body).first, 1728);
  EXPECT_NE(alice_.api->get(base + "1/preview?width=300").body, alice_.api->get(base + "2/preview?width=300").body);
}

TEST_F(DocumentRoutes, RefusesAbsurdWidthsFormatsAndPages) {
  const auto fax = receive({alice_.id}, {.pages = 2});
  const std::string base = "/api/v1/inbox/" + std::to_string(fax.id);
  for (const char* width : {"99", "1729", "100000000", "-5", "wide"}) {
    auto p = expect_problem(alice_.api->get(base + "/pages/1/preview?width=" + width), 422, "api.validation_failed");
    EXPECT_EQ(p["errors"][0]["field"], "width") << width;
  }
  expect_problem(alice_.api->get(base + "/file?format=docx"), 422, "api.validation_failed");
  auto past = expect_problem(alice_.api->get(base + "/pages/3/preview"), 404, "fax.page_not_found");
  EXPECT_NE(past["detail"].get<std::string>().find("2 pages"), std::string::npos) << past["detail"];
  expect_problem(alice_.api->get(base + "/pages/0/preview"), 404, "fax.page_not_found");
  expect_problem(alice_.api->get(base + "/pages/one/preview"), 404, "fax.page_not_found");
}

TEST_F(DocumentRoutes, AReceivedFaxOfAnotherUserIsNotFoundAndAnAdministratorGetsAny) {
  const auto bobs = receive({bob_.id}, {.to = "+390297865404"});
  const std::string base = "/api/v1/inbox/" + std::to_string(bobs.id);
  expect_problem(alice_.api->get(base + "/file"), 404, "inbox.not_found");
  expect_problem(alice_.api->get(base + "/pages/1/preview"), 404, "inbox.not_found");
  expect_problem(alice_.api->get("/api/v1/inbox/424242/file"), 404, "inbox.not_found");
  expect_problem(alice_.api->get("/api/v1/inbox/x/file"), 404, "inbox.not_found");
  EXPECT_EQ(admin_.api->get(base + "/file?format=tiff").body, bobs.tiff);
  EXPECT_EQ(admin_.api->get(base + "/pages/1/preview").status, 200);
  expect_problem(zero_.api->get(base + "/file"), 403, "api.forbidden");
  ApiClient nobody(port_);
  expect_problem(nobody.get(base + "/file"), 401, "api.unauthenticated");
}

TEST_F(DocumentRoutes, AReceivedFaxWithoutPagesSaysSo) {
  const auto fax = receive({alice_.id}, {.error_code = "fax.call_dropped", .with_tiff = false});
  auto p = expect_problem(alice_.api->get("/api/v1/inbox/" + std::to_string(fax.id) + "/file"), 404,
                          "fax.page_not_found");
  EXPECT_NE(p["detail"].get<std::string>().find("no pages"), std::string::npos);
}

TEST_F(DocumentRoutes, ASentFaxsPagesDownloadAndPreview) {
  const auto job = send_job(alice_.id, 3);
  const std::string base = "/api/v1/faxes/" + std::to_string(job.id);
  auto pdf = alice_.api->get(base + "/file");
  ASSERT_EQ(pdf.status, 200) << pdf.body;
  EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  EXPECT_EQ(pdf_page_count(pdf.body), 3);
  EXPECT_EQ(pdf.header("Content-Disposition"), "attachment; filename=\"fax-" + job.reference + ".pdf\"");
  auto tiff = alice_.api->get(base + "/file?format=tiff");
  EXPECT_EQ(tiff.body, job.tiff);
  auto pages = document::inspect_tiff(tiff.body);
  ASSERT_TRUE(pages);
  EXPECT_EQ(pages->size(), 3u);
  auto png = alice_.api->get(base + "/pages/3/preview?width=500");
  ASSERT_EQ(png.status, 200) << png.body;
  EXPECT_EQ(png_size(png.body).first, 500);
  EXPECT_EQ(alice_.api->get(base + "/pages/3/preview?width=500", {{"If-None-Match", png.header("ETag")}}).status, 304);
  expect_problem(alice_.api->get(base + "/pages/4/preview"), 404, "fax.page_not_found");
}

TEST_F(DocumentRoutes, ASentFaxBeforeConversionHasNoPagesYet) {
  const auto job = send_job(alice_.id, std::nullopt);
  for (const auto& path : {"/api/v1/faxes/" + std::to_string(job.id) + "/file",
                           "/api/v1/faxes/" + std::to_string(job.id) + "/pages/1/preview"}) {
    auto p = expect_problem(alice_.api->get(path), 404, "fax.page_not_found");
    EXPECT_NE(p["detail"].get<std::string>().find("not ready yet"), std::string::npos) << p["detail"];
  }
}

TEST_F(DocumentRoutes, AnotherUsersSentFaxIsNotFoundAndAnAdministratorGetsAny) {
  const auto bobs = send_job(bob_.id, 1);
  const std::string base = "/api/v1/faxes/" + std::to_string(bobs.id);
  auto other = expect_problem(alice_.api->get(base + "/file"), 404, "fax.not_found");
  auto missing = expect_problem(alice_.api->get("/api/v1/faxes/999999/file"), 404, "fax.not_found");
  expect_problem(alice_.api->get(base + "/pages/1/preview"), 404, "fax.not_found");
  expect_problem(alice_.api->get(base + "/file", {{"If-None-Match", "*"}}), 404, "fax.not_found");
  EXPECT_EQ(admin_.api->get(base + "/file?format=tiff").body, bobs.tiff);
  EXPECT_EQ(admin_.api->get(base + "/pages/1/preview").status, 200);
  expect_problem(zero_.api->get(base + "/file"), 403, "api.forbidden");
}

}  // namespace
}  // namespace faxbridge::webapi
