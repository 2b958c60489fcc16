// DESIGN: the API's description for machines and people, without sign-in (the contract
// is no secret, and a client needs it before it has a token):
//   GET /api/v1/openapi.yaml       the document compiled into the binary (CMake embeds
//                                  docs/api/openapi.yaml), so what is served is what the
//                                  tests validated this build against;
//   GET /api/docs                  a page that renders it with Redoc;
//   GET /api/docs/redoc.standalone.js  Redoc's script, read once at start from the npm
//                                  package (no CDN: the server may have no internet,
//                                  and a page must not load code from elsewhere).
// The page's Content-Security-Policy allows only this server's scripts; Redoc needs
// inline styles and a worker made from a blob.
#include <fstream>
#include <sstream>

#include "context.hpp"
#include "faxbridge/core/log.hpp"

namespace faxbridge::webapi {

extern const std::string_view kOpenApiDocument;  // generated: openapi_document.cpp

namespace {

constexpr const char* kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Faxbridge API reference</title>
</head>
<body>
<noscript>This page needs JavaScript. The API description itself is at
<a href="/api/v1/openapi.yaml">/api/v1/openapi.yaml</a>.</noscript>
<redoc spec-url="/api/v1/openapi.yaml"></redoc>
<script src="/api/docs/redoc.standalone.js"></script>
</body>
</html>
)html";

constexpr const char* kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'";

}  // namespace

std::string load_redoc_script(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || text.str().empty()) {
    log::warn("webapi.redoc_missing",
              {{"path", path}, {"detail", "the /api/docs page will not render; run npm ci or set FAXBRIDGE_API_REDOC_JS"}});
    return "";
  }
  return text.str();
}

std::vector<api::Route> docs_routes(const std::string& redoc_script) {
  return {
      {"GET", "/api/v1/openapi.yaml", api::kPublic, api::BodyKind::kNone,
       [](api::Request&) -> api::Reply {
         return api::Response::text(std::string(kOpenApiDocument), "application/yaml; charset=utf-8")
             .with_header("Cache-Control", "no-cache");
       }},
      {"GET", "/api/docs", api::kPublic, api::BodyKind::kNone,
       [](api::Request&) -> api::Reply {
         return api::Response::text(kPage, "text/html; charset=utf-8")
             .with_header("Content-Security-Policy", kPagePolicy)
             .with_header("Cache-Control", "no-cache");
       }},
      {"GET", "/api/docs/redoc.standalone.js", api::kPublic, api::BodyKind::kNone,
       [&redoc_script](api::Request&) -> api::Reply {
         if (redoc_script.empty()) {
           return api::Problem(Code::k_api_not_found,
                               "The API reference page's script is not installed on this server; the "
                               "description is at /api/v1/openapi.yaml.");
         }
         return api::Response::text(redoc_script, "text/javascript; charset=utf-8")
             .with_header("Cache-Control", "public, max-age=86400");
       }},
  };
}

}  // namespace faxbridge::webapi
