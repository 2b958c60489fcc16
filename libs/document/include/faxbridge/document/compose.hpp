#pragma once
// Cover pages from SVG templates and the header band stamped on transmitted pages.
#include <map>
#include <string>
#include <string_view>

#include "faxbridge/core/result.hpp"
#include "faxbridge/document/page.hpp"

namespace faxbridge::document {

// Template fields. An SVG names them as {{sender_name}}, {{company_name}}, ... in its
// text; each value is XML-escaped before substitution; unknown fields become empty.
// `note` may hold several lines: the template gives it one <text> per line as
// {{note_1}} .. {{note_12}} (the note is wrapped at kNoteColumns).
struct CoverFields {
  std::map<std::string, std::string> values;
};
inline constexpr int kNoteColumns = 70;
inline constexpr int kNoteLines = 12;

// The SVG after substitution (for tests and previews).
std::string fill_cover_template(const std::string& svg, const CoverFields& fields);
// Refuses a template that is more than a drawing (cover_check.cpp): scripts, event
// handlers, foreignObject, animation, a DOCTYPE, processing instructions, and any
// href/src/url() that is not "#id" or an embedded PNG/JPEG/GIF. document.cover_invalid
// naming the first offence. It does not parse the SVG fully: render_cover does that.
Result<void> check_cover_template(std::string_view svg);
// Renders the filled template onto one fax page (thresholded: it is text and lines).
Result<Bitmap> render_cover(const std::string& svg, const CoverFields& fields, Resolution resolution);

struct HeaderInfo {
  std::string reference;  // YYYY.NNNNNNNN
  std::string date_time;  // as it should be printed
  std::string tsid;       // company TSID, else the calling number
  std::string recipient;  // name or number
};
// Rows of the band: a 9-point line plus a margin, so it hides nothing of the page.
// The templates Faxbridge ships (libs/document/covers): default, urgent, confidential.
// The converter uses the cover_pages table (seeded from these by a migration); the
// command line tool uses these when it has no database.
const std::map<std::string, std::string>& builtin_covers();

int header_band_rows(Resolution r);
// Returns the page shifted down under a band that reads
// "<date time>  From: <tsid>  To: <recipient>  Ref: <reference>  Page n/m".
// The page grows by the band; content below A4 length is not cut.
Result<Bitmap> add_header(const Bitmap& page, const HeaderInfo& info, int page_no, int page_count,
                          Resolution resolution);

}  // namespace faxbridge::document
