// DESIGN: see address.hpp. Classification works on the address bytes (inet_pton), not
// on text prefixes, so "0x7f.1", "::ffff:127.0.0.1" or "127.000.000.001" cannot pass
// as public: getaddrinfo turns such spellings into bytes first, and we classify those.
#include "faxbridge/webhook/address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <charconv>
#include <cstring>
#include <memory>

namespace faxbridge::webhook {
namespace {

AddressClass classify_v4(const std::uint8_t* a) {
  const std::uint32_t v = (std::uint32_t{a[0]} << 24) | (std::uint32_t{a[1]} << 16) | (std::uint32_t{a[2]} << 8) | a[3];
  auto in = [v](std::uint32_t net, int bits) { return (v >> (32 - bits)) == (net >> (32 - bits)); };
  if (in(0x00000000, 8)) return AddressClass::kUnspecified;  // 0.0.0.0/8, "this network"
  if (in(0x7f000000, 8)) return AddressClass::kLoopback;
  if (in(0xa9fe0000, 16)) return AddressClass::kLinkLocal;   // 169.254/16 (cloud metadata lives here)
  if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16)) return AddressClass::kPrivate;  // RFC 1918
  if (in(0x64400000, 10)) return AddressClass::kSharedCgnat;  // 100.64/10, RFC 6598
  if (in(0xe0000000, 4)) return AddressClass::kMulticast;
  if (in(0xf0000000, 4)) return AddressClass::kReserved;     // 240/4 and 255.255.255.255
  return AddressClass::kPublic;
}

AddressClass classify_v6(const std::uint8_t* a) {
  static const std::uint8_t zero[16] = {};
  if (std::memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1)) {
    return a[15] == 0 ? AddressClass::kUnspecified : AddressClass::kLoopback;
  }
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated): the IPv4 rules.
  static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a, mapped, 12) == 0 || std::memcmp(a, zero, 12) == 0) return classify_v4(a + 12);
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;  // fe80::/10
  if ((a[0] & 0xfe) == 0xfc) return AddressClass::kPrivate;                     // fc00::/7, unique local
  if (a[0] == 0xff) return AddressClass::kMulticast;
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return AddressClass::kPrivate;  // fec0::/10, old site-local
  return AddressClass::kPublic;
}

Error refused(const std::string& host, const std::string& address, AddressClass c) {
  return Error(Code::k_webhook_address_refused,
               "The webhook host " + host + " resolves to " + address + ", a " + std::string(address_class_name(c)) +
                   " address; such addresses are refused unless the setting webhooks.allow_private_addresses is on.");
}

}  // namespace

std::string_view address_class_name(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic: return "public";
    case AddressClass::kLoopback: return "loopback";
    case AddressClass::kLinkLocal: return "link-local";
    case AddressClass::kPrivate: return "private";
    case AddressClass::kSharedCgnat: return "shared (CGNAT)";
    case AddressClass::kUnspecified: return "unspecified";
    case AddressClass::kMulticast: return "multicast";
    case AddressClass::kReserved: return "reserved";
  }
  return "reserved";
}

AddressClass classify_address(std::string_view numeric) {
  const std::string s(numeric);
  std::uint8_t buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return classify_v4(buf);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return classify_v6(buf);
  return AddressClass::kReserved;
}

Result<Target> parse_url(std::string_view url) {
  Target t;
  const auto bad = [&] {
    return Error(Code::k_webhook_unreachable, "The webhook URL \"" + std::string(url) + "\" is not an http(s) URL.");
  };
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return bad();
  t.scheme = std::string(url.substr(0, sep));
  for (auto& ch : t.scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (t.scheme != "http" && t.scheme != "https") return bad();
  std::string_view rest = url.substr(sep + 3);
  const auto path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string path = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
  if (const auto hash = path.find('#'); hash != std::string::npos) path.resize(hash);  // never sent
  if (path.empty() || path[0] != '/') path = "/" + path;
  t.path = path;
  if (authority.find('@') != std::string_view::npos || authority.empty()) return bad();
  std::string_view port_text;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad();
    t.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad();
      port_text = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    t.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (t.host.empty()) return bad();
  t.port = t.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), t.port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || t.port < 1 || t.port > 65535) return bad();
  }
  return t;
}

Result<Target> resolve(Target t, bool allow_private) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(t.host.c_str(), std::to_string(t.port).c_str(), &hints, &found);
  if (rc != 0 || !found) {
    return Error(Code::k_webhook_unreachable,
                 "The webhook host " + t.host + " has no address (" + std::string(gai_strerror(rc)) + ").");
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> hold(found, &freeaddrinfo);
  std::string first;
  for (const addrinfo* ai = found; ai; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* bytes = ai->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr)
                        : ai->ai_family == AF_INET6 ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr)
                                                    : nullptr;
    if (!bytes || !inet_ntop(ai->ai_family, bytes, text, sizeof text)) continue;
    const AddressClass c = classify_address(text);
    if (!is_public(c) && !allow_private) return refused(t.host, text, c);
    if (first.empty()) first = text;
  }
  if (first.empty()) return Error(Code::k_webhook_unreachable, "The webhook host " + t.host + " has no IP address.");
  t.address = first;
  return t;
}

}  // namespace faxbridge::webhook
