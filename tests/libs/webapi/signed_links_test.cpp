// The signed download links of webhook bodies over HTTP (GET /api/v1/links/{faxes,inbox}/
// {id}/file): with no session or token, a genuine link serves the fax's bytes until it
// expires, then link.expired; a changed signature, another fax's id (or the received fax
// with the same number) under a valid signature, another format or expiry, and a missing
// parameter are link.invalid; a server without FAXBRIDGE_SECRET_KEY checks none. The
// links are minted with the same key the fixture gives the WebApi, as the notifier does.
#include "inbox_fixture.hpp"

#include "faxbridge/core/signed_link.hpp"

namespace faxbridge::webapi {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

class SignedLinks : public InboxWorld {
 protected:
  std::int64_t now_s() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  }
  signed_link::Link link(std::string_view resource, std::int64_t id, std::string format, std::int64_t valid_s = 3600) {
    return signed_link::Link{std::string(resource), id, std::move(format), now_s() + valid_s};
  }
  // The link's path and query, as the notifier writes it under an empty base.
  std::string path(const signed_link::Link& l) { return signed_link::url("", l, key_); }
  std::string path(const signed_link::Link& l, const std::string& signature) {
    return "/api/v1/links/" + l.resource + "/" + std::to_string(l.id) + "/file?format=" + l.format +
           "&expires=" + std::to_string(l.expires) + "&signature=" + signature;
  }

  signed_link::LinkKey key_ = signed_link::LinkKey::derive(*secret_box::Key::parse(kTestSecretKey));
};

TEST_F(SignedLinks, ASentFaxDownloadsWithoutATokenBeforeItsLinkExpires) {
  const auto job = send_job(alice_.id, 2);
  faxbridge::testing::ApiClient nobody(port_);
  auto tiff = nobody.get(path(link(signed_link::kFaxes, job.id, "tiff")));
  ASSERT_EQ(tiff.status, 200) << tiff.body;
  EXPECT_EQ(tiff.content_type, "image/tiff");
  EXPECT_EQ(tiff.body, job.tiff) << "the bytes as stored";
  EXPECT_EQ(tiff.header("Cache-Control"), "private, no-store");
  EXPECT_EQ(tiff.header("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(tiff.header("Content-Disposition"), "attachment; filename=\"fax-" + job.reference + ".tif\"");
  auto pdf = nobody.get(path(link(signed_link::kFaxes, job.id, "pdf")));
  ASSERT_EQ(pdf.status, 200) << pdf.body;
  EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  EXPECT_EQ(pdf_page_count(pdf.body), 2);
  EXPECT_EQ(pdf.body, alice_.api->get("/api/v1/faxes/" + std::to_string(job.id) + "/file").body)
      << "what the sender downloads with a token";
}

TEST_F(SignedLinks, AReceivedFaxDownloadsThroughItsInboxLink) {
  const auto fax = receive({bob_.id}, {.pages = 1});
  faxbridge::testing::ApiClient nobody(port_);
  auto tiff = nobody.get(path(link(signed_link::kInbox, fax.id, "tiff")));
  ASSERT_EQ(tiff.status, 200) << tiff.body;
  EXPECT_EQ(tiff.body, fax.tiff);
}

TEST_F(SignedLinks, AnExpiredLinkIsRefusedWithLinkExpired) {
  const auto job = send_job(alice_.id, 1);
  const auto l = link(signed_link::kFaxes, job.id, "pdf", 60);
  faxbridge::testing::ApiClient nobody(port_);
  EXPECT_EQ(nobody.get(path(l)).status, 200);
  clock_.advance(61s);
  auto p = expect_problem(nobody.get(path(l)), 403, "link.expired");
  EXPECT_NE(p["detail"].get<std::string>().find("expired"), std::string::npos) << p["detail"];
  // A signed-in user's token does not revive it: the link is its own permission.
  expect_problem(alice_.api->get(path(l)), 403, "link.expired");
}

TEST_F(SignedLinks, ATamperedSignatureOrAnyOtherPartIsRefusedWithLinkInvalid) {
  const auto job = send_job(alice_.id, 1);
  const auto other = send_job(alice_.id, 1);
  const auto received = receive({alice_.id}, {.pages = 1});
  const auto l = link(signed_link::kFaxes, job.id, "pdf");
  const std::string sig = key_.sign(l);
  faxbridge::testing::ApiClient nobody(port_);
  std::string flipped = sig;
  flipped[10] = flipped[10] == 'x' ? 'y' : 'x';
  expect_problem(nobody.get(path(l, flipped)), 403, "link.invalid");
  expect_problem(nobody.get(path(l, sig.substr(0, 40))), 403, "link.invalid");
  // The valid signature of one fax on another fax's id (and on the received fax with
  // the same number, if there is one), on the other format, with a later expiry.
  auto moved = l;
  moved.id = other.id;
  expect_problem(nobody.get(path(moved, sig)), 403, "link.invalid");
  auto inbox = link(signed_link::kInbox, received.id, "pdf");
  expect_problem(nobody.get(path(inbox, key_.sign(moved))), 403, "link.invalid");
  auto tiff = l;
  tiff.format = "tiff";
  expect_problem(nobody.get(path(tiff, sig)), 403, "link.invalid");
  auto later = l;
  later.expires += 86400;
  expect_problem(nobody.get(path(later, sig)), 403, "link.invalid");
  // Signed with another server's key.
  const auto foreign = signed_link::LinkKey::derive(secret_box::Key::generate());
  expect_problem(nobody.get(path(l, foreign.sign(l))), 403, "link.invalid");
  EXPECT_EQ(nobody.get(path(l, sig)).status, 200) << "the genuine link still works";
}

TEST_F(SignedLinks, AMissingParameterIsRefusedNamingIt) {
  const auto job = send_job(alice_.id, 1);
  const auto l = link(signed_link::kFaxes, job.id, "pdf");
  const std::string base = "/api/v1/links/faxes/" + std::to_string(job.id) + "/file";
  const std::string e = "expires=" + std::to_string(l.expires), s = "signature=" + key_.sign(l);
  faxbridge::testing::ApiClient nobody(port_);
  for (const auto& [query, missing] : std::vector<std::pair<std::string, std::string>>{
           {"?format=pdf&" + e, "signature"}, {"?format=pdf&" + s, "expires"}, {"?" + e + "&" + s, "format"},
           {"?format=pdf&" + e + "&signature=", "signature"}, {"", "format"}}) {
    auto p = expect_problem(nobody.get(base + query), 403, "link.invalid");
    EXPECT_NE(p["detail"].get<std::string>().find("the parameter " + missing + " is missing"), std::string::npos)
        << query << ": " << p["detail"];
  }
  expect_problem(nobody.get(base + "?format=png&" + e + "&" + s), 403, "link.invalid");
  expect_problem(nobody.get(base + "?format=pdf&expires=soon&" + s), 403, "link.invalid");
}

TEST_F(SignedLinks, AGenuineLinkToAFaxWithoutPagesSaysSo) {
  const auto job = send_job(alice_.id, std::nullopt);
  faxbridge::testing::ApiClient nobody(port_);
  expect_problem(nobody.get(path(link(signed_link::kFaxes, job.id, "pdf"))), 404, "fax.page_not_found");
}

class SignedLinksWithoutKey : public InboxWorld {
 protected:
  SignedLinksWithoutKey() { without_secret_key_ = true; }
};

TEST_F(SignedLinksWithoutKey, NoLinkCanBeCheckedAndTheAnswerSaysWhy) {
  const auto key = signed_link::LinkKey::derive(*secret_box::Key::parse(kTestSecretKey));
  faxbridge::testing::ApiClient nobody(port_);
  auto p = expect_problem(nobody.get(signed_link::url("", {"faxes", 1, "pdf", 4102444800}, key)), 409,
                          "secret.key_missing");
  EXPECT_NE(p["detail"].get<std::string>().find("FAXBRIDGE_SECRET_KEY"), std::string::npos);
}

}  // namespace
}  // namespace faxbridge::webapi
