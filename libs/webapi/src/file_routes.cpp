// DESIGN: POST /api/v1/files: a document uploaded once, then sent in any number of
// faxes by its id (POST /faxes with "files"). The body is multipart/form-data with one
// part named `file` and nothing else. The part streams to a temp file (uploads.hpp),
// within the server's multipart limits (a 200 MB body is refused from its
// Content-Length before a byte is read); the bytes are then checked against what the
// client declared and stored as an `upload` document the caller owns. Only its owner
// can send it: another user's file id is file.not_found, like a missing one.
#include "context.hpp"
#include "fax_json.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/db/faxes.hpp"
#include "faxbridge/db/records.hpp"
#include "uploads.hpp"

namespace faxbridge::webapi {
namespace {

api::Reply upload(Context& cx, api::Request& req) {
  auto form = req.multipart(upload_sinks(upload_directory(cx.upload_directory)));
  if (!form) return std::move(form).problem();
  if (!form->fields.empty() || form->files.size() != 1) {
    api::Problem p(Code::k_api_validation_failed,
                   "Send exactly one part, the file, named \"file\" (curl -F file=@letter.pdf).");
    for (const auto& [name, value] : form->fields) {
      p.errors.push_back({"/" + api::json_pointer_token(name), Code::k_api_field_unknown,
                          "This endpoint has no field \"" + name + "\"."});
    }
    if (form->files.empty()) p.errors.push_back({"/file", Code::k_api_field_required, "The file is missing."});
    if (form->files.size() > 1) {
      p.errors.push_back({"/file", Code::k_api_field_too_long, "Upload one file per request."});
    }
    return p;
  }
  auto inspected = inspect_upload(form->files[0], "/file");
  if (!inspected) return std::move(inspected).problem();
  const api::Principal& caller = *req.principal();
  auto stored = cx.pool.transact([&](db::Tx& tx) -> Result<db::StoredFile> {
    auto f = db::files::create(tx, caller.user_id, inspected->filename, inspected->media_type, inspected->pages,
                               inspected->bytes);
    if (!f) return f;
    auto a = db::audit::record(tx, {caller.user_id, caller.username, "file.create", "document", std::to_string(f->id),
                                    nlohmann::json({{"filename", f->filename},
                                                    {"media_type", f->media_type},
                                                    {"size_bytes", f->size_bytes}})
                                        .dump(),
                                    req.remote_address()});
    if (!a) return a.error();
    return f;
  });
  if (!stored) return stored.error();
  log::info("webapi.file_stored", {{"request_id", req.request_id()}, {"file", stored->id},
                                   {"bytes", stored->size_bytes}, {"media_type", stored->media_type}});
  return api::Response::json(file_json(*stored), 201);
}

}  // namespace

std::vector<api::Route> file_routes(Context& cx) {
  return {{"POST", "/api/v1/files", api::kFaxUser, api::BodyKind::kMultipart,
           [&cx](api::Request& r) { return upload(cx, r); }}};
}

}  // namespace faxbridge::webapi
