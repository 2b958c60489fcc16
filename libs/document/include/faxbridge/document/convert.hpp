#pragma once
// Any supported file -> fax pages, in this process. Untrusted input should go
// through the sandbox (sandbox.hpp / pipeline.hpp), which calls these in a child.
#include <functional>
#include <string>
#include <string_view>

#include "faxbridge/core/result.hpp"
#include "faxbridge/document/page.hpp"

namespace faxbridge::document {

struct Detected {
  FileType type = FileType::kUnknown;
  std::string media_type;  // libmagic's MIME type
};

// Type from the content; the file name is a hint used only for plain text vs. data
// and for office containers libmagic reports as a plain zip.
Result<Detected> detect(std::string_view bytes, std::string_view filename_hint);

// Turns a PDF (already produced by LibreOffice, or uploaded) into PDF bytes for an
// office document; set by the pipeline (office.hpp) so convert() stays free of
// process management.
using OfficeToPdf = std::function<Result<std::string>(std::string_view bytes, std::string_view filename)>;

struct ConvertOptions {
  Resolution resolution = Resolution::kFine;
  Limits limits;
  OfficeToPdf office_to_pdf;  // empty: office documents are refused (document.unsupported_type)
  // When set, a PDF's pages are handed here one by one as they are made, instead of
  // being kept in the result (whose pages then stay empty): a long document never
  // holds all its bitmaps, and one page's memory serves the next.
  std::function<void(Bitmap&&)> page_sink;
};

// The whole conversion: detect, decode, fit to 1728 px (landscape rotated), binarise
// (text thresholded, photos dithered, scan backgrounds removed).
Result<FaxDocument> convert(std::string_view bytes, std::string_view filename, const ConvertOptions& options);

// The single decoders, for tests and the benchmark.
Result<FaxDocument> convert_pdf(std::string_view bytes, const ConvertOptions& options);
Result<FaxDocument> convert_image(std::string_view bytes, const ConvertOptions& options);
Result<FaxDocument> convert_text(std::string_view bytes, const ConvertOptions& options);

// Plain text in any common encoding -> UTF-8 (uchardet + iconv). Exposed for tests.
Result<std::string> text_to_utf8(std::string_view bytes);

}  // namespace faxbridge::document
