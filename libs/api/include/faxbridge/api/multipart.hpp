#pragma once
// DESIGN: multipart/form-data uploads without holding files in memory. cpp-httplib
// 0.11.4 (Debian 12) streams multipart through its ContentReader: it finds the
// boundaries with a buffer the size of the boundary and hands each part's headers,
// then its bytes in pieces, to callbacks; it reports a body without its closing
// boundary as invalid. That is the parser we use. What it lacks is what this file adds:
// limits (parts, bytes per file, bytes per field), somewhere to put a file other than
// RAM (a FileSink the handler chooses: a temp file, a database large object), and
// problems that say which limit was hit. MultipartCollector takes the parser's events,
// so it is unit-tested without a socket; the server wires it to the ContentReader.
// The total size is checked from Content-Length before reading: a multipart body
// without one (chunked) is refused with 411, because the parser consumes preamble and
// part headers without showing them to us, so their bytes could not be counted.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "faxbridge/api/problem.hpp"
#include "faxbridge/core/result.hpp"

namespace faxbridge::api {

struct MultipartLimits {
  std::size_t max_parts = 64;                   // files and fields together
  std::uint64_t max_file_bytes = 50ull << 20;   // each file part
  std::size_t max_field_bytes = 64 << 10;       // each non-file part (held in memory)
  std::uint64_t max_total_bytes = 100ull << 20;  // the whole body, from Content-Length
};

struct PartInfo {
  std::string name;          // form field name
  std::string filename;      // non-empty for a file part
  std::string content_type;  // as the client declared it: not trusted
};

// Where a file part's bytes go. write() may fail (disk full): the upload stops with
// that error. finish() is called once the part's last byte has arrived.
class FileSink {
 public:
  virtual ~FileSink() = default;
  virtual Result<void> write(const char* data, std::size_t size) = 0;
  virtual Result<void> finish() = 0;
};

// Makes the sink for a file part; an Error refuses the part (a type the endpoint does
// not take: 415 through its code, or any other code).
using SinkFactory = std::function<Result<std::unique_ptr<FileSink>>(const PartInfo&)>;

struct FilePart {
  PartInfo info;
  std::uint64_t size = 0;
  std::unique_ptr<FileSink> sink;
};

struct MultipartForm {
  std::vector<std::pair<std::string, std::string>> fields;  // in arrival order
  std::vector<FilePart> files;
  const std::string* field(std::string_view name) const;    // the first with that name
};

class MultipartCollector final {
 public:
  MultipartCollector(MultipartLimits limits, SinkFactory sinks);

  // The parser's events; false stops reading (problem() says why).
  bool begin_part(PartInfo info);
  bool part_data(const char* data, std::size_t size);
  // After the parser stopped: `parser_complete` is whether it saw the closing boundary.
  ProblemOr<MultipartForm> finish(bool parser_complete);

  const std::optional<Problem>& problem() const { return problem_; }

 private:
  bool end_current_part();
  bool fail(Problem problem);

  MultipartLimits limits_;
  SinkFactory sinks_;
  MultipartForm form_;
  std::optional<Problem> problem_;
  bool in_part_ = false;
  bool current_is_file_ = false;
  std::string current_name_;
  std::string current_value_;  // a field part's bytes
  std::size_t parts_ = 0;
};

// A FileSink into a new file in `directory` (mkstemp), removed when the sink is
// destroyed unless keep() was called: an upload that fails leaves nothing behind.
class TempFileSink final : public FileSink {
 public:
  static Result<std::unique_ptr<TempFileSink>> create(const std::string& directory);
  ~TempFileSink() override;
  Result<void> write(const char* data, std::size_t size) override;
  Result<void> finish() override;
  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  TempFileSink(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
  bool keep_ = false;
};

}  // namespace faxbridge::api
