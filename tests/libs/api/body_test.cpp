#include "faxbridge/api/body.hpp"

#include <gtest/gtest.h>

using namespace faxbridge;
using api::BodyKind;

namespace {
api::BodyHeaders json_body(std::uint64_t length) {
  api::BodyHeaders h;
  h.content_type = "application/json";
  h.content_length = length;
  return h;
}
Code refused(BodyKind kind, const api::BodyHeaders& h, const api::BodyLimits& limits = {}) {
  auto p = api::precheck_body(kind, h, limits);
  return p ? p->code : Code::k_internal;  // k_internal: "not refused" in these tests
}
}  // namespace

TEST(MediaType, IgnoresParametersAndCase) {
  EXPECT_EQ(api::media_type("Application/JSON; charset=utf-8"), "application/json");
  EXPECT_TRUE(api::is_json_media_type("application/json"));
  EXPECT_TRUE(api::is_json_media_type("application/merge-patch+json"));
  EXPECT_FALSE(api::is_json_media_type("text/plain"));
  EXPECT_FALSE(api::is_json_media_type("application/jsonx"));
  EXPECT_EQ(api::media_type_parameter(R"(multipart/form-data; boundary="ab c")", "boundary"), "ab c");
  EXPECT_EQ(api::media_type_parameter("multipart/form-data; Boundary=xyz", "boundary"), "xyz");
  EXPECT_EQ(api::media_type_parameter("multipart/form-data", "boundary"), "");
}

TEST(PrecheckBody, JsonRoutes) {
  EXPECT_FALSE(api::precheck_body(BodyKind::kJson, json_body(10), {}));
  api::BodyHeaders text = json_body(10);
  text.content_type = "text/plain";
  EXPECT_EQ(refused(BodyKind::kJson, text), Code::k_api_unsupported_media_type);
  EXPECT_EQ(refused(BodyKind::kJson, json_body(0)), Code::k_api_invalid_json);
  EXPECT_EQ(refused(BodyKind::kJson, json_body(2 << 20)), Code::k_api_body_too_large);
  api::BodyHeaders gzip = json_body(10);
  gzip.content_encoding = "gzip";
  EXPECT_EQ(refused(BodyKind::kJson, gzip), Code::k_api_unsupported_media_type);
  api::BodyHeaders chunked = json_body(0);
  chunked.content_length.reset();
  chunked.chunked = true;  // no length to check yet: the read checks it
  EXPECT_FALSE(api::precheck_body(BodyKind::kJson, chunked, {}));
  api::BodyHeaders garbage = json_body(0);
  garbage.content_length.reset();
  garbage.length_malformed = true;
  EXPECT_EQ(refused(BodyKind::kJson, garbage), Code::k_api_bad_request);
}

TEST(PrecheckBody, MultipartRoutesNeedALengthWithinTheTotal) {
  api::BodyHeaders h;
  h.content_type = "multipart/form-data; boundary=b";
  h.content_length = 1000;
  EXPECT_FALSE(api::precheck_body(BodyKind::kMultipart, h, {}));
  api::BodyLimits small;
  small.multipart.max_total_bytes = 999;
  EXPECT_EQ(refused(BodyKind::kMultipart, h, small), Code::k_api_body_too_large);
  h.content_length.reset();
  h.chunked = true;
  EXPECT_EQ(refused(BodyKind::kMultipart, h), Code::k_api_length_required);
  h.content_type = "multipart/form-data";
  h.content_length = 10;
  EXPECT_EQ(refused(BodyKind::kMultipart, h), Code::k_api_multipart_invalid);
  h.content_type = "application/json";
  EXPECT_EQ(refused(BodyKind::kMultipart, h), Code::k_api_unsupported_media_type);
}

TEST(PrecheckBody, BodylessRoutesTakeASmallBodyOnly) {
  api::BodyHeaders none;
  EXPECT_FALSE(api::precheck_body(BodyKind::kNone, none, {}));
  EXPECT_FALSE(api::precheck_body(BodyKind::kNone, json_body(2), {}));
  EXPECT_EQ(refused(BodyKind::kNone, json_body(1 << 20)), Code::k_api_body_too_large);
}

TEST(ParseJsonBody, GivesTheOffsetOfTheFault) {
  EXPECT_TRUE(api::parse_json_body(R"({"a":1})"));
  auto bad = api::parse_json_body(R"({"a":})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.problem().code, Code::k_api_invalid_json);
  EXPECT_EQ(bad.problem().status(), 400);
  EXPECT_NE(bad.problem().detail.find("byte 6"), std::string::npos) << bad.problem().detail;
  EXPECT_FALSE(api::parse_json_body("\"\xff\""));  // invalid UTF-8
}

TEST(PrecheckBody, JsonOrMultipartRoutesGoByTheContentType) {
  EXPECT_FALSE(api::precheck_body(BodyKind::kJsonOrMultipart, json_body(10), {}));
  api::BodyHeaders form = json_body(10);
  form.content_type = "multipart/form-data; boundary=x";
  EXPECT_FALSE(api::precheck_body(BodyKind::kJsonOrMultipart, form, {}));
  form.content_length.reset();
  form.chunked = true;
  EXPECT_EQ(refused(BodyKind::kJsonOrMultipart, form), Code::k_api_length_required) << "multipart's own rules";
  api::BodyHeaders text = json_body(10);
  text.content_type = "text/plain";
  EXPECT_EQ(refused(BodyKind::kJsonOrMultipart, text), Code::k_api_unsupported_media_type);
  EXPECT_EQ(refused(BodyKind::kJsonOrMultipart, json_body(0)), Code::k_api_invalid_json);
  EXPECT_EQ(refused(BodyKind::kJsonOrMultipart, json_body(2 << 20)), Code::k_api_body_too_large);
}
