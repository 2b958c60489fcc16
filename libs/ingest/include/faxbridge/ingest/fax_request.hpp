#pragma once
// A mail to fax as the fax jobs it asks for, or the reason it cannot be faxed. Pure: the
// raw message in, a FaxRequest or an Error out; no database, no network. mail-ingest
// checks the sender's rights and writes the jobs (one per recipient, all sharing the
// documents) the way web-api's POST /api/v1/faxes does.
//
// What the message says:
//   To and Cc recipients <number>@<fax domain>  one job each (the number normalised by
//                                               libs/core, the display name the
//                                               recipient's name; duplicates once);
//                                               addresses at other domains are ignored
//   Subject                                     the cover page's subject, less its tags
//   [cover:<name>] / [cover:none] in it         the cover page to use / none
//   the text body (HTML: made text by gumbo)    the cover note, quotes and signature out
//   attachments, in order                       the documents
//   no attachment                               the body itself is the document
//
// Refusals (Error.code; every one but ingest.automatic_message deserves a reply, and
// the Error's context has "sender" once the From address was read):
//   ingest.automatic_message   an auto-reply, bounce, list mail or our own notification:
//                              never faxed and never answered (mail loops)
//   ingest.malformed           unreadable MIME, nesting too deep, a header line too long
//   ingest.no_sender           no usable From
//   ingest.sender_not_authenticated  the trusted Authentication-Results do not vouch for
//                              the From domain (when required)
//   ingest.no_valid_number     no fax recipient, or one whose number is not valid (the
//                              whole mail is refused, naming it: a half-sent broadcast
//                              would surprise more than a refusal)
//   ingest.too_many_recipients, ingest.too_large, ingest.too_many_attachments,
//   ingest.unsupported_attachment, ingest.encrypted, ingest.nothing_to_send
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/phone.hpp"
#include "faxbridge/core/result.hpp"

namespace faxbridge::ingest {

struct IngestSettings {
  std::vector<std::string> fax_domains;    // "fax.example.com"; case-insensitive
  DialPlan dial_plan;                      // for normalize_phone
  std::vector<std::string> own_addresses;  // our notification From address(es): never faxed
  std::string trusted_authserv_id;         // the receiving server's authserv-id
  bool require_authentication = false;     // refuse mails the trusted results do not vouch for
  // Backstops; each has its setting in mail-ingest.
  std::size_t max_message_bytes = 25u << 20;     // a mail server's usual limit
  std::size_t max_attachment_bytes = 20u << 20;  // web-api's upload limit
  std::size_t max_recipients = 50;
  std::size_t max_attachments = 20;
  // RFC 5322 2.1.1 allows 998 characters a line; mail in the wild has long lines of
  // encoded words, so the limit is generous, but a 1 MB line is an attack, not a mail.
  std::size_t max_header_line_bytes = 64u << 10;
  // Multipart nesting: real mail nests 4 or 5 deep (mixed > related > alternative).
  int max_mime_depth = 8;
};

enum class CoverChoice { kSenderDefault, kNamed, kNone };

struct FaxRecipient {
  std::string number;   // canonical (libs/core)
  std::string address;  // as written, lower-cased domain
  std::string name;     // display name, UTF-8; may be empty
};

struct FaxDocument {
  std::string filename;    // as the sender named it, or made up ("attachment-2.pdf")
  std::string media_type;  // as declared (the converter decides from the content)
  std::string bytes;       // decoded
};

struct FaxRequest {
  std::string message_id;   // without angle brackets; empty when the mail has none
  std::string sender_email; // lower case
  std::string sender_name;
  std::vector<FaxRecipient> recipients;
  std::string subject;      // UTF-8, tags removed
  CoverChoice cover = CoverChoice::kSenderDefault;
  std::string cover_name;   // kNamed
  std::string note;         // the body for the cover page (empty when the body is the document)
  std::vector<FaxDocument> documents;
  bool body_is_document = false;
  std::string authenticated_by;  // which Authentication-Results rule passed, when checked
};

Result<FaxRequest> parse_fax_request(std::string_view raw, const IngestSettings& settings);

}  // namespace faxbridge::ingest

namespace faxbridge::ingest {

// The ledger's key of a mail (ingested_messages.message_id): "<Message-ID>" when the
// mail has one, else "sha256:<hex of the raw bytes>". Read from the header section
// alone, so it exists for mails that parse_fax_request refuses as well.
std::string message_key(std::string_view raw);

}  // namespace faxbridge::ingest
