// DESIGN: see web_ui.hpp. The files are few (a Vite bundle: a page, a few scripts and
// styles) and small (the first load is budgeted under 300 KB gzip by web/'s build), so
// holding them and their gzip copies in memory costs less than a file cache would.
#include "faxbridge/webapi/web_ui.hpp"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "faxbridge/core/log.hpp"

namespace faxbridge::webapi {
namespace {

namespace fs = std::filesystem;

// Below this, gzip's header and the Vary dance cost more than they save.
constexpr std::size_t kGzipMinBytes = 512;
constexpr const char* kImmutable = "public, max-age=31536000, immutable";

struct Type {
  const char* extension;
  const char* content_type;
  bool compress;
};
constexpr Type kTypes[] = {
    {".html", "text/html; charset=utf-8", true},       {".js", "text/javascript; charset=utf-8", true},
    {".css", "text/css; charset=utf-8", true},         {".svg", "image/svg+xml", true},
    {".json", "application/json", true},               {".webmanifest", "application/manifest+json", true},
    {".txt", "text/plain; charset=utf-8", true},       {".map", "application/json", true},
    {".png", "image/png", false},                      {".ico", "image/x-icon", false},
    {".woff2", "font/woff2", false},                   {".woff", "font/woff", false},
};

const Type* type_of(const fs::path& p) {
  const auto ext = p.extension().string();
  for (const auto& t : kTypes) {
    if (ext == t.extension) return &t;
  }
  return nullptr;
}

// gzip (not zlib) framing: windowBits 15 + 16. Empty on failure: served uncompressed.
std::string gzip(const std::string& in) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return "";
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : "";
}

bool accepts_gzip(const api::Request& r) {
  const auto v = r.header("Accept-Encoding");
  return v && v->find("gzip") != std::string::npos;
}

// "/inbox/12" is a UI route; "/favicon.ico" or "/x/app.js" is a file that is not there.
bool looks_like_file(const std::string& path) {
  const auto slash = path.rfind('/');
  return path.find('.', slash == std::string::npos ? 0 : slash) != std::string::npos;
}

api::Response with_security_headers(api::Response r) {
  r.with_header("Content-Security-Policy", kWebUiPolicy)
      .with_header("X-Content-Type-Options", "nosniff")
      .with_header("Referrer-Policy", "same-origin");
  return r;
}

}  // namespace

WebUi WebUi::load(const std::string& directory) {
  WebUi ui;
  ui.directory_ = directory;
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(directory) / "index.html", ec)) {
    log::warn("webapi.web_ui_missing",
              {{"path", directory},
               {"detail", "the web UI will answer 404; build it (the CMake target web_ui) or set FAXBRIDGE_WEB_DIR"}});
    return ui;
  }
  for (auto it = fs::recursive_directory_iterator(directory, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const Type* type = type_of(it->path());
    if (type == nullptr) continue;  // a file of a type the UI does not use is not served
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    File f;
    f.body = text.str();
    f.content_type = type->content_type;
    const auto rel = fs::relative(it->path(), directory).generic_string();
    f.immutable = rel.rfind("assets/", 0) == 0;
    if (type->compress && f.body.size() >= kGzipMinBytes) f.gzip = gzip(f.body);
    ui.files_.emplace("/" + rel, std::move(f));
  }
  log::info("webapi.web_ui_loaded", {{"path", directory}, {"files", static_cast<std::int64_t>(ui.files_.size())}});
  return ui;
}

api::Reply WebUi::answer(const File& f, const api::Request& request) const {
  const bool zipped = !f.gzip.empty() && accepts_gzip(request);
  auto r = with_security_headers(api::Response::text(zipped ? f.gzip : f.body, f.content_type));
  r.with_header("Cache-Control", f.immutable ? kImmutable : "no-cache");
  if (!f.gzip.empty()) r.with_header("Vary", "Accept-Encoding");
  if (zipped) r.with_header("Content-Encoding", "gzip");
  return r;
}

api::Reply WebUi::serve(const api::Request& request) const {
  const auto& path = request.path();
  if (files_.empty()) {
    return api::Problem(Code::k_api_not_found,
                        "The web UI is not installed on this server (looked for " + directory_ +
                            "/index.html; set FAXBRIDGE_WEB_DIR). The API is at /api/v1.");
  }
  if (auto it = files_.find(path); it != files_.end()) return answer(it->second, request);
  if (path == "/assets" || path.rfind("/assets/", 0) == 0 || looks_like_file(path)) {
    return api::Problem(Code::k_api_not_found, "The web UI has no file " + path + ".");
  }
  return answer(files_.at("/index.html"), request);
}

}  // namespace faxbridge::webapi
