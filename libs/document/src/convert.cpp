// The dispatcher: detect the type from the content, then the decoder for it.
#include "faxbridge/document/convert.hpp"

#include <new>

#include "faxbridge/document/office.hpp"

namespace faxbridge::document {

Result<FaxDocument> convert(std::string_view bytes, std::string_view filename, const ConvertOptions& options) {
  if (bytes.size() > options.limits.max_input_bytes)
    return Error(Code::k_document_too_large, "The file is larger than " +
                                                 std::to_string(options.limits.max_input_bytes >> 20) +
                                                 " MB; please send a smaller file.");
  auto detected = detect(bytes, filename);
  if (!detected) return detected.error();
  try {
    switch (detected->type) {
      case FileType::kEmpty:
        return Error(Code::k_document_empty, "The attachment is an empty file; please attach the document again.");
      case FileType::kPdf:
        return convert_pdf(bytes, options);
      case FileType::kImage:
      case FileType::kTiff:
        return convert_image(bytes, options);
      case FileType::kText:
        return convert_text(bytes, options);
      case FileType::kOffice: {
        if (auto c = check_office_container(bytes); !c) return c.error();
        if (!options.office_to_pdf)
          return Error(Code::k_document_unsupported_type,
                       "Office documents cannot be converted on this server; please send the document as PDF.")
              .with("media_type", detected->media_type);
        auto pdf = options.office_to_pdf(bytes, filename);
        if (!pdf) return pdf.error();
        return convert_pdf(*pdf, options);
      }
      case FileType::kUnknown:
        break;
    }
  } catch (const std::bad_alloc&) {
    return Error(Code::k_document_too_large, "The document needs more memory than a conversion may use.");
  }
  return Error(Code::k_document_unsupported_type,
               "This type of file cannot be faxed; please send a PDF, an image, a text or an office document.")
      .with("media_type", detected->media_type);
}

}  // namespace faxbridge::document
