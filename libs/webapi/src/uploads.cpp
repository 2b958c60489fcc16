// DESIGN: see uploads.hpp. What counts as a contradiction: the client's Content-Type or
// extension names a kind of document (PDF, TIFF, image, text, office) and the bytes
// are another kind, or a specific type that is not what libmagic found. A generic
// Content-Type (application/octet-stream, what curl sends for any file) and an
// unknown extension claim nothing. Bytes of a type we do not send are
// document.unsupported_type, unless the client called them a type we do send: that
// is the lie (a program named invoice.pdf), file.type_mismatch.
// The PDF page count is read from the page tree's /Count without parsing the file
// (parsing untrusted PDFs is the converter's sandboxed job): found only when the tree
// is plain text, i.e. not inside a compressed object stream; otherwise null.
#include "uploads.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "faxbridge/api/body.hpp"

namespace faxbridge::webapi {

using document::FileType;

struct UploadSink::Hash {
  crypto_hash_sha256_state state;
};

UploadSink::UploadSink(std::unique_ptr<api::TempFileSink> file) : file_(std::move(file)), hash_(std::make_unique<Hash>()) {
  crypto_hash_sha256_init(&hash_->state);
}

UploadSink::~UploadSink() = default;

Result<std::unique_ptr<UploadSink>> UploadSink::create(const std::string& directory) {
  auto file = api::TempFileSink::create(directory);
  if (!file) return file.error();
  return std::unique_ptr<UploadSink>(new UploadSink(std::move(*file)));
}

Result<void> UploadSink::write(const char* data, std::size_t size) {
  if (head_.size() < kHeadBytes) head_.append(data, std::min(size, kHeadBytes - head_.size()));
  crypto_hash_sha256_update(&hash_->state, reinterpret_cast<const unsigned char*>(data), size);
  size_ += size;
  return file_->write(data, size);
}

Result<void> UploadSink::finish() {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&hash_->state, digest);
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  sha256_hex_ = hex;
  return file_->finish();
}

Result<std::string> UploadSink::read_all() const {
  std::ifstream in(file_->path(), std::ios::binary);
  std::string bytes(static_cast<std::size_t>(size_), '\0');
  if (!in || !in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
    return Error(Code::k_io_failed, "Could not read the stored upload back.").with("path", file_->path());
  }
  return bytes;
}

std::string upload_directory(const std::string& configured) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  auto dir = std::filesystem::temp_directory_path(ec);
  return ec ? std::string("/tmp") : dir.string();
}

api::SinkFactory upload_sinks(const std::string& directory) {
  return [directory](const api::PartInfo& info) -> Result<std::unique_ptr<api::FileSink>> {
    if (info.name != "file") {
      return Error(Code::k_api_multipart_invalid,
                   "Files are sent in parts named \"file\"; this upload has one named \"" + info.name + "\".");
    }
    auto sink = UploadSink::create(directory);
    if (!sink) return sink.error();
    return std::unique_ptr<api::FileSink>(std::move(*sink));
  };
}

namespace {

enum class Claim { kNone, kPdf, kTiff, kImage, kText, kOffice, kOther };

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

Claim claim_of_media_type(std::string_view declared) {
  const std::string t = api::media_type(declared);
  if (t.empty() || t == "application/octet-stream" || t == "binary/octet-stream" ||
      t == "application/x-download" || t == "application/force-download" || t == "application/unknown") {
    return Claim::kNone;
  }
  if (t == "application/pdf" || t == "application/x-pdf") return Claim::kPdf;
  if (t == "image/tiff" || t == "image/tif") return Claim::kTiff;
  if (t == "application/msword" || t == "application/rtf" || t == "text/rtf" || starts_with(t, "application/vnd.ms-") ||
      starts_with(t, "application/vnd.openxmlformats-officedocument.") ||
      starts_with(t, "application/vnd.oasis.opendocument.")) {
    return Claim::kOffice;
  }
  if (starts_with(t, "image/")) return Claim::kImage;
  if (t == "text/plain" || t == "text/csv" || t == "text/markdown" || t == "text/x-log") return Claim::kText;
  return Claim::kOther;
}

Claim claim_of_extension(std::string_view filename) {
  const auto dot = filename.rfind('.');
  if (dot == std::string_view::npos) return Claim::kNone;
  const std::string ext = lower(filename.substr(dot + 1));
  if (ext == "pdf") return Claim::kPdf;
  if (ext == "tif" || ext == "tiff") return Claim::kTiff;
  for (const char* e : {"png", "jpg", "jpeg", "gif", "bmp", "webp", "pbm", "pgm", "ppm"}) {
    if (ext == e) return Claim::kImage;
  }
  for (const char* e : {"txt", "text", "csv", "log", "md"}) {
    if (ext == e) return Claim::kText;
  }
  for (const char* e : {"doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf"}) {
    if (ext == e) return Claim::kOffice;
  }
  return Claim::kNone;
}

Claim claim_of_detected(FileType t) {
  switch (t) {
    case FileType::kPdf: return Claim::kPdf;
    case FileType::kTiff: return Claim::kTiff;
    case FileType::kImage: return Claim::kImage;
    case FileType::kText: return Claim::kText;
    case FileType::kOffice: return Claim::kOffice;
    default: return Claim::kOther;
  }
}

const char* claim_name(Claim c) {
  switch (c) {
    case Claim::kPdf: return "a PDF";
    case Claim::kTiff: return "a TIFF";
    case Claim::kImage: return "an image";
    case Claim::kText: return "plain text";
    case Claim::kOffice: return "an office document";
    default: return "another type";
  }
}

}  // namespace

TypeVerdict judge_type(const document::Detected& d, std::string_view declared, std::string_view filename) {
  TypeVerdict v;
  if (d.type == FileType::kEmpty) {
    v.kind = TypeVerdict::Kind::kEmpty;
    v.detail = "The file is empty; send a document with at least one page.";
    return v;
  }
  const Claim by_type = claim_of_media_type(declared);
  const Claim by_name = claim_of_extension(filename);
  const Claim is = d.type == FileType::kUnknown ? Claim::kOther : claim_of_detected(d.type);
  const std::string declared_type = api::media_type(declared);
  // A specific type we do not know the family of must be exactly what the bytes are.
  const bool type_contradicts =
      by_type != Claim::kNone && (by_type == Claim::kOther ? declared_type != d.media_type : by_type != is);
  const bool name_contradicts = by_name != Claim::kNone && by_name != is;
  if (type_contradicts || name_contradicts) {
    // Unsupported bytes declared as something else unsupported is no lie about a
    // document we take: say what is wrong with the bytes instead.
    if (is == Claim::kOther && (by_type == Claim::kOther || by_type == Claim::kNone) && !name_contradicts) {
      v.kind = TypeVerdict::Kind::kUnsupported;
    } else {
      v.kind = TypeVerdict::Kind::kMismatch;
      v.detail = "The file's bytes are " + d.media_type + ", but " +
                 (type_contradicts ? "its Content-Type says " + declared_type
                                   : std::string("its name says ") + claim_name(by_name)) +
                 "; send the file with its real type and name.";
      return v;
    }
  }
  if (is == Claim::kOther) {
    v.kind = TypeVerdict::Kind::kUnsupported;
    v.detail = "Files of type " + d.media_type +
               " cannot be faxed; send a PDF, TIFF, image (PNG, JPEG, GIF, BMP, WebP), plain text or office document.";
  }
  return v;
}

std::optional<int> pdf_page_count(std::string_view bytes) {
  if (bytes.substr(0, 5) != "%PDF-") return std::nullopt;
  // Inside a compressed object stream the page tree is not readable as text.
  if (bytes.find("/ObjStm") != std::string_view::npos) return std::nullopt;
  std::optional<int> best;
  for (auto at = bytes.find("/Count"); at != std::string_view::npos; at = bytes.find("/Count", at + 6)) {
    // The dictionary around it must be a page tree node (/Type /Pages), not an outline.
    const auto open = bytes.rfind("<<", at);
    const auto close = bytes.find(">>", at);
    if (open == std::string_view::npos || close == std::string_view::npos || at - open > 4096) continue;
    const auto dict = bytes.substr(open, close - open);
    const auto type = dict.find("/Type");
    if (type == std::string_view::npos) continue;
    auto rest = dict.substr(type + 5);
    while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
    if (rest.substr(0, 6) != "/Pages") continue;
    auto p = at + 6;
    while (p < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[p]))) ++p;
    long n = 0;
    std::size_t digits = 0;
    while (p < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[p])) && digits < 7) {
      n = n * 10 + (bytes[p] - '0');
      ++p;
      ++digits;
    }
    if (digits == 0) continue;
    // The root's /Count is the whole document's; inner nodes count less.
    if (!best || n > *best) best = static_cast<int>(n);
  }
  return best;
}

std::string clean_filename(std::string_view name) {
  // Only the last path component (C:\x\a.pdf, ../../etc/passwd): a name, never a path.
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  std::string out;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) continue;
    out += static_cast<char>(c);
  }
  if (out == "." || out == "..") out.clear();
  // At most 255 bytes, cut at a UTF-8 character boundary.
  if (out.size() > 255) {
    std::size_t cut = 255;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

api::ProblemOr<InspectedUpload> inspect_upload(const api::FilePart& part, std::string_view field) {
  const auto* sink = dynamic_cast<const UploadSink*>(part.sink.get());
  if (sink == nullptr) return api::Problem(Code::k_api_internal, "The upload was not stored.");
  auto detected = document::detect(sink->head(), part.info.filename);
  if (!detected) return api::Problem(detected.error());
  const auto verdict = judge_type(*detected, part.info.content_type, part.info.filename);
  const std::string name = part.info.filename.empty() ? std::string("the file") : "\"" + clean_filename(part.info.filename) + "\"";
  auto refuse = [&](Code code, const std::string& detail) {
    api::Problem p(code, detail);
    p.errors.push_back({std::string(field), code, detail});
    return p;
  };
  switch (verdict.kind) {
    case TypeVerdict::Kind::kEmpty: return refuse(Code::k_document_empty, "The file " + name + " is empty; send a document with at least one page.");
    case TypeVerdict::Kind::kUnsupported: return refuse(Code::k_document_unsupported_type, "The file " + name + ": " + verdict.detail);
    case TypeVerdict::Kind::kMismatch: return refuse(Code::k_file_type_mismatch, "The file " + name + ": " + verdict.detail);
    case TypeVerdict::Kind::kOk: break;
  }
  auto bytes = sink->read_all();
  if (!bytes) return api::Problem(bytes.error());
  InspectedUpload u;
  u.filename = clean_filename(part.info.filename);
  u.media_type = detected->media_type;
  if (detected->type == FileType::kPdf) u.pages = pdf_page_count(*bytes);
  u.sha256_hex = sink->sha256_hex();
  u.bytes = std::move(*bytes);
  return u;
}

}  // namespace faxbridge::webapi
