#pragma once
// Outgoing mail as plain data, and its RFC 5322 / MIME bytes. The bytes are built by vmime
// (headers encoded per RFC 2047, file names per RFC 2231, text bodies quoted-printable),
// never by hand; files go base64 (libsodium's encoder, in lines of 76), which vmime
// writes as given. One shape serves every mail the notifier sends:
//
//   multipart/mixed                      (only when there are attachments)
//     multipart/related                  (only when the HTML shows inline images)
//       multipart/alternative            (only when there is an HTML part)
//         text/plain; charset=utf-8
//         text/html; charset=utf-8
//       image/png; Content-ID: <...>     (inline_images, referenced as cid:<content_id>)
//     application/pdf | image/tiff      (attachments)
//
// The Message-ID is the caller's: a notification keeps one id for every try, so a resend
// after a crash is recognisable and threads with the first copy in the reader's client.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/result.hpp"

namespace faxbridge::mail {

struct Address {
  std::string email;  // addr-spec, checked by parse_address
  std::string name;   // display name, any UTF-8; may be empty
};

// A strict addr-spec check (dot-atom local part, host name or [IPv4] domain, at most 254
// characters): what a mail server will take without surprises. Quoted local parts and
// comments are refused on purpose. Error: mail.invalid_address, naming the problem.
Result<Address> parse_address(std::string_view email, std::string name = {});

struct Part {
  std::string filename;    // attachments: the name the reader sees
  std::string media_type;  // "application/pdf", "image/tiff", "image/png"
  std::string bytes;
  std::string content_id;  // inline images: the id the HTML references as cid:<content_id>
  // Instead of bytes, when not empty: the file already in base64 as RFC 2045 6.8 writes it
  // (lines of at most 76 characters, LF or CRLF ends), e.g. as PostgreSQL's
  // encode(..., 'base64') returns it, so a file read from the database for a mail is
  // never unescaped and encoded again. compose() checks it (mail.invalid_message).
  std::string base64{};
};

// `bytes` in base64 as a MIME body carries it: lines of 76 characters, CRLF ends.
std::string base64_lines(std::string_view bytes);

struct OutgoingMessage {
  Address from;
  std::vector<Address> to;
  std::string subject;
  std::string text;  // required: every reader can show it
  std::string html;  // optional alternative
  std::vector<Part> inline_images;
  std::vector<Part> attachments;
  std::string message_id;   // "local@domain", without angle brackets; required
  std::string in_reply_to;  // optional, same form: a reply to the mail a fax came from
  // RFC 3834: "auto-generated" for notices, "auto-replied" for replies; empty: no field.
  // Either keeps mail-ingest (ours or anybody's) from faxing it back.
  std::string auto_submitted = "auto-generated";
  std::chrono::system_clock::time_point date = std::chrono::system_clock::now();
};

// The message's bytes with CRLF line ends. Errors: mail.invalid_address (a From or To
// that parse_address refuses), mail.invalid_message (no recipient, no text, no
// Message-ID, a header value with a line break, an inline image without an id).
Result<std::string> compose(const OutgoingMessage& message);

}  // namespace faxbridge::mail
