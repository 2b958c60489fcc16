#pragma once
// Fax signal detection on an audio call, so the media gateway can switch it to T.38
// (T.38 clause 7.2: a gateway detects CNG, CED or the V.21 preamble and re-INVITEs):
//   CNG  1100 Hz calling tone, 0.5 s on / 3 s off (T.30 4.1.2), from the caller;
//   CED  2100 Hz answer tone (T.30 4.2.2), from the answerer;
//   V.21 preamble: HDLC flags at 300 bit/s, the start of every T.30 control message.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

namespace faxbridge::fax {

enum class FaxTone { kCng, kCed, kV21Preamble };
std::string_view tone_name(FaxTone t);

class ToneDetector {
 public:
  // `on_tone` is called the first time each signal is recognised, with the sample offset
  // (from the first sample fed) at which it was reported.
  using Handler = std::function<void(FaxTone tone, std::int64_t sample)>;
  explicit ToneDetector(Handler on_tone);
  ~ToneDetector();
  ToneDetector(const ToneDetector&) = delete;
  ToneDetector& operator=(const ToneDetector&) = delete;

  // 8 kHz linear samples.
  void feed(std::span<const std::int16_t> samples);
  bool seen(FaxTone t) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace faxbridge::fax
