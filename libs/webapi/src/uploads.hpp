#pragma once
// Internal to libs/webapi: a file part of an upload (POST /files, multipart POST /faxes)
// from the wire to a document row. UploadSink streams the part into a temp file
// (api::TempFileSink: removed unless kept, fsynced), hashing it on the way and keeping
// its first kHeadBytes for type detection, so nothing of a large upload is in memory
// while it arrives; only a file within the limits is read back, once, for the insert.
// inspect_upload decides what the file is (document::detect on its head) and refuses a
// file whose bytes contradict what the client declared (Content-Type, extension).
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "faxbridge/api/multipart.hpp"
#include "faxbridge/api/problem.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/document/convert.hpp"

namespace faxbridge::webapi {

// libmagic looks at most this far into a file for the types we take.
inline constexpr std::size_t kHeadBytes = 1 << 20;

class UploadSink final : public api::FileSink {
 public:
  static Result<std::unique_ptr<UploadSink>> create(const std::string& directory);
  ~UploadSink() override;
  Result<void> write(const char* data, std::size_t size) override;
  Result<void> finish() override;

  const std::string& head() const { return head_; }
  const std::string& sha256_hex() const { return sha256_hex_; }  // after finish()
  std::uint64_t size() const { return size_; }
  Result<std::string> read_all() const;  // the whole file, after finish()

 private:
  explicit UploadSink(std::unique_ptr<api::TempFileSink> file);
  std::unique_ptr<api::TempFileSink> file_;
  std::string head_;
  std::uint64_t size_ = 0;
  std::string sha256_hex_;
  struct Hash;
  std::unique_ptr<Hash> hash_;
};

// The folder uploads go to: `configured`, else the system's temp folder.
std::string upload_directory(const std::string& configured);

// A sink factory for the part name `file`: every other file part is refused.
api::SinkFactory upload_sinks(const std::string& directory);

struct InspectedUpload {
  std::string filename;    // the client's name without any path, control characters removed
  std::string media_type;  // what the bytes are (libmagic)
  std::optional<int> pages;  // a PDF's page count when its page tree is readable as text
  std::string bytes;
  std::string sha256_hex;
};

// The type check and the bytes: document.empty, document.unsupported_type (a type we
// do not send) or file.type_mismatch (the bytes are not what the Content-Type or the
// extension says), each naming the part by `field` ("/file" or "/file/2").
api::ProblemOr<InspectedUpload> inspect_upload(const api::FilePart& part, std::string_view field);

// Pure pieces, unit-tested.
struct TypeVerdict {
  enum class Kind { kOk, kEmpty, kUnsupported, kMismatch };
  Kind kind = Kind::kOk;
  std::string detail;
};
TypeVerdict judge_type(const document::Detected& detected, std::string_view declared_content_type,
                       std::string_view filename);
std::optional<int> pdf_page_count(std::string_view bytes);
std::string clean_filename(std::string_view name);

}  // namespace faxbridge::webapi
