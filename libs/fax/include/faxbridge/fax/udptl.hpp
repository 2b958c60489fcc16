#pragma once
// UDPTL: the framing of T.38 IFP packets over UDP (ITU-T T.38 clause 9.1 and its ASN.1
// UDPTLPacket), encoded with the ALIGNED variant of PER (X.691):
//
//   UDPTLPacket ::= SEQUENCE {
//     seq-number          INTEGER (0..65535),                 -- 2 octets
//     primary-ifp-packet  TYPE-IDENTIFIER.&Type(IFPPacket),   -- open type: length + octets
//     error-recovery      CHOICE {                            -- 1 bit, padded to the octet
//       secondary-ifp-packets SEQUENCE OF ... IFPPacket,      -- count, then length + octets each
//       fec-info SEQUENCE {
//         fec-npackets INTEGER,                               -- unconstrained: length + octets
//         fec-data     SEQUENCE OF OCTET STRING } } }         -- count, then length + octets each
//
// Length determinants are PER's: one octet below 128, two octets (10xxxxxx) below 16384.
// Fragmented lengths (11xxxxxx) never occur for fax-sized datagrams and are refused.
// The codec is pure and allocation-light; UdptlSender and UdptlReceiver add the sequence
// numbering, redundancy/parity generation and the receive-side recovery and reordering.
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "faxbridge/core/result.hpp"

namespace faxbridge::fax {

// Largest IFP packet we carry; T38FaxMaxDatagram values in the field are 72..1400 and a
// PER length above 16383 would need fragmentation.
inline constexpr std::size_t kMaxIfpBytes = 16383;
// Secondary packets or FEC entries one datagram may carry; T.38 sets no limit, but more
// than a second of 20 ms packets is never useful and bounds the work per datagram.
inline constexpr std::size_t kMaxRecoveryEntries = 64;

enum class UdptlRecovery { kRedundancy, kFec };

// A decoded datagram; the spans point into the datagram that was decoded.
struct UdptlPacket {
  std::uint16_t seq = 0;
  std::span<const std::uint8_t> primary;
  UdptlRecovery recovery = UdptlRecovery::kRedundancy;
  // kRedundancy: secondary[0] is seq-1, secondary[1] is seq-2, ...
  std::vector<std::span<const std::uint8_t>> secondary;
  // kFec: each entry is the XOR of `fec_span` earlier packets (see UdptlSender).
  int fec_span = 0;
  std::vector<std::span<const std::uint8_t>> fec;
};

// Encodes one datagram. Fails (fax.malformed_packet) on empty or oversized IFP packets or
// too many entries.
Result<std::vector<std::uint8_t>> udptl_encode(const UdptlPacket& packet);
// The same into `out` (replaced), reusing its memory: the media path encodes every
// datagram this way, with no allocation once warm.
Result<void> udptl_encode_into(const UdptlPacket& packet, std::vector<std::uint8_t>& out);
// Decodes one datagram; refuses truncated input, bad or fragmented lengths, trailing bytes
// and absurd counts with fax.malformed_packet. Never reads outside `datagram`.
Result<UdptlPacket> udptl_decode(std::span<const std::uint8_t> datagram);
// The same into `out` (replaced, its vectors' memory reused).
Result<void> udptl_decode_into(std::span<const std::uint8_t> datagram, UdptlPacket& out);

struct UdptlOptions {
  UdptlRecovery recovery = UdptlRecovery::kRedundancy;
  // kRedundancy: how many earlier IFP packets ride along in each datagram (0 = none).
  int redundancy = 3;
  // kFec: each parity entry covers `fec_span` packets; `fec_entries` interleaved entries.
  int fec_span = 3;
  int fec_entries = 3;
  // Datagrams larger than this drop redundancy entries, oldest first (T38FaxMaxDatagram).
  std::size_t max_datagram = 1400;
};

// Numbers outgoing IFP packets and builds their datagrams.
class UdptlSender {
 public:
  explicit UdptlSender(UdptlOptions options = {});
  // Builds the datagram for the next IFP packet; the bytes stay valid until the next call.
  Result<std::span<const std::uint8_t>> build(std::span<const std::uint8_t> ifp);
  std::uint16_t next_seq() const { return next_seq_; }

 private:
  UdptlOptions options_;
  std::uint16_t next_seq_ = 0;
  // The most recent IFP packets, newest at history_[(next_seq_-1) % size].
  static constexpr std::size_t kHistory = 256;
  std::array<std::vector<std::uint8_t>, kHistory> history_;
  std::size_t sent_ = 0;
  UdptlPacket packet_;                 // reused for every datagram
  std::vector<std::uint8_t> datagram_;  // the last datagram built
};

struct UdptlStats {
  std::uint64_t datagrams = 0;
  std::uint64_t delivered = 0;
  std::uint64_t recovered_redundancy = 0;
  std::uint64_t recovered_fec = 0;
  std::uint64_t duplicates = 0;     // includes packets arriving after their slot was passed
  std::uint64_t lost = 0;           // sequence numbers skipped without recovery
  std::uint64_t malformed = 0;
  std::uint64_t refused_jumps = 0;  // absurd sequence jumps refused
  std::uint64_t resyncs = 0;
};

// Turns received datagrams into IFP packets in sequence order: drops duplicates, fills gaps
// from redundancy or parity, holds out-of-order packets briefly for their predecessors, and
// refuses absurd sequence jumps (a stray or forged datagram must not derail the call).
class UdptlReceiver {
 public:
  using Deliver = std::function<void(std::span<const std::uint8_t> ifp, std::uint16_t seq)>;

  explicit UdptlReceiver(Deliver deliver);
  // Processes one datagram; errors are counted and returned, state stays consistent.
  Result<void> receive(std::span<const std::uint8_t> datagram);
  // Call once per 20 ms tick: packets that have waited a whole tick for a lost predecessor
  // are delivered and the gap is declared lost.
  void tick();
  const UdptlStats& stats() const { return stats_; }

  // Packets held waiting for a missing predecessor at most; beyond, the gap is given up.
  static constexpr int kWindow = 32;
  // Jumps beyond this many packets (40 s of 20 ms packets) are taken for garbage, unless
  // kResyncRun consecutive packets confirm the new numbering (the far end restarted).
  static constexpr int kMaxJump = 2000;
  static constexpr int kResyncRun = 3;

 private:
  // Every packet seen recently, delivered or not, by seq % kHistory: the undelivered ones
  // wait for delivery, the delivered ones stay for parity recovery.
  static constexpr std::size_t kHistory = 256;
  struct Slot {
    bool valid = false;
    std::uint16_t seq = 0;
    std::vector<std::uint8_t> bytes;
  };

  bool have(std::uint16_t seq) const;
  void store(std::uint16_t seq, std::span<const std::uint8_t> bytes);
  void drain();
  bool any_held() const;
  void skip_to_first_held();
  void recover_from_fec(const UdptlPacket& p);

  Deliver deliver_;
  bool started_ = false;
  std::uint16_t expected_ = 0;
  // The newest sequence number stored. Everything stored is at or before it, so packets are
  // held (stored, waiting for a missing predecessor) exactly when it is ahead of expected_:
  // tick() learns that without scanning the window, for every channel every 20 ms.
  std::uint16_t newest_ = 0;
  int waited_ticks_ = 0;
  std::uint16_t resync_last_ = 0;
  int resync_run_ = 0;
  std::array<Slot, kHistory> slots_;
  UdptlStats stats_;
  UdptlPacket decoded_;  // reused for every datagram
};

}  // namespace faxbridge::fax
