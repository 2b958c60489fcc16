#pragma once
// The words of a mail that go onto a cover page: HTML turned into text with an HTML
// parser (gumbo, the WHATWG algorithm browsers use; never regexes), and what the sender
// did not write for this fax left out: quoted replies and the signature.
#include <string>
#include <string_view>
#include <vector>

namespace faxbridge::ingest {

// The text a reader sees: paragraphs, line breaks, list items as "- ", entities decoded;
// no head, script or style; quoted replies (<blockquote>, Gmail's and Thunderbird's quote
// and signature blocks) left out.
std::string html_to_text(std::string_view html);

// The Content-IDs the HTML shows as images (<img src="cid:...">): those parts are the
// HTML's pictures (logos, inline images), not attachments.
std::vector<std::string> html_cid_references(std::string_view html);

// Cuts the signature (from a line "-- ", RFC 3676 section 4.3, or a bare "--"), a quoted
// original ("-----Original Message-----", Outlook's line of underscores), quoted lines
// ("> ...") and the "On ... wrote:" line that introduces them; trims the rest.
std::string strip_quotes_and_signature(std::string_view text);

}  // namespace faxbridge::ingest
