#pragma once
// DESIGN: the web UI's files (web/, built by Vite into <build>/web/dist) served by
// web-api beside the API, from memory: the folder is read once at start, so a request
// never touches the disk, a path can never leave the folder, and an image's files stay
// consistent even if the folder is replaced under a running server.
//   /assets/<hashed name>   the bundle's files; their names change with their content,
//                           so they are cached for a year as immutable;
//   /index.html, /          the page that names them: no-cache (revalidated each load),
//                           so a new release is picked up at the next load;
//   any other path          the page too (the UI's own routes: /inbox, /send, ...), except
//                           a missing /assets/ file or a path that looks like a file,
//                           which is a 404 (a stale chunk must fail loudly, not parse HTML).
// Every answer carries a strict Content-Security-Policy: scripts, styles, images and
// connections from this server only, no inline script, no frames. Text files are kept
// gzip-compressed as well, served so to clients that accept gzip.
#include <map>
#include <string>

#include "faxbridge/api/request.hpp"
#include "faxbridge/api/response.hpp"

namespace faxbridge::webapi {

// The policy of every UI answer (also what the browser test checks the pages obey).
inline constexpr const char* kWebUiPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; font-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

class WebUi final {
 public:
  // Reads every file under `directory`; a folder without index.html gives a WebUi that
  // answers 404 explaining where the UI was looked for (logged once, as a warning).
  static WebUi load(const std::string& directory);

  bool installed() const { return !files_.empty(); }
  std::size_t file_count() const { return files_.size(); }
  api::Reply serve(const api::Request& request) const;

 private:
  struct File {
    std::string body;
    std::string gzip;  // empty when not worth it (images, fonts, tiny files)
    std::string content_type;
    bool immutable = false;
  };
  api::Reply answer(const File& file, const api::Request& request) const;

  std::string directory_;
  std::map<std::string, File> files_;  // by URL path ("/assets/index-1a2b.js")
};

}  // namespace faxbridge::webapi
