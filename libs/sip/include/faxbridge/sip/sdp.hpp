#pragma once
// SDP for fax calls (RFC 4566 / RFC 3264, T.38 in SDP per ITU-T T.38 Annex E): what we
// offer or answer, and what the far end described, in our own types. Only the lines a
// fax call needs are interpreted (o=, c=, m=, a=); everything else is kept as text.
// The T.38 attributes travel as raw text ("T38FaxVersion:0", "T38FaxUdpEC:t38UDPRedundancy");
// t38_negotiation.hpp turns the far end's into our offer or answer and the terms to run.
// Media, transport and format names are matched without regard to case (RFC 4566 5.14).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/result.hpp"

namespace faxbridge::sip {

enum class MediaKind { kT38, kPcma, kPcmu, kOther };
std::string_view media_kind_name(MediaKind kind);

// m=image <port> udptl t38, followed by the given attribute lines (without "a=").
struct T38Offer {
  int port = 0;
  std::vector<std::string> attributes;
};

// m=audio <port> RTP/AVP 8 0 101: the codecs enabled, in this order (PCMA first, as
// European gateways expect), telephone-event for DTMF.
// With `redundancy` > 0, RFC 2198 redundancy is listed first under `red_payload_type`:
// "m=audio <port> RTP/AVP 99 8 0", "a=rtpmap:99 red/8000", "a=fmtp:99 8/8/8" (RFC 2198
// section 5, RFC 4102: the primary and each redundant block, here the first enabled G.711
// codec `redundancy` + 1 times). An answer must keep the offerer's number for it.
struct AudioOffer {
  int port = 0;
  bool pcma = true;
  bool pcmu = true;
  bool telephone_event = true;
  int redundancy = 0;  // earlier frames repeated per packet (0-8); 0: RED not listed
  int red_payload_type = 99;
};

// What we put in an offer or an answer. With both, T.38 is listed first; an answer
// should carry exactly one of them.
struct MediaOffer {
  std::optional<T38Offer> t38;
  std::optional<AudioOffer> audio;
  // c= address; empty: the agent's media address.
  std::string address;
};

// One m= section of a received description.
struct MediaSection {
  std::string media;     // "image", "audio", ...
  int port = 0;          // 0: rejected or disabled stream
  std::string protocol;  // "udptl", "RTP/AVP", ...
  std::vector<std::string> formats;     // "t38", "8", "0", "101"
  std::vector<std::string> attributes;  // every a= line of the section, without "a="
  std::string connection_address;       // its own c= line, if any
};

struct SessionDescription {
  std::string origin_session_id;
  std::string origin_version;
  std::string connection_address;  // session-level c=
  std::vector<MediaSection> media;
};

// The media to run: where to send it and how, chosen from a received description.
struct NegotiatedMedia {
  MediaKind kind = MediaKind::kOther;
  std::string address;
  int port = 0;
  int payload_type = -1;                  // audio only: 8 (PCMA) or 0 (PCMU)
  // Audio only: the far end's payload type for RFC 2198 redundancy ("red/8000") carrying
  // that codec; -1 when it listed none we can use. Whether RED is sent is the caller's
  // choice (we only send it when our side offered or answers it).
  int red_payload_type = -1;
  std::vector<std::string> t38_attributes;  // T.38 only: the raw a= lines, without "a="

  bool operator==(const NegotiatedMedia&) const = default;
};

// Parses a received body; fax.sdp_invalid when it is not SDP we can use (no v=, no
// m= line, an m= line that does not parse, no connection address for a stream).
Result<SessionDescription> parse_sdp(std::string_view text);

// The usable stream: T.38 first when `prefer_t38` (and the far end offered it with a
// port), otherwise PCMA, then PCMU. nullopt when nothing usable is there.
// For audio, RED is recognised under whatever payload type the far end chose (its rtpmap
// says red/8000) when its fmtp names only the chosen G.711 codec, or has no fmtp; a RED
// type without rtpmap, or with an fmtp naming other codecs or not parsing, is ignored.
std::optional<NegotiatedMedia> select_media(const SessionDescription& sdp, bool prefer_t38 = true);

// Writes a description. `session_id` and `version` fill the o= line; the version must
// grow with each change of our media (RFC 3264 section 8) and stay put otherwise.
std::string build_sdp(const MediaOffer& offer, std::string_view address, std::uint64_t session_id,
                      std::uint64_t version, std::string_view user = "faxbridge");
// An answer to `offer` (RFC 3264 section 6): one m= line per offered one, in its order;
// the offered T.38 or audio stream we take carries our port and attributes, every other
// line is rejected with port 0.
std::string build_answer_sdp(const MediaOffer& answer, const SessionDescription& offer, std::string_view address,
                             std::uint64_t session_id, std::uint64_t version, std::string_view user = "faxbridge");

}  // namespace faxbridge::sip
