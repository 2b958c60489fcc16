// DESIGN: two spandsp modem_connect_tones detectors run side by side on the received audio:
// one for CNG, one for "CED or V.21 preamble" (spandsp reports which of the two it saw).
// Each signal is reported once; the detectors are freed with the object.
#include "faxbridge/fax/tones.hpp"

#include <spandsp.h>

namespace faxbridge::fax {

std::string_view tone_name(FaxTone t) {
  switch (t) {
    case FaxTone::kCng: return "cng";
    case FaxTone::kCed: return "ced";
    case FaxTone::kV21Preamble: return "v21_preamble";
  }
  return "unknown";
}

struct ToneDetector::Impl {
  Handler handler;
  modem_connect_tones_rx_state_t* cng = nullptr;
  modem_connect_tones_rx_state_t* ced = nullptr;
  std::int64_t samples = 0;
  bool seen[3] = {false, false, false};

  void report(FaxTone t) {
    auto i = static_cast<int>(t);
    if (seen[i]) return;
    seen[i] = true;
    if (handler) handler(t, samples);
  }
  static void on_cng(void* user, int code, int, int) {
    if (code == MODEM_CONNECT_TONES_FAX_CNG) static_cast<Impl*>(user)->report(FaxTone::kCng);
  }
  static void on_ced(void* user, int code, int, int) {
    auto* self = static_cast<Impl*>(user);
    if (code == MODEM_CONNECT_TONES_FAX_CED) self->report(FaxTone::kCed);
    if (code == MODEM_CONNECT_TONES_FAX_PREAMBLE) self->report(FaxTone::kV21Preamble);
  }
};

ToneDetector::ToneDetector(Handler on_tone) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(on_tone);
  impl_->cng = modem_connect_tones_rx_init(nullptr, MODEM_CONNECT_TONES_FAX_CNG, Impl::on_cng, impl_.get());
  impl_->ced = modem_connect_tones_rx_init(nullptr, MODEM_CONNECT_TONES_FAX_CED_OR_PREAMBLE, Impl::on_ced,
                                           impl_.get());
}

ToneDetector::~ToneDetector() {
  if (impl_->cng) modem_connect_tones_rx_free(impl_->cng);
  if (impl_->ced) modem_connect_tones_rx_free(impl_->ced);
}

void ToneDetector::feed(std::span<const std::int16_t> samples) {
  if (samples.empty()) return;
  impl_->samples += static_cast<std::int64_t>(samples.size());
  int n = static_cast<int>(samples.size());
  if (impl_->cng && !impl_->seen[0]) modem_connect_tones_rx(impl_->cng, samples.data(), n);
  if (impl_->ced && !(impl_->seen[1] && impl_->seen[2])) modem_connect_tones_rx(impl_->ced, samples.data(), n);
}

bool ToneDetector::seen(FaxTone t) const { return impl_->seen[static_cast<int>(t)]; }

}  // namespace faxbridge::fax
