#include "faxbridge/sip/sdp.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace faxbridge::sip {
namespace {

// A backstop against hostile bodies: a fax call has one or two streams; anything
// beyond this many m= lines is not a description we will act on.
constexpr std::size_t kMaxMediaSections = 16;

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

bool parse_port(std::string_view text, int& out) {
  // "<port>/<count>" is allowed by RFC 4566; the count is irrelevant for fax.
  text = text.substr(0, text.find('/'));
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0 || value > 65535) {
    return false;
  }
  out = value;
  return true;
}

// "IN IP4 192.0.2.1" -> "192.0.2.1"
std::string parse_connection(std::string_view value) {
  auto words = split_words(value);
  if (words.size() < 3 || words[0] != "IN") return {};
  return std::string(words[2]);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// An RTP payload type, 0-127 (RFC 3550's 7 bits).
std::optional<int> parse_payload_type(std::string_view text) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() || value < 0 || value > 127) {
    return std::nullopt;
  }
  return value;
}

// The value of "a=<name>:<format> <value>" in the section (rtpmap, fmtp), if any.
std::optional<std::string_view> format_attribute(const MediaSection& m, std::string_view name,
                                                 std::string_view format) {
  for (const auto& attr : m.attributes) {
    std::string_view a = attr;
    if (a.size() <= name.size() || a.substr(0, name.size()) != name || a[name.size()] != ':') continue;
    a.remove_prefix(name.size() + 1);
    const std::size_t space = a.find(' ');
    if (space == std::string_view::npos || a.substr(0, space) != format) continue;
    return trim(a.substr(space + 1));
  }
  return std::nullopt;
}

// "red/8000" or "red/8000/1" (RFC 4102; encoding names are case-insensitive, RFC 4566 6).
bool is_red_rtpmap(std::string_view value) {
  std::string lower(value);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower == "red/8000" || lower == "red/8000/1";
}

// RFC 2198 section 5 fmtp: the payload types of the primary and each redundant block,
// slash-separated ("8/8/8"). Usable only when every one is `codec`: our channel sends
// and rebuilds that codec alone.
bool red_fmtp_carries(std::string_view fmtp, int codec) {
  if (fmtp.empty()) return false;
  std::size_t start = 0;
  while (start <= fmtp.size()) {
    std::size_t slash = fmtp.find('/', start);
    if (slash == std::string_view::npos) slash = fmtp.size();
    auto pt = parse_payload_type(trim(fmtp.substr(start, slash - start)));
    if (!pt || *pt != codec) return false;
    start = slash + 1;
  }
  return true;
}

// The far end's RED payload type for `codec` in this section, under whatever number it
// chose; -1 when there is none we can use (no rtpmap, an fmtp naming another codec or
// not parsing). Without fmtp, RED is taken to carry the codec we settled on.
int find_red(const MediaSection& m, int codec) {
  for (const auto& f : m.formats) {
    auto pt = parse_payload_type(f);
    if (!pt || *pt == 0 || *pt == 8) continue;
    auto rtpmap = format_attribute(m, "rtpmap", f);
    if (!rtpmap || !is_red_rtpmap(*rtpmap)) continue;
    auto fmtp = format_attribute(m, "fmtp", f);
    if (fmtp && !red_fmtp_carries(*fmtp, codec)) continue;
    return *pt;
  }
  return -1;
}

// RFC 4566 section 5.14: media, transport and format names are matched without regard
// to case ("m=image 4000 UDPTL T38" is what several gateways write).
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// T.38 over UDPTL (T.38 Annex D); TCP and other transports are not something we run.
bool is_t38_section(const MediaSection& m) {
  return iequals(m.media, "image") && iequals(m.protocol, "udptl") &&
         std::any_of(m.formats.begin(), m.formats.end(), [](const std::string& f) { return iequals(f, "t38"); });
}

Error sdp_error(std::string message) {
  return Error(Code::k_fax_sdp_invalid, std::move(message));
}

}  // namespace

std::string_view media_kind_name(MediaKind kind) {
  switch (kind) {
    case MediaKind::kT38: return "t38";
    case MediaKind::kPcma: return "pcma";
    case MediaKind::kPcmu: return "pcmu";
    default: return "other";
  }
}

Result<SessionDescription> parse_sdp(std::string_view text) {
  SessionDescription sdp;
  bool seen_version = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=') {
      return sdp_error("SDP line is not <type>=<value>").with("line", std::string(line.substr(0, 40)));
    }
    const char type = line[0];
    std::string_view value = line.substr(2);
    if (!seen_version) {
      if (type != 'v') return sdp_error("SDP does not start with v=");
      seen_version = true;
      continue;
    }
    switch (type) {
      case 'o': {
        auto words = split_words(value);
        if (words.size() >= 3) {
          sdp.origin_session_id = std::string(words[1]);
          sdp.origin_version = std::string(words[2]);
        }
        break;
      }
      case 'c': {
        std::string address = parse_connection(value);
        if (address.empty()) return sdp_error("SDP c= line does not parse");
        if (sdp.media.empty()) {
          sdp.connection_address = address;
        } else {
          sdp.media.back().connection_address = address;
        }
        break;
      }
      case 'm': {
        if (sdp.media.size() >= kMaxMediaSections) return sdp_error("SDP has too many m= lines");
        auto words = split_words(value);
        MediaSection section;
        if (words.size() < 3 || !parse_port(words[1], section.port)) {
          return sdp_error("SDP m= line does not parse").with("line", std::string(line.substr(0, 60)));
        }
        section.media = std::string(words[0]);
        section.protocol = std::string(words[2]);
        for (std::size_t i = 3; i < words.size(); ++i) section.formats.emplace_back(words[i]);
        sdp.media.push_back(std::move(section));
        break;
      }
      case 'a':
        if (!sdp.media.empty()) sdp.media.back().attributes.emplace_back(value);
        break;
      default:
        break;  // s=, t=, b=, ...: nothing a fax call acts on
    }
  }
  if (!seen_version) return sdp_error("SDP body is empty");
  if (sdp.media.empty()) return sdp_error("SDP has no m= line");
  for (const auto& m : sdp.media) {
    if (m.port != 0 && m.connection_address.empty() && sdp.connection_address.empty()) {
      return sdp_error("SDP stream has no connection address").with("media", m.media);
    }
  }
  return sdp;
}

std::optional<NegotiatedMedia> select_media(const SessionDescription& sdp, bool prefer_t38) {
  auto address_of = [&](const MediaSection& m) {
    return m.connection_address.empty() ? sdp.connection_address : m.connection_address;
  };
  auto find_t38 = [&]() -> std::optional<NegotiatedMedia> {
    for (const auto& m : sdp.media) {
      if (m.port == 0 || !is_t38_section(m)) continue;
      NegotiatedMedia n;
      n.kind = MediaKind::kT38;
      n.address = address_of(m);
      n.port = m.port;
      n.t38_attributes = m.attributes;
      return n;
    }
    return std::nullopt;
  };
  auto find_audio = [&]() -> std::optional<NegotiatedMedia> {
    for (const auto& m : sdp.media) {
      if (m.port == 0 || !iequals(m.media, "audio")) continue;
      // The far end's order is its preference (RFC 3264 section 6.1): take its first
      // G.711 format.
      for (const auto& f : m.formats) {
        if (f != "8" && f != "0") continue;
        NegotiatedMedia n;
        n.kind = f == "8" ? MediaKind::kPcma : MediaKind::kPcmu;
        n.payload_type = f == "8" ? 8 : 0;
        n.red_payload_type = find_red(m, n.payload_type);
        n.address = address_of(m);
        n.port = m.port;
        return n;
      }
    }
    return std::nullopt;
  };
  if (prefer_t38) {
    if (auto t = find_t38()) return t;
    return find_audio();
  }
  if (auto a = find_audio()) return a;
  return find_t38();
}

namespace {

std::string session_lines(const MediaOffer& m, std::string_view address, std::uint64_t session_id,
                          std::uint64_t version, std::string_view user) {
  const std::string addr = m.address.empty() ? std::string(address) : m.address;
  std::string s;
  s += "v=0\r\n";
  s += "o=" + std::string(user) + " " + std::to_string(session_id) + " " +
       std::to_string(version) + " IN IP4 " + addr + "\r\n";
  s += "s=faxbridge\r\n";
  s += "c=IN IP4 " + addr + "\r\n";
  s += "t=0 0\r\n";
  return s;
}

std::string t38_lines(const T38Offer& t) {
  std::string s = "m=image " + std::to_string(t.port) + " udptl t38\r\n";
  for (const auto& a : t.attributes) s += "a=" + a + "\r\n";
  return s;
}

std::string audio_lines(const AudioOffer& a) {
  // RED repeats the first enabled codec (RFC 2198 section 5); with none there is nothing to repeat.
  const bool red = a.redundancy > 0 && (a.pcma || a.pcmu);
  const std::string red_pt = std::to_string(a.red_payload_type);
  std::string formats;
  if (red) formats += " " + red_pt;
  if (a.pcma) formats += " 8";
  if (a.pcmu) formats += " 0";
  if (a.telephone_event) formats += " 101";
  std::string s = "m=audio " + std::to_string(a.port) + " RTP/AVP" + formats + "\r\n";
  if (red) {
    const std::string codec = a.pcma ? "8" : "0";
    std::string blocks = codec;
    for (int i = 0; i < std::min(a.redundancy, 8); ++i) blocks += "/" + codec;
    s += "a=rtpmap:" + red_pt + " red/8000\r\na=fmtp:" + red_pt + " " + blocks + "\r\n";
  }
  if (a.pcma) s += "a=rtpmap:8 PCMA/8000\r\n";
  if (a.pcmu) s += "a=rtpmap:0 PCMU/8000\r\n";
  if (a.telephone_event) s += "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";
  s += "a=ptime:20\r\na=sendrecv\r\n";
  return s;
}

bool offers_t38(const MediaSection& m) { return m.port != 0 && is_t38_section(m); }

bool offers_g711(const MediaSection& m) {
  return iequals(m.media, "audio") && m.port != 0 &&
         std::any_of(m.formats.begin(), m.formats.end(), [](const std::string& f) { return f == "8" || f == "0"; });
}

}  // namespace

std::string build_answer_sdp(const MediaOffer& answer, const SessionDescription& offer, std::string_view address,
                             std::uint64_t session_id, std::uint64_t version, std::string_view user) {
  std::string s = session_lines(answer, address, session_id, version, user);
  bool t38_done = false;
  bool audio_done = false;
  for (const auto& m : offer.media) {
    if (answer.t38 && !t38_done && offers_t38(m)) {
      s += t38_lines(*answer.t38);
      t38_done = true;
    } else if (answer.audio && !audio_done && offers_g711(m)) {
      AudioOffer audio = *answer.audio;
      // RFC 3264 section 6.1: an answer lists only types the offer had, under its numbers.
      const std::string red_pt = std::to_string(audio.red_payload_type);
      if (std::find(m.formats.begin(), m.formats.end(), red_pt) == m.formats.end()) audio.redundancy = 0;
      s += audio_lines(audio);
      audio_done = true;
    } else {
      // Rejected (RFC 3264 section 6): the offered line with port 0.
      s += "m=" + m.media + " 0 " + m.protocol;
      for (const auto& f : m.formats) s += " " + f;
      s += "\r\n";
    }
  }
  // A stream the offer did not have cannot be an answer; it is written anyway, after the
  // others, so the mistake shows in the far end's refusal rather than as silence.
  if (answer.t38 && !t38_done) s += t38_lines(*answer.t38);
  if (answer.audio && !audio_done) s += audio_lines(*answer.audio);
  return s;
}

std::string build_sdp(const MediaOffer& offer, std::string_view address, std::uint64_t session_id,
                      std::uint64_t version, std::string_view user) {
  std::string s = session_lines(offer, address, session_id, version, user);
  if (offer.t38) s += t38_lines(*offer.t38);
  if (offer.audio) s += audio_lines(*offer.audio);
  return s;
}

}  // namespace faxbridge::sip
