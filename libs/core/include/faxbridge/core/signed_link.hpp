#pragma once
// DESIGN: short-lived signed download links. A webhook body may not carry a fax's bytes,
// and its receiver holds no session or API token, so the body carries links that are
// their own authorisation: the web API serves
//   GET /api/v1/links/faxes/{id}/file?format=pdf&expires=<unix s>&signature=<sig>
//   GET /api/v1/links/inbox/{id}/file?format=tiff&expires=...&signature=...
// to anybody whose signature matches, until `expires`.
//
// Why this form and not an opaque /links/{token}: every fact the link grants is in
// plain sight (which fax, which format, until when), so a person reading a refused link
// sees why (its expiry) and the tests can tamper with one part at a time; the signature
// covers all of them, so no part can be changed. A separate /links/ prefix rather than
// a signature accepted on /faxes/{id}/file keeps the authenticated routes exactly as
// strict as they were (one route, one access rule) and lets the permission matrix show
// the public one as public.
//
// signature = base64url without padding of HMAC-SHA256(link key, canonical text), the
// canonical text being "faxbridge-link-v1\n<resource>\n<id>\n<format>\n<expires>" (the
// resource is "faxes" or "inbox", so an outbound fax's link never opens the received fax
// with the same number). The link key is never FAXBRIDGE_SECRET_KEY itself: it is the
// sub-key libsodium's crypto_kdf derives from it (BLAKE2b, context "FBXLINK1", id 1), so
// a link reveals nothing usable about the key that seals the stored secrets, and a later
// scheme takes another id. Checking compares in constant time (sodium_memcmp) and checks
// the signature before the expiry, so `link.expired` is only ever said of a genuine link.
#include <cstdint>
#include <string>
#include <string_view>

#include "faxbridge/core/result.hpp"
#include "faxbridge/core/secret_box.hpp"

namespace faxbridge::signed_link {

inline constexpr std::string_view kFaxes = "faxes";  // an outbound fax (fax_jobs.id)
inline constexpr std::string_view kInbox = "inbox";  // a received fax (received_faxes.id)

// What a link grants: one fax's file in one format until `expires` (Unix seconds).
struct Link {
  std::string resource;  // kFaxes | kInbox
  std::int64_t id = 0;
  std::string format;    // "pdf" | "tiff"
  std::int64_t expires = 0;
};

class LinkKey final {
 public:
  static constexpr std::size_t kBytes = 32;
  // The sub-key of the links, derived from the server's secret key.
  static LinkKey derive(const secret_box::Key& master);

  LinkKey(const LinkKey& other);
  LinkKey& operator=(const LinkKey& other);
  ~LinkKey();

  // base64url (no padding) of the HMAC-SHA256 of the link's canonical text.
  std::string sign(const Link& link) const;
  // link.invalid when the signature is not the link's (any part changed, another key,
  // not base64url of 32 bytes); then link.expired when `now` is past `expires`.
  Result<void> check(const Link& link, std::string_view signature, std::int64_t now) const;

 private:
  LinkKey() = default;
  unsigned char bytes_[kBytes] = {};
};

std::string canonical_text(const Link& link);
// "<base>/api/v1/links/<resource>/<id>/file?format=..&expires=..&signature=..", the base
// without its trailing slashes ("https://fax.example.com" or ".../faxbridge").
std::string url(std::string_view public_base_url, const Link& link, const LinkKey& key);

}  // namespace faxbridge::signed_link
