// DESIGN: see multipart.hpp. The parser tells us a part has begun but not that it has
// ended; a part ends when the next begins or the body ends, so that is where a field's
// value is stored and a file's sink finished.
#include "faxbridge/api/multipart.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace faxbridge::api {

const std::string* MultipartForm::field(std::string_view name) const {
  for (const auto& [n, v] : fields) {
    if (n == name) return &v;
  }
  return nullptr;
}

MultipartCollector::MultipartCollector(MultipartLimits limits, SinkFactory sinks)
    : limits_(limits), sinks_(std::move(sinks)) {}

bool MultipartCollector::fail(Problem problem) {
  if (!problem_) problem_ = std::move(problem);
  return false;
}

bool MultipartCollector::end_current_part() {
  if (!in_part_) return true;
  in_part_ = false;
  if (current_is_file_) {
    if (auto r = form_.files.back().sink->finish(); !r) return fail(Problem(r.error()));
  } else {
    form_.fields.emplace_back(std::move(current_name_), std::move(current_value_));
  }
  current_name_.clear();
  current_value_.clear();
  return true;
}

bool MultipartCollector::begin_part(PartInfo info) {
  if (problem_) return false;
  if (!end_current_part()) return false;
  if (++parts_ > limits_.max_parts) {
    return fail(Problem(Code::k_api_body_too_large,
                        "The upload has more than " + std::to_string(limits_.max_parts) + " parts, the limit of this endpoint."));
  }
  if (info.name.empty()) {
    return fail(Problem(Code::k_api_multipart_invalid,
                        "Part " + std::to_string(parts_) + " has no name (Content-Disposition: form-data; name=\"...\")."));
  }
  in_part_ = true;
  current_is_file_ = !info.filename.empty();
  if (!current_is_file_) {
    current_name_ = std::move(info.name);
    return true;
  }
  if (!sinks_) {
    return fail(Problem(Code::k_api_multipart_invalid, "This endpoint takes no files; part \"" + info.name + "\" is one."));
  }
  auto sink = sinks_(info);
  if (!sink) return fail(Problem(sink.error()));
  form_.files.push_back(FilePart{std::move(info), 0, std::move(*sink)});
  return true;
}

bool MultipartCollector::part_data(const char* data, std::size_t size) {
  if (problem_) return false;
  if (!in_part_) return true;  // nothing precedes the first part's headers in the parser
  if (!current_is_file_) {
    if (current_value_.size() + size > limits_.max_field_bytes) {
      return fail(Problem(Code::k_api_body_too_large,
                          "The field \"" + current_name_ + "\" is larger than " +
                              std::to_string(limits_.max_field_bytes) + " bytes, the limit of this endpoint."));
    }
    current_value_.append(data, size);
    return true;
  }
  auto& file = form_.files.back();
  if (file.size + size > limits_.max_file_bytes) {
    return fail(Problem(Code::k_api_body_too_large,
                        "The file \"" + file.info.filename + "\" is larger than " +
                            std::to_string(limits_.max_file_bytes) + " bytes, the limit of this endpoint."));
  }
  file.size += size;
  if (auto r = file.sink->write(data, size); !r) return fail(Problem(r.error()));
  return true;
}

ProblemOr<MultipartForm> MultipartCollector::finish(bool parser_complete) {
  if (problem_) return *problem_;
  if (!parser_complete) {
    return Problem(Code::k_api_multipart_invalid,
                   "The multipart body ends before its closing boundary (truncated upload?).");
  }
  if (!end_current_part()) return *problem_;
  return std::move(form_);
}

Result<std::unique_ptr<TempFileSink>> TempFileSink::create(const std::string& directory) {
  std::string path = directory + "/upload-XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) {
    return Error(Code::k_io_failed, "Could not create a file for the upload.")
        .with("directory", directory)
        .with("reason", std::strerror(errno));
  }
  return std::unique_ptr<TempFileSink>(new TempFileSink(fd, std::move(path)));
}

TempFileSink::~TempFileSink() {
  if (fd_ >= 0) ::close(fd_);
  if (!keep_) ::unlink(path_.c_str());
}

Result<void> TempFileSink::write(const char* data, std::size_t size) {
  while (size > 0) {
    const auto n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(Code::k_io_failed, "Could not store the upload.").with("path", path_).with("reason", std::strerror(errno));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return ok();
}

Result<void> TempFileSink::finish() {
  // The bytes must be on disk before anyone records the upload as stored.
  if (::fsync(fd_) != 0) {
    return Error(Code::k_io_failed, "Could not store the upload.").with("path", path_).with("reason", std::strerror(errno));
  }
  return ok();
}

}  // namespace faxbridge::api
