// DESIGN: every address the agent sends to is read here, once, before the loop thread
// sees it. A route gives "host[:port][;transport=...]" and a number; a caller may give a
// full sip:/sips: URI instead. Both become one URI string or a sip.invalid_target error
// naming what was wrong; nothing is repaired except the separators people type inside
// numbers ("+39 02 9786-5403"). The OPTIONS monitor reads its targets with the same
// address_uri, so a gateway is pinged over the transport its calls would use.
#include "target.hpp"

#include <cctype>

#include "faxbridge/core/log.hpp"

namespace faxbridge::sip::detail {
namespace {

// "+39 02 9786-5403" -> "+390297865403": the visual separators people type.
std::string dial_digits(std::string_view n) {
  std::string out;
  for (char c : n) {
    if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') out += c;
  }
  return out;
}

}  // namespace

bool valid_number(std::string_view n) {
  if (n.empty() || n.size() > kMaxUserLength) return false;
  for (char c : n) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '*' || c == '#')) {
      return false;
    }
  }
  return true;
}

bool valid_host_port(std::string_view h) {
  if (h.empty() || h.size() > 255) return false;
  for (char c : h) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
          c == '[' || c == ']')) {
      return false;
    }
  }
  return true;
}

bool safe_header_text(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '<' || c == '>' || c == '"') return false;
  }
  return true;
}

Result<std::string> address_uri(std::string_view address, std::string_view user) {
  const auto semicolon = address.find(';');
  const std::string_view host_port = address.substr(0, semicolon);
  const std::string_view params = semicolon == std::string_view::npos ? std::string_view() : address.substr(semicolon);
  if (!params.empty() && params != ";transport=udp" && params != ";transport=tcp" && params != ";transport=tls") {
    return Error(Code::k_sip_invalid_target, "A SIP address's only parameter may be ;transport=udp, tcp or tls.")
        .with("target", std::string(address));
  }
  if (!valid_host_port(host_port)) {
    return Error(Code::k_sip_invalid_target, "A SIP address must be host[:port] (or, to call, a sip: URI).")
        .with("target", std::string(address));
  }
  std::string uri = "sip:";
  if (!user.empty()) uri += std::string(user) + "@";
  return uri + std::string(host_port) + std::string(params);
}

Result<std::string> monitor_uri(std::string_view target) {
  return address_uri(target.substr(target.rfind("sip:", 0) == 0 ? 4 : 0), {});
}

Result<std::string> target_uri(const CallRequest& r) {
  if (r.target.rfind("sip:", 0) == 0 || r.target.rfind("sips:", 0) == 0) {
    if (!safe_header_text(r.target) || r.target.find(' ') != std::string::npos) {
      return Error(Code::k_sip_invalid_target, "The SIP target URI contains invalid characters.");
    }
    return r.target;
  }
  const std::string number = dial_digits(r.number);
  auto uri = address_uri(r.target, number);
  if (!uri) return uri;
  if (!valid_number(number)) {
    return Error(Code::k_sip_invalid_target, "The number to call must be digits (with + * #).")
        .with("number", log::mask_number(r.number));
  }
  return uri;
}

std::string masked_target(std::string_view uri) {
  const auto colon = uri.find(':');
  const auto at = uri.find('@');
  if (colon == std::string_view::npos || at == std::string_view::npos || at < colon) {
    return std::string(uri);
  }
  return std::string(uri.substr(0, colon + 1)) + log::mask_number(uri.substr(colon + 1, at - colon - 1)) +
         std::string(uri.substr(at));
}

}  // namespace faxbridge::sip::detail
