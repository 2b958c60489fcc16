#pragma once
// The body and the attachments of a parsed mail, walked the way mail clients show them:
//   multipart/alternative   one body: text/plain preferred, else the HTML
//   multipart/related       the first part is the body, the rest its pictures
//   multipart/signed        the signed content; the signature part is not a document
//   multipart/encrypted, application/pkcs7-mime, application/pgp-encrypted, *.p7m/.pgp
//                           unreadable: ingest.encrypted
//   other multiparts        every part in order
// A leaf without a file name that is text/plain or text/html and not marked
// `attachment` is body text (Apple Mail splits the body around inline pictures into
// several such parts: they are joined). Every other leaf is an attachment candidate,
// except pictures that are not real attachments:
//   - an image under kTinyImageBytes, however marked: a tracking pixel or a spacer;
//   - an image not marked `attachment` that the HTML shows (cid:) or that is under
//     kInlineLogoBytes: a logo in a signature.
// Types a fax cannot carry (archives, programs, calendar entries, attached mails) are
// refused with ingest.unsupported_attachment, naming the file, rather than dropped: the
// sender must know a page is missing.
#include <string>
#include <string_view>
#include <vector>
#include <vmime/vmime.hpp>

#include "faxbridge/core/result.hpp"
#include "faxbridge/ingest/fax_request.hpp"

namespace faxbridge::ingest::detail {

// A 1x1 GIF is 43 bytes, a spacer PNG under 200; no picture worth a page is under 1 KiB.
inline constexpr std::size_t kTinyImageBytes = 1024;
// Signature logos are a few KiB; a photo or a scan pasted into the text is far larger.
inline constexpr std::size_t kInlineLogoBytes = 16 * 1024;

struct WalkedBody {
  std::string plain;  // UTF-8
  std::string html;   // UTF-8
  std::vector<FaxDocument> documents;
};

// Errors: ingest.malformed, ingest.encrypted, ingest.unsupported_attachment,
// ingest.too_large, ingest.too_many_attachments. `raw` is the buffer vmime parsed
// `message` from (a multipart's declared boundary is looked for in it).
Result<WalkedBody> walk_body(std::string_view raw, const vmime::bodyPart& message, const IngestSettings& settings);

}  // namespace faxbridge::ingest::detail
