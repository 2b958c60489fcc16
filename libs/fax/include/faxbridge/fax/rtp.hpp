#pragma once
// RTP (RFC 3550) framing for G.711 fax audio, and the fixed-delay jitter buffer fax needs.
// Fax modems tolerate delay but not the time-warping an adaptive buffer does while a
// modem is training, so the playout delay is fixed for the whole call; late packets are
// lost (the session fills them in), early ones wait. Pure logic, no sockets.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "faxbridge/core/result.hpp"

namespace faxbridge::fax {

inline constexpr std::uint8_t kPayloadPcmu = 0;  // G.711 u-law (RFC 3551)
inline constexpr std::uint8_t kPayloadPcma = 8;  // G.711 A-law

struct RtpHeader {
  bool marker = false;
  std::uint8_t payload_type = 0;
  std::uint16_t seq = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
};

// Writes a 12-byte header followed by the payload.
void rtp_write(const RtpHeader& h, std::span<const std::uint8_t> payload, std::vector<std::uint8_t>& out);
// Parses a packet; skips CSRCs and a header extension, removes padding. Refuses anything
// that is not RTP version 2 or whose lengths do not add up (fax.malformed_packet).
struct RtpPacket {
  RtpHeader header;
  std::span<const std::uint8_t> payload;
};
Result<RtpPacket> rtp_parse(std::span<const std::uint8_t> packet);

// RFC 2198 redundant audio ("red/8000" in SDP): each packet carries copies of the frames
// before it ahead of its own, so a receiver recovers up to that many packets lost in a row.
// ITU-T V.152 recommends it for fax as voiceband data; both ends must have agreed on it.
struct AudioBlock {
  std::uint8_t payload_type = 0;
  std::uint32_t timestamp = 0;
  std::span<const std::uint8_t> data;
};
// The RED payload of a packet whose RTP timestamp is `primary.timestamp`: `redundant`
// (oldest first, each earlier than the primary by at most 16383 samples, at most 1023 bytes)
// and then the primary block. Refuses what the 14-bit offset or 10-bit length cannot carry.
Result<void> red_write(std::span<const AudioBlock> redundant, const AudioBlock& primary,
                       std::vector<std::uint8_t>& out);
// Splits a RED payload into its blocks (oldest first); `timestamp` is the packet's. Refuses
// headers or lengths that run past the end (fax.malformed_packet).
Result<std::vector<AudioBlock>> red_parse(std::span<const std::uint8_t> payload, std::uint32_t timestamp);

struct JitterStats {
  std::uint64_t played = 0;
  std::uint64_t missing = 0;   // ticks with no frame (lost or late)
  std::uint64_t late = 0;      // frames that arrived after their playout tick
  std::uint64_t early = 0;     // frames too far ahead to hold
  std::uint64_t duplicates = 0;
  std::uint64_t resyncs = 0;
};

// Plays frames of `frame_samples` at a fixed delay of `delay_frames` ticks after the first
// packet's arrival, ordered by RTP timestamp.
class JitterBuffer {
 public:
  static constexpr int kCapacity = 64;  // frames: 1.28 s of 20 ms audio
  explicit JitterBuffer(int delay_frames = 3, int frame_samples = 160);
  // Stores a received frame; `now` is the receiver's tick count. True when the frame was
  // new (not late, early or a duplicate).
  bool put(std::uint32_t timestamp, std::span<const std::uint8_t> payload, std::uint64_t now);
  // The frame due at tick `now`, if it arrived; call once per tick with increasing `now`.
  std::optional<std::span<const std::uint8_t>> take(std::uint64_t now);
  const JitterStats& stats() const { return stats_; }

 private:
  struct Slot {
    bool full = false;
    std::int64_t index = 0;
    std::vector<std::uint8_t> bytes;
  };
  int delay_;
  int frame_samples_;
  bool started_ = false;
  std::uint32_t ts0_ = 0;     // timestamp of frame index 0
  std::uint64_t tick0_ = 0;   // tick at which frame index 0 plays
  std::int64_t next_play_ = 0;
  std::array<Slot, kCapacity> slots_;
  JitterStats stats_;
};

}  // namespace faxbridge::fax
