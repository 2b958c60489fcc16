#include "faxbridge/mail/message.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include <vmime/contentDispositionField.hpp>
#include <vmime/contentTypeField.hpp>
#include <vmime/vmime.hpp>

#include <sodium.h>

#include "vmime_platform.hpp"

namespace faxbridge::mail {
namespace {

bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

Error bad_address(std::string_view email, const std::string& why) {
  return Error(Code::k_mail_invalid_address,
               "\"" + std::string(email.substr(0, 80)) + "\" is not an email address this server can send to: " + why + ".")
      .with("address", std::string(email.substr(0, 254)));
}

// Dot-separated parts, none empty (no leading, trailing or doubled dot).
template <typename Check>
bool dotted(std::string_view s, Check ok_char, std::size_t max_part) {
  if (s.empty()) return false;
  std::size_t part = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (part == 0) return false;
      part = 0;
      continue;
    }
    if (!ok_char(s, i)) return false;
    if (++part > max_part) return false;
  }
  return part > 0;
}

bool is_ipv4_literal(std::string_view d) {
  if (d.size() < 9 || d.front() != '[' || d.back() != ']') return false;
  d = d.substr(1, d.size() - 2);
  int parts = 0;
  std::size_t i = 0;
  while (i <= d.size()) {
    std::size_t j = d.find('.', i);
    if (j == std::string_view::npos) j = d.size();
    const auto p = d.substr(i, j - i);
    if (p.empty() || p.size() > 3) return false;
    int v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
    ++parts;
    i = j + 1;
  }
  return parts == 4;
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

vmime::mailbox to_mailbox(const Address& a) {
  if (a.name.empty()) return vmime::mailbox(vmime::emailAddress(a.email));
  return vmime::mailbox(vmime::text(a.name, vmime::charsets::UTF_8), vmime::emailAddress(a.email));
}

// Text bodies travel in canonical form, CRLF line ends (RFC 2045 6.7); vmime's
// quoted-printable encoder keeps line breaks as it finds them.
std::string crlf(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 40);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::shared_ptr<vmime::bodyPart> leaf(const std::string& media_type, const std::string& bytes, const char* encoding) {
  auto part = vmime::make_shared<vmime::bodyPart>();
  part->getHeader()->ContentType()->setValue(vmime::mediaType(media_type));
  part->getHeader()->ContentTransferEncoding()->setValue(vmime::encoding(encoding));
  part->getBody()->setContents(vmime::make_shared<vmime::stringContentHandler>(bytes));
  return part;
}

// Base64 text given by the caller, with CRLF line ends; nullopt when it holds anything
// but the alphabet and line breaks or a line longer than RFC 2045 allows. Line by line,
// each copied whole: a file of 100 kB passes in microseconds.
std::optional<std::string> canonical_base64(const std::string& text) {
  static const auto alphabet = [] {
    std::array<bool, 256> ok{};
    for (unsigned char c : std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")) ok[c] = true;
    return ok;
  }();
  std::string out;
  out.reserve(text.size() + text.size() / 38 + 2);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::size_t line_end = end;
    if (line_end > pos && text[line_end - 1] == '\r') --line_end;
    if (line_end - pos > 76) return std::nullopt;
    bool ok = true;
    for (std::size_t i = pos; i < line_end; ++i) ok &= alphabet[static_cast<unsigned char>(text[i])];
    if (!ok) return std::nullopt;
    if (line_end > pos) {
      if (!out.empty()) out += "\r\n";
      out.append(text, pos, line_end - pos);
    }
    pos = end + 1;
  }
  return out;
}

// A file part whose body is base64 made here (or given), which vmime writes as it is:
// its own encoder goes byte by byte through a stream and was a third of a mail's
// composition with a 2-page PDF attached (bench/notifier).
std::shared_ptr<vmime::bodyPart> file_leaf(const Part& p, std::string encoded) {
  auto part = vmime::make_shared<vmime::bodyPart>();
  part->getHeader()->ContentType()->setValue(vmime::mediaType(p.media_type));
  const vmime::encoding base64(vmime::encodingTypes::BASE64);
  part->getHeader()->ContentTransferEncoding()->setValue(base64);
  part->getBody()->setContents(vmime::make_shared<vmime::stringContentHandler>(encoded, base64));
  return part;
}

std::shared_ptr<vmime::bodyPart> text_leaf(const std::string& subtype, const std::string& text) {
  auto part = leaf("text/" + subtype, crlf(text), vmime::encodingTypes::QUOTED_PRINTABLE);
  vmime::dynamicCast<vmime::contentTypeField>(part->getHeader()->ContentType())->setCharset(vmime::charsets::UTF_8);
  return part;
}

std::shared_ptr<vmime::bodyPart> multipart(const std::string& subtype,
                                           const std::vector<std::shared_ptr<vmime::bodyPart>>& children) {
  auto part = vmime::make_shared<vmime::bodyPart>();
  part->getHeader()->ContentType()->setValue(vmime::mediaType("multipart/" + subtype));
  for (const auto& c : children) part->getBody()->appendPart(c);
  return part;
}

// Moves `from`'s header fields and body into `to` (the message itself is the root part).
void adopt(vmime::bodyPart& to, const vmime::bodyPart& from) {
  for (const auto& f : from.getHeader()->getFieldList()) to.getHeader()->appendField(vmime::dynamicCast<vmime::headerField>(f->clone()));
  to.getBody()->copyFrom(*from.getBody());
}

}  // namespace

std::string base64_lines(std::string_view bytes) {
  constexpr std::size_t kLineBytes = 57;  // 76 characters
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4 + (bytes.size() / kLineBytes + 1) * 2);
  char line[80];
  for (std::size_t i = 0; i < bytes.size(); i += kLineBytes) {
    const std::size_t n = std::min(kLineBytes, bytes.size() - i);
    sodium_bin2base64(line, sizeof line, reinterpret_cast<const unsigned char*>(bytes.data()) + i, n,
                      sodium_base64_VARIANT_ORIGINAL);
    if (i > 0) out += "\r\n";
    out += line;
  }
  return out;
}

Result<Address> parse_address(std::string_view email, std::string name) {
  if (email.empty()) return bad_address(email, "it is empty");
  if (email.size() > 254) return bad_address(email, "it is longer than 254 characters");
  if (has_line_break(email) || has_line_break(name)) return bad_address(email, "it contains a line break");
  const auto at = email.rfind('@');
  if (at == std::string_view::npos) return bad_address(email, "it has no @");
  const auto local = email.substr(0, at);
  const auto domain = email.substr(at + 1);
  if (local.empty() || local.size() > 64) return bad_address(email, "the part before the @ must be 1 to 64 characters");
  if (!dotted(local, [](std::string_view s, std::size_t i) { return is_atext(s[i]); }, 64))
    return bad_address(email, "the part before the @ may hold letters, digits and !#$%&'*+-/=?^_`{|}~, with single dots between");
  const bool host_ok = dotted(
      domain,
      [](std::string_view s, std::size_t i) {
        const char c = s[i];
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum) return true;
        if (c != '-') return false;
        return i > 0 && s[i - 1] != '.' && i + 1 < s.size() && s[i + 1] != '.';  // not at a label's edge
      },
      63);
  if (!host_ok && !is_ipv4_literal(domain))
    return bad_address(email, "the part after the @ must be a host name (letters, digits, hyphens, dots) or [IPv4]");
  return Address{std::string(email), std::move(name)};
}

Result<std::string> compose(const OutgoingMessage& m) {
  detail::ensure_vmime_platform();
  auto invalid = [](const std::string& why) { return Error(Code::k_mail_invalid_message, why); };
  if (m.to.empty()) return invalid("The message has no recipient.");
  if (m.text.empty()) return invalid("The message has no plain-text body.");
  if (m.message_id.empty() || m.message_id.find('@') == std::string::npos || has_line_break(m.message_id) ||
      m.message_id.find_first_of("<> ") != std::string::npos)
    return invalid("The message needs a Message-ID of the form local@domain.");
  if (!m.in_reply_to.empty() && (has_line_break(m.in_reply_to) || m.in_reply_to.find_first_of("<> ") != std::string::npos))
    return invalid("In-Reply-To must be a Message-ID of the form local@domain.");
  if (has_line_break(m.subject) || has_line_break(m.auto_submitted)) return invalid("A header value holds a line break.");
  auto from = parse_address(m.from.email, m.from.name);
  if (!from) return from.error();
  for (const auto& to : m.to) {
    auto ok = parse_address(to.email, to.name);
    if (!ok) return ok.error();
  }
  for (const auto& img : m.inline_images) {
    if (img.content_id.empty() || img.content_id.find_first_of("<> \r\n") != std::string::npos)
      return invalid("An inline image needs a content id without spaces or angle brackets.");
  }
  // Each file's body in base64, checked when the caller brought it encoded.
  const auto encoded = [](const Part& p) -> std::optional<std::string> {
    if (p.base64.empty()) return base64_lines(p.bytes);
    return canonical_base64(p.base64);
  };
  std::vector<std::string> image_bodies, attachment_bodies;
  for (const auto& img : m.inline_images) {
    auto b = encoded(img);
    if (!b) return invalid("The inline image " + img.content_id + " is not valid base64.");
    image_bodies.push_back(std::move(*b));
  }
  for (const auto& a : m.attachments) {
    auto b = encoded(a);
    if (!b) return invalid("The attachment " + a.filename + " is not valid base64.");
    attachment_bodies.push_back(std::move(*b));
  }

  try {
    // The body, innermost first.
    std::shared_ptr<vmime::bodyPart> body = text_leaf("plain", m.text);
    if (!m.html.empty()) body = multipart("alternative", {body, text_leaf("html", m.html)});
    if (!m.inline_images.empty()) {
      std::vector<std::shared_ptr<vmime::bodyPart>> related{body};
      for (std::size_t i = 0; i < m.inline_images.size(); ++i) {
        const auto& img = m.inline_images[i];
        auto part = file_leaf(img, std::move(image_bodies[i]));
        part->getHeader()->ContentId()->setValue(vmime::messageId("<" + img.content_id + ">"));
        auto disposition = vmime::dynamicCast<vmime::contentDispositionField>(part->getHeader()->ContentDisposition());
        disposition->setValue(vmime::contentDisposition(vmime::contentDispositionTypes::INLINE));
        if (!img.filename.empty()) disposition->setFilename(vmime::word(img.filename, vmime::charsets::UTF_8));
        related.push_back(part);
      }
      body = multipart("related", related);
    }
    if (!m.attachments.empty()) {
      std::vector<std::shared_ptr<vmime::bodyPart>> mixed{body};
      for (std::size_t i = 0; i < m.attachments.size(); ++i) {
        const auto& a = m.attachments[i];
        auto part = file_leaf(a, std::move(attachment_bodies[i]));
        auto disposition = vmime::dynamicCast<vmime::contentDispositionField>(part->getHeader()->ContentDisposition());
        disposition->setValue(vmime::contentDisposition(vmime::contentDispositionTypes::ATTACHMENT));
        disposition->setFilename(vmime::word(a.filename, vmime::charsets::UTF_8));
        mixed.push_back(part);
      }
      body = multipart("mixed", mixed);
    }

    vmime::message msg;
    auto header = msg.getHeader();
    header->From()->setValue(to_mailbox(*from));
    vmime::addressList to;
    for (const auto& a : m.to) to.appendAddress(vmime::make_shared<vmime::mailbox>(to_mailbox(a)));
    header->To()->setValue(to);
    header->Subject()->setValue(vmime::text(m.subject, vmime::charsets::UTF_8));
    header->Date()->setValue(vmime::datetime(std::chrono::system_clock::to_time_t(m.date)));
    header->MessageId()->setValue(vmime::messageId("<" + m.message_id + ">"));
    if (!m.in_reply_to.empty()) {
      vmime::messageIdSequence ids;
      ids.appendMessageId(vmime::make_shared<vmime::messageId>("<" + m.in_reply_to + ">"));
      header->InReplyTo()->setValue(ids);
      header->References()->setValue(ids);
    }
    header->MimeVersion()->setValue(vmime::string("1.0"));
    if (!m.auto_submitted.empty())
      header->appendField(vmime::headerFieldFactory::getInstance()->create("Auto-Submitted", m.auto_submitted));
    adopt(msg, *body);

    std::string out;
    vmime::utility::outputStreamStringAdapter os(out);
    msg.generate(os);
    return out;
  } catch (const vmime::exception& e) {
    return Error(Code::k_mail_invalid_message, std::string("The message could not be built: ") + e.what());
  }
}

}  // namespace faxbridge::mail
