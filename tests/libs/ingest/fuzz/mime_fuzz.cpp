// libFuzzer target: ingest::parse_fax_request, the MIME-to-fax-request parser, must turn
// any bytes into a FaxRequest or a refusal with an ingest.* code, never crash, read out
// of bounds, leak or take long (libFuzzer's -timeout). Each input is read twice, with
// and without required Authentication-Results (the second reaches the RFC 8601 parser,
// the first the recipients and the MIME walk), and keyed for the ledger (message_key).
// What the parser promises (fax_request.hpp, docs/design.md) is checked on every
// accepted mail, with this file's own UTF-8 check rather than the library's: the texts
// are valid UTF-8, file names have no path, the limits hold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "faxbridge/ingest/fax_request.hpp"

namespace {

using faxbridge::ingest::FaxRequest;
using faxbridge::ingest::IngestSettings;

// RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF.
bool utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 4;
    if (n == 4 || (n > 0 && i + n >= s.size())) return false;
    std::uint32_t cp = n == 0 ? c : c & (0x3F >> n);
    for (std::size_t k = 1; k <= n; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

void require(bool ok) {
  if (!ok) std::abort();  // libFuzzer keeps the input as crash-*
}

void check(const FaxRequest& r, const IngestSettings& s) {
  require(!r.recipients.empty() && r.recipients.size() <= s.max_recipients);
  require(!r.documents.empty() && r.documents.size() <= s.max_attachments);
  require(r.sender_email.find('@') != std::string::npos);
  require(utf8(r.sender_name) && utf8(r.subject) && utf8(r.note) && utf8(r.cover_name));
  for (const auto& p : r.recipients) require(!p.number.empty() && utf8(p.name) && utf8(p.address));
  for (const auto& d : r.documents) {
    require(!d.filename.empty() && utf8(d.filename));
    require(d.filename.find_first_of("/\\") == std::string::npos);
  }
  if (r.body_is_document) require(r.documents.size() == 1 && utf8(r.documents[0].bytes));
  else
    for (const auto& d : r.documents) require(d.bytes.size() <= s.max_attachment_bytes);
}

void check_refusal(const faxbridge::Error& e) {
  const std::string_view name = e.name();
  require(name.substr(0, 7) == "ingest.");
  require(!e.message.empty());
}

IngestSettings settings(bool authenticated) {
  IngestSettings s;
  s.fax_domains = {"fax.example.com", "Fax.Example.NET"};
  s.own_addresses = {"faxbridge@example.com"};
  s.trusted_authserv_id = "mx.corp.example";
  s.require_authentication = authenticated;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  for (bool authenticated : {false, true}) {
    const IngestSettings s = settings(authenticated);
    auto r = faxbridge::ingest::parse_fax_request(raw, s);
    if (r) check(*r, s);
    else check_refusal(r.error());
  }
  const std::string key = faxbridge::ingest::message_key(raw);
  require(key.rfind("<", 0) == 0 || key.rfind("sha256:", 0) == 0);
  return 0;
}
