#pragma once
// The few things libs/ingest reads out of vmime's parsed message, as plain UTF-8
// strings: header values, a part's media type, disposition, file name, decoded bytes and
// its text converted from its charset. A charset vmime's iconv does not know, or bytes
// that are not what the charset says, never throw: text that is valid UTF-8 is kept as
// it is, anything else is read as Windows-1252, which every byte decodes in.
#include <string>
#include <vmime/contentTypeField.hpp>
#include <vmime/contentDispositionField.hpp>
#include <vmime/vmime.hpp>

namespace faxbridge::ingest::detail {

std::string lower(std::string s);
std::string trim(std::string s);
bool valid_utf8(const std::string& s);
std::string to_utf8(const std::string& bytes, const std::string& charset);

// A header field's value as written (unfolded), or "" when absent.
std::string raw_field(const vmime::header& h, const std::string& name);
// An unstructured field (Subject) decoded from RFC 2047 words to UTF-8.
std::string text_field(const vmime::header& h, const std::string& name);

// "type/subtype" in lower case; text/plain when the part has no Content-Type (RFC 2045 5.2).
std::string media_type(const vmime::header& h);
std::string content_charset(const vmime::header& h);  // "" when not given
// "attachment", "inline" or "" (none).
std::string disposition(const vmime::header& h);
// Content-Disposition's filename, else Content-Type's name (RFC 2231/2047 decoded).
std::string filename(const vmime::header& h);
std::string content_id(const vmime::header& h);  // without angle brackets
// The body's bytes decoded from its transfer encoding (garbage base64 decodes to what
// it decodes to: the converter refuses what it cannot read).
std::string decoded_bytes(const vmime::body& b);
std::size_t encoded_length(const vmime::body& b);

}  // namespace faxbridge::ingest::detail
