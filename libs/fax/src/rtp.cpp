// DESIGN: RTP framing is a pure pack/parse pair. The JitterBuffer anchors on the first
// packet: frame index = (timestamp - first timestamp) / frame size, played at the arrival
// tick + the fixed delay + index. A 64-slot ring holds frames by index; take() is called once
// per tick and frees the slots it passes, so the buffer never grows and never blocks. A frame
// far outside the window (a timestamp jump) re-anchors the buffer instead of silencing the
// rest of the call.
#include "faxbridge/fax/rtp.hpp"

#include <string>

namespace faxbridge::fax {

namespace {
Error malformed(std::string what) {
  return Error(Code::k_fax_malformed_packet, "An RTP packet was refused: " + what + ".");
}
}  // namespace

void rtp_write(const RtpHeader& h, std::span<const std::uint8_t> payload, std::vector<std::uint8_t>& out) {
  out.clear();
  out.reserve(12 + payload.size());
  out.push_back(0x80);  // V=2, P=0, X=0, CC=0
  out.push_back(static_cast<std::uint8_t>((h.marker ? 0x80 : 0) | (h.payload_type & 0x7F)));
  out.push_back(static_cast<std::uint8_t>(h.seq >> 8));
  out.push_back(static_cast<std::uint8_t>(h.seq));
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(h.timestamp >> s));
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(h.ssrc >> s));
  out.insert(out.end(), payload.begin(), payload.end());
}

Result<RtpPacket> rtp_parse(std::span<const std::uint8_t> p) {
  if (p.size() < 12) return malformed("shorter than the fixed header");
  if ((p[0] >> 6) != 2) return malformed("not version 2");
  std::size_t off = 12 + 4u * (p[0] & 0x0F);
  if (off > p.size()) return malformed("CSRC list runs past the end");
  if (p[0] & 0x10) {
    if (off + 4 > p.size()) return malformed("extension header runs past the end");
    std::size_t words = (static_cast<std::size_t>(p[off + 2]) << 8) | p[off + 3];
    off += 4 + 4 * words;
    if (off > p.size()) return malformed("extension runs past the end");
  }
  std::size_t end = p.size();
  if (p[0] & 0x20) {
    std::size_t pad = p[p.size() - 1];
    if (pad == 0 || pad > end - off) return malformed("bad padding");
    end -= pad;
  }
  RtpPacket r;
  r.header.marker = (p[1] & 0x80) != 0;
  r.header.payload_type = p[1] & 0x7F;
  r.header.seq = static_cast<std::uint16_t>((p[2] << 8) | p[3]);
  r.header.timestamp = (static_cast<std::uint32_t>(p[4]) << 24) | (static_cast<std::uint32_t>(p[5]) << 16) |
                       (static_cast<std::uint32_t>(p[6]) << 8) | p[7];
  r.header.ssrc = (static_cast<std::uint32_t>(p[8]) << 24) | (static_cast<std::uint32_t>(p[9]) << 16) |
                  (static_cast<std::uint32_t>(p[10]) << 8) | p[11];
  r.payload = p.subspan(off, end - off);
  return r;
}

Result<void> red_write(std::span<const AudioBlock> redundant, const AudioBlock& primary,
                       std::vector<std::uint8_t>& out) {
  // RFC 2198 section 3: a 4-byte header per redundant block (F=1, PT, 14-bit timestamp
  // offset, 10-bit length), a 1-byte header for the primary (F=0, PT), then the blocks.
  out.clear();
  for (const auto& b : redundant) {
    std::uint32_t offset = primary.timestamp - b.timestamp;
    if (offset > 0x3FFF || b.data.size() > 0x3FF) {
      return Error(Code::k_fax_malformed_packet, "A redundant audio block does not fit RFC 2198's header.")
          .with("offset", std::to_string(offset))
          .with("bytes", std::to_string(b.data.size()));
    }
    out.push_back(static_cast<std::uint8_t>(0x80 | (b.payload_type & 0x7F)));
    out.push_back(static_cast<std::uint8_t>(offset >> 6));
    out.push_back(static_cast<std::uint8_t>(((offset & 0x3F) << 2) | (b.data.size() >> 8)));
    out.push_back(static_cast<std::uint8_t>(b.data.size()));
  }
  out.push_back(static_cast<std::uint8_t>(primary.payload_type & 0x7F));
  for (const auto& b : redundant) out.insert(out.end(), b.data.begin(), b.data.end());
  out.insert(out.end(), primary.data.begin(), primary.data.end());
  return ok();
}

Result<std::vector<AudioBlock>> red_parse(std::span<const std::uint8_t> p, std::uint32_t timestamp) {
  std::vector<AudioBlock> blocks;
  std::vector<std::size_t> lengths;
  std::size_t off = 0;
  for (;;) {
    if (off >= p.size()) return malformed("RED headers run past the end");
    if (!(p[off] & 0x80)) {
      blocks.push_back({static_cast<std::uint8_t>(p[off] & 0x7F), timestamp, {}});
      ++off;
      break;
    }
    if (off + 4 > p.size()) return malformed("a RED block header runs past the end");
    std::uint32_t offset = (static_cast<std::uint32_t>(p[off + 1]) << 6) | (p[off + 2] >> 2);
    std::size_t length = (static_cast<std::size_t>(p[off + 2] & 0x03) << 8) | p[off + 3];
    blocks.push_back({static_cast<std::uint8_t>(p[off] & 0x7F), timestamp - offset, {}});
    lengths.push_back(length);
    off += 4;
  }
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] > p.size() - off) return malformed("a RED block runs past the end");
    blocks[i].data = p.subspan(off, lengths[i]);
    off += lengths[i];
  }
  blocks.back().data = p.subspan(off);  // the primary takes the rest
  return blocks;
}

JitterBuffer::JitterBuffer(int delay_frames, int frame_samples)
    : delay_(delay_frames < 0 ? 0 : (delay_frames >= kCapacity / 2 ? kCapacity / 2 - 1 : delay_frames)),
      frame_samples_(frame_samples > 0 ? frame_samples : 160) {}

bool JitterBuffer::put(std::uint32_t timestamp, std::span<const std::uint8_t> payload, std::uint64_t now) {
  if (payload.empty()) return false;
  if (!started_) {
    started_ = true;
    ts0_ = timestamp;
    tick0_ = now + static_cast<std::uint64_t>(delay_);
    next_play_ = 0;
  }
  std::int64_t index =
      static_cast<std::int32_t>(timestamp - ts0_) / static_cast<std::int64_t>(frame_samples_);
  // Where the sender's clock jumped (a new talk spurt after a long gap, a restart), a frame
  // lands far outside the window: re-anchor on it rather than dropping the rest of the call.
  std::int64_t playing_now = static_cast<std::int64_t>(now) - static_cast<std::int64_t>(tick0_);
  if (index > playing_now + kCapacity || index < playing_now - kCapacity) {
    ++stats_.resyncs;
    for (auto& s : slots_) s.full = false;
    ts0_ = timestamp;
    tick0_ = now + static_cast<std::uint64_t>(delay_);
    next_play_ = 0;
    index = 0;
  }
  if (index < next_play_) {
    ++stats_.late;
    return false;
  }
  if (index >= next_play_ + kCapacity) {
    ++stats_.early;
    return false;
  }
  Slot& s = slots_[static_cast<std::size_t>(index % kCapacity)];
  if (s.full && s.index == index) {
    ++stats_.duplicates;
    return false;
  }
  s.full = true;
  s.index = index;
  s.bytes.assign(payload.begin(), payload.end());
  return true;
}

std::optional<std::span<const std::uint8_t>> JitterBuffer::take(std::uint64_t now) {
  if (!started_ || now < tick0_) return std::nullopt;
  std::int64_t index = static_cast<std::int64_t>(now - tick0_);
  // Frames whose tick passed without a take() are skipped.
  while (next_play_ < index) {
    Slot& s = slots_[static_cast<std::size_t>(next_play_ % kCapacity)];
    if (s.full && s.index == next_play_) s.full = false;
    ++next_play_;
  }
  Slot& s = slots_[static_cast<std::size_t>(index % kCapacity)];
  next_play_ = index + 1;
  if (s.full && s.index == index) {
    s.full = false;
    ++stats_.played;
    return std::span<const std::uint8_t>(s.bytes);
  }
  ++stats_.missing;
  return std::nullopt;
}

}  // namespace faxbridge::fax
