#pragma once
// Received faxes and sent pages for people: PDF with the G4 data embedded as is
// (CCITTFaxDecode, no re-encoding) and PNG previews for the web UI.
#include <string>
#include <string_view>

#include "faxbridge/core/result.hpp"
#include "faxbridge/document/page.hpp"

namespace faxbridge::document {

// Each TIFF page becomes a PDF page of its physical size (from its resolution).
// G4 pages in one strip are copied as they are; other compressions (G3, several
// strips) are re-encoded to G4 once.
Result<std::string> fax_to_pdf(std::string_view tiff_bytes);

// Page `index` (0-based) of a fax TIFF as a grey PNG `max_width` pixels wide at most,
// with square pixels (standard resolution rows are doubled).
Result<std::string> fax_page_png(std::string_view tiff_bytes, int index, int max_width);

// One page (a rendered cover page) as a grey PNG, the same way.
Result<std::string> page_png(const Bitmap& page, Resolution resolution, int max_width);

}  // namespace faxbridge::document
