// DESIGN: UDPTL framing for T.38 (T.38 clause 9.1), written from the ASN.1 of UDPTLPacket and
// the aligned PER rules of X.691 (see udptl.hpp for the layout). Three parts:
//  - the codec: udptl_encode/udptl_decode, pure functions over byte spans; the decoder checks
//    every length against what is left and refuses anything it cannot account for;
//  - UdptlSender: numbers packets and attaches redundancy (the previous N IFP packets, newest
//    first, as the standard orders secondary-ifp-packets) or interleaved parity (FEC);
//  - UdptlReceiver: a 256-entry history by sequence number. Packets are delivered strictly in
//    order; a gap is first filled from the secondaries or parity carried by later datagrams,
//    otherwise the packets behind it wait one 20 ms tick (reordering on the path) and then the
//    gap is declared lost and spandsp, which sees the sequence numbers, handles it.
// A forged or stray datagram with a wild sequence number is refused rather than allowed to
// move the window; three consecutive packets on the new numbering mean the far end restarted.
#include "faxbridge/fax/udptl.hpp"

#include <algorithm>
#include <string>

namespace faxbridge::fax {

namespace {

Error malformed(std::string what) {
  return Error(Code::k_fax_malformed_packet, "A UDPTL datagram was refused: " + what + ".");
}

// X.691 10.9, aligned variant, unconstrained length: 1 or 2 octets (fragmentation refused).
void put_length(std::vector<std::uint8_t>& out, std::size_t n) {
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    out.push_back(static_cast<std::uint8_t>(0x80 | (n >> 8)));
    out.push_back(static_cast<std::uint8_t>(n & 0xFF));
  }
}

void put_octets(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> b) {
  put_length(out, b.size());
  out.insert(out.end(), b.begin(), b.end());
}

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> d) : d_(d) {}
  bool u8(std::uint8_t& v) {
    if (pos_ >= d_.size()) return false;
    v = d_[pos_++];
    return true;
  }
  // Returns false on truncation or a fragmented (>= 16384) length.
  bool length(std::size_t& n, bool& fragmented) {
    fragmented = false;
    std::uint8_t a = 0;
    if (!u8(a)) return false;
    if ((a & 0x80) == 0) {
      n = a;
      return true;
    }
    if ((a & 0xC0) == 0x80) {
      std::uint8_t b = 0;
      if (!u8(b)) return false;
      n = (static_cast<std::size_t>(a & 0x3F) << 8) | b;
      return true;
    }
    fragmented = true;
    return false;
  }
  bool octets(std::size_t n, std::span<const std::uint8_t>& out) {
    if (n > d_.size() - pos_) return false;
    out = d_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  std::size_t left() const { return d_.size() - pos_; }

 private:
  std::span<const std::uint8_t> d_;
  std::size_t pos_ = 0;
};

// Reads a length determinant followed by that many octets, with a friendly reason on failure.
Result<std::span<const std::uint8_t>> read_octets(Reader& r, const char* what, bool allow_empty) {
  std::size_t n = 0;
  bool fragmented = false;
  if (!r.length(n, fragmented)) {
    return malformed(std::string(fragmented ? "fragmented length of " : "truncated length of ") + what);
  }
  if (n == 0 && !allow_empty) return malformed(std::string("empty ") + what);
  std::span<const std::uint8_t> out;
  if (!r.octets(n, out)) return malformed(std::string(what) + " runs past the end of the datagram");
  return out;
}

int seq_diff(std::uint16_t a, std::uint16_t b) {  // a - b in the circular sequence space
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(a - b));
}

}  // namespace

Result<std::vector<std::uint8_t>> udptl_encode(const UdptlPacket& p) {
  std::vector<std::uint8_t> out;
  if (auto r = udptl_encode_into(p, out); !r) return std::move(r).error();
  return out;
}

Result<void> udptl_encode_into(const UdptlPacket& p, std::vector<std::uint8_t>& out) {
  if (p.primary.empty() || p.primary.size() > kMaxIfpBytes) {
    return malformed("primary IFP packet of " + std::to_string(p.primary.size()) + " bytes");
  }
  out.clear();
  out.reserve(8 + p.primary.size() * 2);
  out.push_back(static_cast<std::uint8_t>(p.seq >> 8));
  out.push_back(static_cast<std::uint8_t>(p.seq & 0xFF));
  put_octets(out, p.primary);
  if (p.recovery == UdptlRecovery::kRedundancy) {
    if (p.secondary.size() > kMaxRecoveryEntries) return malformed("too many secondary packets");
    out.push_back(0x00);  // CHOICE index 0, padded to the octet
    put_length(out, p.secondary.size());
    for (auto s : p.secondary) {
      if (s.empty() || s.size() > kMaxIfpBytes) return malformed("secondary IFP packet size");
      put_octets(out, s);
    }
  } else {
    if (p.fec.size() > kMaxRecoveryEntries || p.fec_span < 0 || p.fec_span > 255) {
      return malformed("FEC parameters out of range");
    }
    out.push_back(0x80);  // CHOICE index 1
    // fec-npackets: unconstrained INTEGER = length octet + minimal two's complement value.
    out.push_back(0x01);
    out.push_back(static_cast<std::uint8_t>(p.fec_span));
    put_length(out, p.fec.size());
    for (auto f : p.fec) {
      if (f.size() > kMaxIfpBytes) return malformed("FEC entry size");
      put_octets(out, f);
    }
  }
  return ok();
}

Result<UdptlPacket> udptl_decode(std::span<const std::uint8_t> datagram) {
  UdptlPacket p;
  if (auto r = udptl_decode_into(datagram, p); !r) return std::move(r).error();
  return p;
}

Result<void> udptl_decode_into(std::span<const std::uint8_t> datagram, UdptlPacket& p) {
  Reader r(datagram);
  p.secondary.clear();
  p.fec.clear();
  p.fec_span = 0;
  std::uint8_t hi = 0, lo = 0;
  if (!r.u8(hi) || !r.u8(lo)) return malformed("shorter than a sequence number");
  p.seq = static_cast<std::uint16_t>((hi << 8) | lo);
  auto primary = read_octets(r, "primary IFP packet", false);
  if (!primary) return std::move(primary).error();
  p.primary = *primary;
  std::uint8_t choice = 0;
  if (!r.u8(choice)) return malformed("no error-recovery field");
  if ((choice & 0x7F) != 0) return malformed("non-zero padding after the error-recovery choice");
  std::size_t count = 0;
  bool fragmented = false;
  if ((choice & 0x80) == 0) {
    p.recovery = UdptlRecovery::kRedundancy;
    if (!r.length(count, fragmented)) return malformed("bad count of secondary packets");
    // Each entry needs at least two octets, which bounds a lying count by the bytes left.
    if (count > kMaxRecoveryEntries || count * 2 > r.left()) {
      return malformed("implausible count of secondary packets");
    }
    p.secondary.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      auto s = read_octets(r, "secondary IFP packet", false);
      if (!s) return std::move(s).error();
      p.secondary.push_back(*s);
    }
  } else {
    p.recovery = UdptlRecovery::kFec;
    std::size_t int_len = 0;
    if (!r.length(int_len, fragmented) || int_len < 1 || int_len > 2) {
      return malformed("bad fec-npackets length");
    }
    int span = 0;
    for (std::size_t i = 0; i < int_len; ++i) {
      std::uint8_t b = 0;
      if (!r.u8(b)) return malformed("truncated fec-npackets");
      span = (span << 8) | b;
    }
    if (span < 1 || span > 255) return malformed("fec-npackets out of range");
    p.fec_span = span;
    if (!r.length(count, fragmented)) return malformed("bad count of FEC entries");
    if (count > kMaxRecoveryEntries || count > r.left()) return malformed("implausible count of FEC entries");
    p.fec.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      auto f = read_octets(r, "FEC entry", true);
      if (!f) return std::move(f).error();
      p.fec.push_back(*f);
    }
  }
  if (r.left() != 0) return malformed(std::to_string(r.left()) + " trailing bytes");
  return ok();
}

UdptlSender::UdptlSender(UdptlOptions options) : options_(options) {
  options_.redundancy = std::clamp(options_.redundancy, 0, static_cast<int>(kMaxRecoveryEntries));
  options_.fec_span = std::clamp(options_.fec_span, 1, 16);
  options_.fec_entries = std::clamp(options_.fec_entries, 1, 16);
}

Result<std::span<const std::uint8_t>> UdptlSender::build(std::span<const std::uint8_t> ifp) {
  if (ifp.empty() || ifp.size() > kMaxIfpBytes) {
    return malformed("outgoing IFP packet of " + std::to_string(ifp.size()) + " bytes");
  }
  UdptlPacket& p = packet_;
  p.secondary.clear();
  p.fec.clear();
  p.seq = next_seq_;
  p.primary = ifp;
  p.recovery = options_.recovery;
  std::vector<std::vector<std::uint8_t>> parity;
  if (options_.recovery == UdptlRecovery::kRedundancy) {
    std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(options_.redundancy), sent_);
    for (std::size_t i = 0; i < n; ++i) {
      p.secondary.push_back(history_[(next_seq_ - 1 - i) % kHistory]);
    }
  } else {
    // Entry m is the XOR of the packets seq - span*entries + m + k*entries, k = 0..span-1:
    // interleaving spreads a burst of losses over different entries.
    const int span = options_.fec_span, entries = options_.fec_entries;
    // Until span*entries packets exist there is nothing to protect: no entries yet.
    p.fec_span = span;
    if (sent_ >= static_cast<std::size_t>(span * entries)) {
      parity.resize(static_cast<std::size_t>(entries));
      for (int m = 0; m < entries; ++m) {
        auto& acc = parity[static_cast<std::size_t>(m)];
        for (int k = 0; k < span; ++k) {
          std::uint16_t q = static_cast<std::uint16_t>(next_seq_ - span * entries + m + k * entries);
          const auto& b = history_[q % kHistory];
          if (acc.size() < b.size()) acc.resize(b.size(), 0);
          for (std::size_t i = 0; i < b.size(); ++i) acc[i] ^= b[i];
        }
      }
      for (const auto& e : parity) p.fec.push_back(e);
    }
  }
  auto out = udptl_encode_into(p, datagram_);
  // Too big for the far end's datagram limit: shed redundancy, oldest first.
  while (out && datagram_.size() > options_.max_datagram && !p.secondary.empty()) {
    p.secondary.pop_back();
    out = udptl_encode_into(p, datagram_);
  }
  if (!out) return std::move(out).error();
  history_[next_seq_ % kHistory].assign(ifp.begin(), ifp.end());
  ++next_seq_;
  ++sent_;
  return std::span<const std::uint8_t>(datagram_);
}

UdptlReceiver::UdptlReceiver(Deliver deliver) : deliver_(std::move(deliver)) {}

bool UdptlReceiver::have(std::uint16_t seq) const {
  const Slot& s = slots_[seq % kHistory];
  return s.valid && s.seq == seq;
}

void UdptlReceiver::store(std::uint16_t seq, std::span<const std::uint8_t> bytes) {
  Slot& s = slots_[seq % kHistory];
  s.valid = true;
  s.seq = seq;
  s.bytes.assign(bytes.begin(), bytes.end());
}

bool UdptlReceiver::any_held() const { return started_ && seq_diff(newest_, expected_) > 0; }

void UdptlReceiver::drain() {
  while (have(expected_)) {
    const Slot& s = slots_[expected_ % kHistory];
    ++stats_.delivered;
    std::uint16_t seq = expected_;
    ++expected_;
    deliver_(s.bytes, seq);
  }
  if (!any_held()) waited_ticks_ = 0;
}

void UdptlReceiver::skip_to_first_held() {
  for (int i = 1; i < kWindow; ++i) {
    std::uint16_t q = static_cast<std::uint16_t>(expected_ + i);
    if (have(q)) {
      stats_.lost += static_cast<std::uint64_t>(i);
      expected_ = q;
      return;
    }
  }
}

void UdptlReceiver::recover_from_fec(const UdptlPacket& p) {
  const int span = p.fec_span;
  const int entries = static_cast<int>(p.fec.size());
  if (span < 1 || entries < 1 || span * entries >= static_cast<int>(kHistory) / 2) return;
  for (int m = 0; m < entries; ++m) {
    int missing = -1, missing_count = 0;
    for (int k = 0; k < span; ++k) {
      std::uint16_t q = static_cast<std::uint16_t>(p.seq - span * entries + m + k * entries);
      if (!have(q)) {
        missing = q;
        ++missing_count;
      }
    }
    if (missing_count != 1) continue;
    std::uint16_t q = static_cast<std::uint16_t>(missing);
    // Only packets still ahead of the delivery point are worth rebuilding.
    if (seq_diff(q, expected_) < 0) continue;
    std::vector<std::uint8_t> acc(p.fec[static_cast<std::size_t>(m)].begin(),
                                  p.fec[static_cast<std::size_t>(m)].end());
    for (int k = 0; k < span; ++k) {
      std::uint16_t o = static_cast<std::uint16_t>(p.seq - span * entries + m + k * entries);
      if (o == q) continue;
      const auto& b = slots_[o % kHistory].bytes;
      for (std::size_t i = 0; i < b.size() && i < acc.size(); ++i) acc[i] ^= b[i];
    }
    // T.38's parity carries no length: the rebuilt packet has the length of the longest in
    // its group (shorter packets come back with zero padding).
    if (acc.empty()) continue;
    store(q, acc);
    ++stats_.recovered_fec;
  }
}

Result<void> UdptlReceiver::receive(std::span<const std::uint8_t> datagram) {
  ++stats_.datagrams;
  if (auto decoded = udptl_decode_into(datagram, decoded_); !decoded) {
    ++stats_.malformed;
    return decoded;
  }
  const UdptlPacket& p = decoded_;
  if (!started_) {
    started_ = true;
    expected_ = p.seq;
    newest_ = p.seq;
  }
  int d = seq_diff(p.seq, expected_);
  if (d > kMaxJump || d < -kMaxJump) {
    // Garbage or a restart. Only a run of consecutive packets may move the window.
    if (resync_run_ > 0 && p.seq == static_cast<std::uint16_t>(resync_last_ + 1)) {
      ++resync_run_;
    } else {
      resync_run_ = 1;
    }
    resync_last_ = p.seq;
    if (resync_run_ < kResyncRun) {
      ++stats_.refused_jumps;
      return Error(Code::k_fax_malformed_packet, "A UDPTL datagram jumps too far in sequence.")
          .with("seq", std::to_string(p.seq))
          .with("expected", std::to_string(expected_));
    }
    ++stats_.resyncs;
    for (auto& s : slots_) s.valid = false;
    // The earlier packets of the run were refused; the new numbering starts here.
    expected_ = p.seq;
    newest_ = p.seq;
    waited_ticks_ = 0;
    d = 0;
  } else {
    resync_run_ = 0;
  }
  if (d < 0 || (d == 0 && have(p.seq)) || (d > 0 && have(p.seq))) {
    ++stats_.duplicates;
    return ok();
  }
  if (d >= kWindow) {
    // Far ahead of a gap we cannot fill in time: deliver what is held and move on.
    while (seq_diff(static_cast<std::uint16_t>(p.seq - (kWindow - 1)), expected_) > 0) {
      if (have(expected_)) {
        drain();
      } else {
        ++stats_.lost;
        ++expected_;
      }
    }
  }
  store(p.seq, p.primary);
  if (seq_diff(p.seq, newest_) > 0) newest_ = p.seq;
  if (p.recovery == UdptlRecovery::kRedundancy) {
    for (std::size_t i = 0; i < p.secondary.size(); ++i) {
      std::uint16_t q = static_cast<std::uint16_t>(p.seq - 1 - i);
      if (seq_diff(q, expected_) < 0) break;  // already delivered or given up
      if (!have(q)) {
        store(q, p.secondary[i]);
        ++stats_.recovered_redundancy;
      }
    }
  } else {
    recover_from_fec(p);
  }
  drain();
  return ok();
}

void UdptlReceiver::tick() {
  if (!any_held()) {
    waited_ticks_ = 0;
    return;
  }
  // Held packets get one full tick for a reordered predecessor to turn up.
  if (++waited_ticks_ < 2) return;
  while (any_held() && !have(expected_)) {
    skip_to_first_held();
    drain();
  }
  waited_ticks_ = 0;
}

}  // namespace faxbridge::fax
