// The ledger key of a mail (fax_request.hpp): Message-ID, else a digest of the bytes.
// Only the header section is parsed (up to the first empty line), so a mail with a
// broken body still has its key.
#include <sodium.h>

#include "faxbridge/ingest/fax_request.hpp"
#include "vmime_text.hpp"

namespace faxbridge::ingest {

std::string message_key(std::string_view raw) {
  std::size_t end = raw.find("\r\n\r\n");
  if (end == std::string_view::npos) end = raw.find("\n\n");
  const std::string head(raw.substr(0, end == std::string_view::npos ? raw.size() : end));
  // The same bounds as parse_fax_request's first step: a giant header is not parsed.
  if (head.size() <= (1u << 20)) {
    try {
      vmime::header h;
      h.parse(head + "\r\n");
      std::string id = detail::raw_field(h, "Message-ID");
      if (id.size() > 2 && id.front() == '<' && id.back() == '>' && id.size() <= 998) return id;
    } catch (const std::exception&) {
      // Unreadable: the digest below.
    }
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned char b : digest) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

}  // namespace faxbridge::ingest
