// DESIGN: one recursive visit of vmime's part tree, bounded by settings.max_mime_depth
// (so the recursion is too), collecting body text and attachment candidates; then one
// pass over the candidates decides which are documents (mime_walk.hpp has the rules).
// Only candidates are decoded, and only once.
#include "mime_walk.hpp"

#include <algorithm>
#include <set>

#include "faxbridge/ingest/body_text.hpp"
#include "vmime_text.hpp"

namespace faxbridge::ingest::detail {
namespace {

struct Candidate {
  std::string filename, media_type, disposition, content_id;
  const vmime::body* body = nullptr;
};

struct Walk {
  std::string_view raw;  // what vmime parsed: the parts' offsets point into it
  const IngestSettings& settings;
  WalkedBody out;
  std::vector<Candidate> candidates;
};

std::string extension(const std::string& name) {
  const auto dot = name.find_last_of('.');
  return dot == std::string::npos ? std::string() : lower(name.substr(dot + 1));
}

bool is_encrypted_type(const std::string& type, const std::string& ext) {
  return type == "multipart/encrypted" || type == "application/pkcs7-mime" || type == "application/x-pkcs7-mime" ||
         type == "application/pgp-encrypted" || ext == "p7m" || ext == "pgp" || ext == "gpg";
}

bool is_signature(const std::string& type) {
  return type == "application/pgp-signature" || type == "application/pkcs7-signature" ||
         type == "application/x-pkcs7-signature";
}

// What no converter of ours turns into pages, by declared type or by extension.
bool unsupported(const std::string& type, const std::string& ext) {
  static const std::set<std::string> types = {
      "application/zip", "application/x-zip-compressed", "application/x-7z-compressed", "application/x-rar-compressed",
      "application/vnd.rar", "application/gzip", "application/x-gzip", "application/x-tar", "application/x-bzip2",
      "application/x-xz", "application/x-msdownload", "application/x-executable", "application/x-sh",
      "application/javascript", "text/calendar", "application/ics", "message/rfc822", "message/global"};
  static const std::set<std::string> exts = {"zip", "7z", "rar", "gz", "tgz", "tar", "bz2", "xz", "exe", "dll",
                                             "msi", "bat", "cmd", "js", "vbs", "sh", "ics", "eml", "msg"};
  if (types.count(type) || exts.count(ext)) return true;
  return type.rfind("audio/", 0) == 0 || type.rfind("video/", 0) == 0;  // sound and film have no pages
}

std::string default_name(std::size_t n, const std::string& type) {
  std::string ext = "bin";
  if (type == "application/pdf") ext = "pdf";
  else if (type == "image/tiff") ext = "tif";
  else if (type == "image/jpeg") ext = "jpg";
  else if (type == "image/png") ext = "png";
  else if (type == "text/plain") ext = "txt";
  else if (type == "text/html") ext = "html";
  return "attachment-" + std::to_string(n) + "." + ext;
}

Result<void> visit(Walk& w, const vmime::bodyPart& part, int depth, bool related_resource) {
  if (depth > w.settings.max_mime_depth)
    return Error(Code::k_ingest_malformed, "The mail's parts are nested more than " +
                                               std::to_string(w.settings.max_mime_depth) +
                                               " deep; no mail program writes that. Send the documents in a new mail.");
  const vmime::header& h = *part.getHeader();
  const std::string type = media_type(h);
  const std::string name = filename(h);
  const std::string ext = extension(name);
  if (is_encrypted_type(type, ext))
    return Error(Code::k_ingest_encrypted,
                 std::string("The mail") + (name.empty() ? "" : "'s attachment " + name) +
                     " is encrypted, so it cannot be read to be faxed. Send it without encryption.");
  const vmime::body& body = *part.getBody();
  if (type.rfind("multipart/", 0) == 0) {
    const std::size_t n = body.getPartCount();
    // vmime guesses when the declared boundary never appears (it takes another "--" line,
    // or reads the text as a header): a guess could fax the wrong bytes, so such a mail
    // is refused as its mail program wrote it wrongly.
    std::string boundary;
    if (auto f = h.findField<vmime::contentTypeField>(vmime::fields::CONTENT_TYPE); f && f->hasParameter("boundary"))
      boundary = f->findParameter("boundary")->getValue().getBuffer();
    const std::size_t off = std::min(body.getParsedOffset(), w.raw.size());
    const std::string_view own = w.raw.substr(off, body.getParsedLength());
    if (n == 0 || boundary.empty() || own.find("--" + boundary) == std::string_view::npos)
      return Error(Code::k_ingest_malformed, "The mail says it has several parts (" + type +
                                                 ") but none could be found: its MIME boundaries are broken. "
                                                 "Send it again from your mail program.");
    const std::string sub = type.substr(10);
    for (std::size_t i = 0; i < n; ++i) {
      if (sub == "signed" && i > 0) break;  // the rest is the signature
      const bool resource = related_resource || (sub == "related" && i > 0);
      if (auto r = visit(w, *body.getPartAt(i), depth + 1, resource); !r) return r;
    }
    return {};
  }
  const std::string disp = disposition(h);
  if ((type == "text/plain" || type == "text/html") && disp != "attachment" && name.empty()) {
    const std::string text = to_utf8(decoded_bytes(body), content_charset(h));
    if (type == "text/plain") {
      if (!w.out.plain.empty()) w.out.plain += "\n";
      w.out.plain += text;
    } else if (w.out.html.empty()) {
      w.out.html = text;
    }
    return {};
  }
  if (is_signature(type)) return {};
  if (related_resource && disp != "attachment") return {};
  w.candidates.push_back({name, type, disp, content_id(h), &body});
  return {};
}

}  // namespace

Result<WalkedBody> walk_body(std::string_view raw, const vmime::bodyPart& message, const IngestSettings& settings) {
  Walk w{raw, settings, {}, {}};
  if (auto r = visit(w, message, 0, false); !r) return r.error();
  std::set<std::string> shown;
  if (!w.out.html.empty())
    for (auto& id : html_cid_references(w.out.html)) shown.insert(std::move(id));
  for (const Candidate& c : w.candidates) {
    const std::string ext = extension(c.filename);
    if (unsupported(c.media_type, ext))
      return Error(Code::k_ingest_unsupported_attachment,
                   "The attachment " + (c.filename.empty() ? c.media_type : c.filename) +
                       " cannot be faxed (" + c.media_type +
                       "). Send PDF, office documents, images or text; an archive must be unpacked first.")
          .with("attachment", c.filename)
          .with("media_type", c.media_type);
    std::string bytes = decoded_bytes(*c.body);
    if (c.media_type.rfind("image/", 0) == 0) {
      if (bytes.size() < kTinyImageBytes) continue;
      const bool real = c.disposition == "attachment";
      if (!real && (shown.count(c.content_id) || bytes.size() < kInlineLogoBytes)) continue;
    }
    if (bytes.size() > settings.max_attachment_bytes)
      return Error(Code::k_ingest_too_large, "The attachment " + c.filename + " is " + std::to_string(bytes.size()) +
                                                 " bytes; a fax attachment may have at most " +
                                                 std::to_string(settings.max_attachment_bytes) + ".")
          .with("attachment", c.filename);
    if (w.out.documents.size() == settings.max_attachments)
      return Error(Code::k_ingest_too_many_attachments,
                   "The mail has more than " + std::to_string(settings.max_attachments) +
                       " attachments, more than one fax may carry. Send them in several mails.");
    const std::string name = c.filename.empty() ? default_name(w.out.documents.size() + 1, c.media_type) : c.filename;
    w.out.documents.push_back({name, c.media_type, std::move(bytes)});
  }
  return std::move(w.out);
}

}  // namespace faxbridge::ingest::detail
