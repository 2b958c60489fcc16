// DESIGN: FaxSession wraps one spandsp T.30 engine, either fax_state_t (T.30 + V.21/V.27ter/
// V.29/V.17 modems over 8 kHz audio) or t38_terminal_state_t (T.30 + T.38 IFP). Lifecycle:
// create_*() allocates and configures the engine (ECM, modems, compressions, identity, file)
// and installs the phase B/D/E handlers; the owner then feeds media and calls the tick
// functions until finished(); phase E fills the FaxResult exactly once, and the destructor
// frees the engine (spandsp closes the TIFF in phase E, pitfall 11 of the spandsp notes, so a
// session destroyed before phase E is terminated first). The time base is the media itself:
// every tick adds 160 samples, so durations and T.30 timers agree in fast and real-time mode.
// spandsp has no locking (pitfall 10): the owner thread does all calls.
#include "faxbridge/fax/session.hpp"

// The receive side reaches the T.4 state inside T.30 (t30_state_t::t4) to install a row
// handler; spandsp installs its private structures for embedders that need this.
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <spandsp.h>

#include <algorithm>
#include <cstring>
#include <string>

#include <sys/mman.h>
#include <unistd.h>

#include "faxbridge/core/log.hpp"
#include "faxbridge/fax/tiff_pages.hpp"
#include "page_buffers.hpp"

namespace faxbridge::fax {

namespace {

// spandsp's log callbacks carry no user data (pitfall 12): the call id rides in the tag.
void spandsp_message(int level, const char* text) {
  std::string_view line(text ? text : "");
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (level <= SPAN_LOG_ERROR) {
    log::warn("fax.spandsp", {{"text", line}});
  } else {
    log::debug("fax.spandsp", {{"text", line}});
  }
}

void setup_logging(logging_state_t* ls, const SessionOptions& o, const char* protocol) {
  if (!ls) return;
  span_log_set_message_handler(ls, spandsp_message);
  int level = o.debug_log ? SPAN_LOG_FLOW : SPAN_LOG_ERROR;
  span_log_set_level(ls, level | SPAN_LOG_SHOW_TAG | SPAN_LOG_SHOW_PROTOCOL);
  span_log_set_tag(ls, o.call_id.empty() ? "fax" : o.call_id.c_str());
  span_log_set_protocol(ls, protocol);
}

Resolution resolution_from_y(int y) {
  switch (y) {
    case 0: return Resolution::kUnknown;
    case T4_Y_RESOLUTION_STANDARD: return Resolution::kStandard;
    case T4_Y_RESOLUTION_FINE: return Resolution::kFine;
    case T4_Y_RESOLUTION_SUPERFINE: return Resolution::kSuperfine;
    default: return Resolution::kOther;
  }
}

}  // namespace

Code code_for_t30_completion(int t30_code, bool sending) {
  switch (t30_code) {
    case T30_ERR_OK: return Code::k_internal;  // not an error; callers check success first
    // Nobody (or no fax machine) answered in time: try again later.
    case T30_ERR_CEDTONE:
    case T30_ERR_T0_EXPIRED:
    case T30_ERR_T1_EXPIRED:
    case T30_ERR_T3_EXPIRED:
    case T30_ERR_OPER_INT_FAIL:
    case T30_ERR_TX_PHBDEAD:
    case T30_ERR_TX_T5EXP:
    case T30_ERR_RX_NOFAX:
    case T30_ERR_RX_NOEOL:
    case T30_ERR_RX_T2EXPDCN:
    case T30_ERR_RX_T2EXPD:
    case T30_ERR_RX_T2EXPFAX:
    case T30_ERR_RX_T2EXPMPS:
    case T30_ERR_RX_T2EXPRR:
    case T30_ERR_RX_T2EXP:
      return Code::k_fax_timeout;
    case T30_ERR_CANNOT_TRAIN:
    case T30_ERR_TX_BADDCS:
      return Code::k_fax_training_failed;
    // spandsp reports "no compatible modem" (and no common coding) as INCOMPATIBLE.
    case T30_ERR_INCOMPATIBLE:
      return Code::k_fax_no_common_modem;
    case T30_ERR_TX_INCAPABLE:
    case T30_ERR_NORESSUPPORT:
    case T30_ERR_NOSIZESUPPORT:
      return Code::k_fax_remote_incompatible;
    case T30_ERR_HDLC_CARRIER:
    case T30_ERR_UNEXPECTED:
    case T30_ERR_TX_ECMPHD:
    case T30_ERR_TX_INVALRSP:
    case T30_ERR_TX_NODIS:
    case T30_ERR_RX_ECMPHD:
    case T30_ERR_RX_GOTDCS:
    case T30_ERR_RX_INVALCMD:
    case T30_ERR_RETRYDCN:
      return Code::k_fax_protocol_error;
    // The far end said DCN where it should have answered: it refused us.
    case T30_ERR_RX_INCAPABLE:  // the receiver's DIS says it will not take a document
    case T30_ERR_NOPOLL:
    case T30_ERR_IDENT_UNACCEPTABLE:
    case T30_ERR_SUB_UNACCEPTABLE:
    case T30_ERR_SEP_UNACCEPTABLE:
    case T30_ERR_PSA_UNACCEPTABLE:
    case T30_ERR_SID_UNACCEPTABLE:
    case T30_ERR_PWD_UNACCEPTABLE:
    case T30_ERR_TSA_UNACCEPTABLE:
    case T30_ERR_IRA_UNACCEPTABLE:
    case T30_ERR_CIA_UNACCEPTABLE:
    case T30_ERR_ISP_UNACCEPTABLE:
    case T30_ERR_CSA_UNACCEPTABLE:
      return Code::k_fax_rejected;
    // A page went out and no confirmation came back: the receiver may have it
    // (STYLE.md: a send past phase C is in doubt, not resent automatically).
    case T30_ERR_TX_PHDDEAD:
      return sending ? Code::k_fax_outcome_unknown : Code::k_fax_call_dropped;
    case T30_ERR_TX_BADPG:
    // DCN before any DIS: the far end gave up on the call (seen when its timers ran out),
    // not a statement about the document, so the job may try again.
    case T30_ERR_TX_GOTDCN:
    case T30_ERR_RX_NOCARRIER:
    case T30_ERR_RX_DCNWHY:
    case T30_ERR_RX_DCNDATA:
    case T30_ERR_RX_DCNFAX:
    case T30_ERR_RX_DCNPHD:
    case T30_ERR_RX_DCNRRD:
    case T30_ERR_RX_DCNNORTN:
    case T30_ERR_CALLDROPPED:
      return Code::k_fax_call_dropped;
    case T30_ERR_FILEERROR:
    case T30_ERR_NOPAGE:
    case T30_ERR_BADTIFF:
    case T30_ERR_BADPAGE:
    case T30_ERR_BADTAG:
    case T30_ERR_BADTIFFHDR:
    case T30_ERR_NOMEM:
      return Code::k_fax_file_error;
    default:
      return Code::k_fax_protocol_error;
  }
}

bool is_retryable(Code code) { return is_retryable_job(code); }

std::string_view resolution_name(Resolution r) {
  switch (r) {
    case Resolution::kUnknown: return "unknown";
    case Resolution::kStandard: return "standard";
    case Resolution::kFine: return "fine";
    case Resolution::kSuperfine: return "superfine";
    case Resolution::kOther: return "other";
  }
  return "unknown";
}

std::string_view phase_name(Phase p) {
  switch (p) {
    case Phase::kIdle: return "idle";
    case Phase::kNegotiating: return "negotiating";
    case Phase::kTransferring: return "transferring";
    case Phase::kFinished: return "finished";
  }
  return "idle";
}

struct FaxSession::Impl {
  SessionOptions options;
  fax_state_t* audio = nullptr;
  t38_terminal_state_t* t38 = nullptr;
  t30_state_t* t30 = nullptr;
  IfpSink sink;
  Progress progress;
  FaxResult result;
  std::int64_t samples = 0;  // media time so far
  bool finished = false;
  // Modems the far end offered in its last DIS (T.30 Table 2, bits 11-14).
  bool far_dis_seen = false;
  Modems far_modems;
  int prepared_fd = -1;       // memfd with the decoded copy of the document to send
  bool switching = false;     // stop_for_media_switch() ended the session
  ReceivedPage page;          // page_sink: rows of the page spandsp is handing over

  bool sending() const { return options.direction == Direction::kSend; }

  ~Impl() {
    // Phase E closes the TIFF; *_free alone would leave a half-written file open.
    if (t30 && !finished) t30_terminate(t30);
    if (audio) fax_free(audio);
    if (t38) t38_terminal_free(t38);
    if (prepared_fd >= 0) ::close(prepared_fd);
  }

  static void on_frame(t30_state_t*, void* user, int incoming, const uint8_t* msg, int len) {
    auto* self = static_cast<Impl*>(user);
    // [address, control, FCF, FIF...]; DIS is FCF 0x80 (T.30 5.3.6.1). The data signalling
    // rate sits in FIF bits 11-14 (second FIF octet, bits 3-6 counting the LSB as bit 1):
    // bit 11 = V.29, bit 12 = V.27ter, bit 14 (with 11 and 12) = V.17; all clear = V.27ter
    // fall-back mode.
    if (!incoming || len < 5 || msg[2] != T30_DIS) return;
    std::uint8_t b = msg[4];
    bool v29 = b & 0x04, v27 = b & 0x08, v17 = b & 0x20;
    self->far_dis_seen = true;
    self->far_modems = Modems{v17, v29, v27 || (b & 0x3C) == 0};
  }

  static int on_phase_b(t30_state_t*, void* user, int result) {
    auto* self = static_cast<Impl*>(user);
    if (self->sending() && result == T30_DIS && self->far_dis_seen) {
      // spandsp 0.0.6 always keeps V.27ter as a fall-back whatever we allow, so a sender
      // limited to faster modems would still train at 4800: refuse the call instead.
      const Modems& m = self->options.modems;
      const Modems& f = self->far_modems;
      if (!((m.v17 && f.v17) || (m.v29 && f.v29) || (m.v27ter && f.v27ter))) {
        log::info("fax.no_common_modem", {{"call", self->options.call_id}});
        return T30_ERR_INCOMPATIBLE;
      }
    }
    if (self->progress.phase != Phase::kTransferring) {
      log::info("fax.state", {{"call", self->options.call_id}, {"from", phase_name(self->progress.phase)},
                              {"to", phase_name(Phase::kTransferring)}});
    }
    self->progress.phase = Phase::kTransferring;
    self->progress.page = self->progress.pages_done + 1;
    return T30_ERR_OK;
  }

  static int on_phase_d(t30_state_t* t30, void* user, int /*result*/) {
    auto* self = static_cast<Impl*>(user);
    t30_stats_t st;
    t30_get_transfer_statistics(t30, &st);
    self->progress.pages_done = self->sending() ? st.pages_tx : st.pages_rx;
    self->progress.page = self->progress.pages_done + 1;
    log::info("fax.page", {{"call", self->options.call_id},
                            {"pages", self->progress.pages_done},
                            {"rate", st.bit_rate}});
    return T30_ERR_OK;
  }

  static void on_phase_e(t30_state_t* t30, void* user, int code) {
    auto* self = static_cast<Impl*>(user);
    if (self->finished) return;
    self->finished = true;
    self->progress.phase = Phase::kFinished;
    t30_stats_t st;
    t30_get_transfer_statistics(t30, &st);
    FaxResult& r = self->result;
    r.t30_code = code;
    const char* text = t30_completion_code_to_str(code);
    r.t30_text = text ? text : "";
    r.pages = self->sending() ? st.pages_tx : st.pages_rx;
    self->progress.pages_done = r.pages;
    r.bit_rate = st.bit_rate;
    r.ecm_used = st.error_correcting_mode != 0;
    const char* remote = t30_get_rx_ident(t30);
    r.remote_ident = remote ? remote : "";
    r.x_resolution = st.x_resolution;
    r.y_resolution = st.y_resolution;
    r.resolution = resolution_from_y(st.y_resolution);
    r.duration = std::chrono::milliseconds(self->samples * 1000 / kSampleRate);
    r.success = code == T30_ERR_OK;
    r.media_switched = self->switching;
    if (!r.success) {
      Code c = code_for_t30_completion(code, self->sending());
      Error e(c, "The fax call failed: " + r.t30_text + ".");
      e.with("t30_code", std::to_string(code)).with("pages", std::to_string(r.pages));
      r.retryable = is_retryable(c);
      r.error = std::move(e);
    }
    log::info("fax.finished", {{"call", self->options.call_id},
                               {"ok", r.success},
                               {"t30_code", code},
                               {"t30_text", r.t30_text},
                               {"pages", r.pages},
                               {"rate", r.bit_rate},
                               {"ecm", r.ecm_used}});
  }

  // spandsp 0.0.6 calls a T.4 row handler, when one is set, for every row of a page when it
  // ends (t4_rx_end_page), then once with no row, and writes no TIFF page itself.
  static int on_row(void* user, const uint8_t* row, size_t len) {
    auto* self = static_cast<Impl*>(user);
    ReceivedPage& p = self->page;
    if (row && len > 0) {
      if (p.length == 0) {
        p.bits = page_buffers::take();
        p.bits.reserve(len * 2400);  // a fine A4 page is 2,286 rows
      }
      p.bits.insert(p.bits.end(), row, row + len);
      ++p.length;
      return 0;
    }
    t4_stats_t st;
    t4_rx_get_transfer_statistics(&self->t30->t4.rx, &st);
    p.width = st.width;
    p.x_resolution = st.x_resolution;
    p.y_resolution = st.y_resolution;
    p.bad_rows = st.bad_rows;
    const char* far = t30_get_rx_ident(self->t30);
    p.far_ident = far ? far : "";
    if (p.length > 0) self->options.page_sink(std::move(p));
    p = ReceivedPage{};
    return 0;
  }

  // t4_rx_init (run when the DCS arrives, inside a spandsp call) clears the T.4 state with
  // its handler, so the handler is put back after each call into spandsp; a page cannot end
  // in the same call that received the DCS (training and image data follow it).
  void keep_row_handler() {
    if (!options.page_sink || sending()) return;
    t4_rx_state_t* rx = &t30->t4.rx;
    if (rx->t4_t6_rx.row_write_handler != &Impl::on_row) t4_rx_set_row_write_handler(rx, &Impl::on_row, this);
  }

  static int on_ifp(t38_core_state_t*, void* user, const uint8_t* buf, int len, int count) {
    auto* self = static_cast<Impl*>(user);
    if (self->sink && len > 0) self->sink(std::span<const std::uint8_t>(buf, len), count);
    return 0;
  }

  Result<void> configure_t30() {
    if (!t30) return Error(Code::k_internal, "spandsp returned no T.30 state.");
    const SessionOptions& o = options;
    if (o.tiff_path.empty()) {
      return Error(Code::k_fax_file_error, "A fax session needs a TIFF file to send or receive into.");
    }
    if (o.local_ident.size() > 20) {
      return Error(Code::k_fax_file_error, "The local fax ident is longer than the 20 characters T.30 allows.")
          .with("ident", o.local_ident);
    }
    int modems = (o.modems.v17 ? T30_SUPPORT_V17 : 0) | (o.modems.v29 ? T30_SUPPORT_V29 : 0) |
                 (o.modems.v27ter ? T30_SUPPORT_V27TER : 0);
    if (modems == 0) {
      return Error(Code::k_fax_no_common_modem, "At least one of V.17, V.29 and V.27ter must be allowed.");
    }
    t30_set_supported_modems(t30, modems);
    t30_set_ecm_capability(t30, o.ecm ? 1 : 0);
    // T.6 is only legal with ECM (T.30 Annex A); spandsp drops it itself when ECM is off.
    t30_set_supported_compressions(
        t30, T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION);
    // spandsp re-encodes received pages (pitfall 5); the coding is the caller's choice.
    switch (o.store_compression) {
      case StoreCompression::kT4OneD: t30_set_rx_encoding(t30, T4_COMPRESSION_ITU_T4_1D); break;
      case StoreCompression::kT4TwoD: t30_set_rx_encoding(t30, T4_COMPRESSION_ITU_T4_2D); break;
      case StoreCompression::kT6: t30_set_rx_encoding(t30, T4_COMPRESSION_ITU_T6); break;
    }
    t30_set_supported_resolutions(t30, T30_SUPPORT_STANDARD_RESOLUTION | T30_SUPPORT_FINE_RESOLUTION |
                                           T30_SUPPORT_SUPERFINE_RESOLUTION);
    t30_set_supported_image_sizes(t30, T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_255MM_WIDTH |
                                           T30_SUPPORT_303MM_WIDTH | T30_SUPPORT_UNLIMITED_LENGTH |
                                           T30_SUPPORT_A4_LENGTH | T30_SUPPORT_B4_LENGTH |
                                           T30_SUPPORT_US_LETTER_LENGTH | T30_SUPPORT_US_LEGAL_LENGTH);
    if (!o.local_ident.empty()) t30_set_tx_ident(t30, o.local_ident.c_str());
    if (!o.header_info.empty()) t30_set_tx_page_header_info(t30, o.header_info.c_str());
    if (sending()) {
      std::string file = o.tiff_path;
      if (o.decode_ahead) {
        prepared_fd = ::memfd_create("faxbridge-tx", MFD_CLOEXEC);
        if (prepared_fd < 0) {
          return Error(Code::k_fax_file_error, "No memory file for the decoded document could be made.")
              .with("reason", std::strerror(errno));
        }
        // spandsp opens its file by name.
        file = "/proc/self/fd/" + std::to_string(prepared_fd);
        if (auto w = write_uncompressed_copy(o.tiff_path, file); !w) return std::move(w).error();
      }
      t30_set_tx_file(t30, file.c_str(), -1, -1);
    } else if (o.accept_document) {
      t30_set_rx_file(t30, o.tiff_path.c_str(), -1);
    }
    // Without a receive file spandsp's DIS leaves "ready to receive" clear (T.30 Table 2,
    // bit 10): the standard way for a receiver to refuse, which the sender reports as
    // "far end is not able to receive".
    t30_set_phase_b_handler(t30, on_phase_b, this);
    t30_set_phase_d_handler(t30, on_phase_d, this);
    t30_set_phase_e_handler(t30, on_phase_e, this);
    t30_set_real_time_frame_handler(t30, on_frame, this);
    setup_logging(t30_get_logging_state(t30), o, "T.30");
    progress.phase = Phase::kNegotiating;
    return ok();
  }
};

FaxSession::FaxSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FaxSession::~FaxSession() = default;

Result<std::unique_ptr<FaxSession>> FaxSession::create_audio(const SessionOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  bool calling = options.calling_party.value_or(options.direction == Direction::kSend);
  impl->audio = fax_init(nullptr, calling ? 1 : 0);
  if (!impl->audio) return Error(Code::k_internal, "spandsp could not create a fax engine.");
  // The modems must keep sending (silence) between bursts or the far end's timing drifts
  // (pitfall 7).
  fax_set_transmit_on_idle(impl->audio, 1);
  fax_set_tep_mode(impl->audio, 0);
  impl->t30 = fax_get_t30_state(impl->audio);
  setup_logging(fax_get_logging_state(impl->audio), options, "FAX");
  if (auto r = impl->configure_t30(); !r) return std::move(r).error();
  return std::unique_ptr<FaxSession>(new FaxSession(std::move(impl)));
}

Result<std::unique_ptr<FaxSession>> FaxSession::create_t38(const SessionOptions& options,
                                                           const T38Params& params, IfpSink sink) {
  if (params.version < 0 || params.version > 3) {
    return Error(Code::k_fax_sdp_invalid, "T38FaxVersion must be 0 to 3.")
        .with("version", std::to_string(params.version));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // T38MaxBitRate caps the image modem. spandsp's terminal does not apply
  // t38_set_fastest_image_data_rate to T.30's choice, so drop the modems that would exceed
  // it: V.17 starts at 14400, V.29 runs at 9600/7200, V.27ter at 4800/2400.
  if (params.max_bit_rate < 14400) impl->options.modems.v17 = false;
  if (params.max_bit_rate < 7200) impl->options.modems.v29 = false;
  impl->sink = std::move(sink);
  bool calling = options.calling_party.value_or(options.direction == Direction::kSend);
  impl->t38 = t38_terminal_init(nullptr, calling ? 1 : 0, Impl::on_ifp, impl.get());
  if (!impl->t38) return Error(Code::k_internal, "spandsp could not create a T.38 terminal.");
  // Pacing stays on: over UDP the IFP stream must follow the modem timing (pitfall 9).
  t38_terminal_set_config(impl->t38, 0);
  t38_terminal_set_tep_mode(impl->t38, 0);
  t38_terminal_set_fill_bit_removal(impl->t38, params.fill_bit_removal ? 1 : 0);
  t38_core_state_t* core = t38_terminal_get_t38_core_state(impl->t38);
  t38_set_t38_version(core, params.version);
  t38_set_fastest_image_data_rate(core, params.max_bit_rate);
  t38_set_data_rate_management_method(core, params.rate_management == RateManagement::kLocalTcf
                                                ? T38_DATA_RATE_MANAGEMENT_LOCAL_TCF
                                                : T38_DATA_RATE_MANAGEMENT_TRANSFERRED_TCF);
  if (params.max_buffer > 0) t38_set_max_buffer_size(core, params.max_buffer);
  if (params.max_datagram > 0) t38_set_max_datagram_size(core, params.max_datagram);
  t38_set_fill_bit_removal(core, params.fill_bit_removal ? 1 : 0);
  t38_set_mmr_transcoding(core, params.transcoding_mmr ? 1 : 0);
  t38_set_jbig_transcoding(core, params.transcoding_jbig ? 1 : 0);
  // UDPTL hands packets over in order with their real sequence numbers, so spandsp can see
  // the gaps redundancy could not fill and react to them.
  t38_set_sequence_number_handling(core, 1);
  impl->t30 = t38_terminal_get_t30_state(impl->t38);
  setup_logging(t38_terminal_get_logging_state(impl->t38), options, "T.38");
  setup_logging(t38_core_get_logging_state(core), options, "T.38");
  if (auto r = impl->configure_t30(); !r) return std::move(r).error();
  return std::unique_ptr<FaxSession>(new FaxSession(std::move(impl)));
}

bool FaxSession::is_t38() const { return impl_->t38 != nullptr; }

void FaxSession::rx_audio(std::span<const std::int16_t> samples) {
  if (!impl_->audio || impl_->finished || samples.empty()) return;
  // fax_rx takes a non-const pointer but does not write through it.
  fax_rx(impl_->audio, const_cast<int16_t*>(samples.data()), static_cast<int>(samples.size()));
  impl_->keep_row_handler();
}

void FaxSession::rx_missing(int samples) {
  if (!impl_->audio || impl_->finished || samples <= 0) return;
  fax_rx_fillin(impl_->audio, samples);
  impl_->keep_row_handler();
}

void FaxSession::tx_audio(std::span<std::int16_t> out) {
  if (!impl_->audio || impl_->finished) {
    std::fill(out.begin(), out.end(), 0);
    return;
  }
  impl_->samples += static_cast<std::int64_t>(out.size());
  int n = fax_tx(impl_->audio, out.data(), static_cast<int>(out.size()));
  if (n < 0) n = 0;
  if (static_cast<std::size_t>(n) < out.size()) std::fill(out.begin() + n, out.end(), 0);
  impl_->keep_row_handler();
}

void FaxSession::rx_ifp(std::span<const std::uint8_t> ifp, std::uint16_t seq) {
  if (!impl_->t38 || impl_->finished || ifp.empty()) return;
  t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(impl_->t38), ifp.data(),
                         static_cast<int>(ifp.size()), seq);
  impl_->keep_row_handler();
}

void FaxSession::tick_t38(int samples) {
  if (!impl_->t38 || impl_->finished) return;
  impl_->samples += samples;
  if (t38_terminal_send_timeout(impl_->t38, samples) && !impl_->finished) {
    // The terminal says the call is over but phase E has not run: force it so the
    // result is complete.
    t30_terminate(impl_->t30);
  }
  impl_->keep_row_handler();
}

void FaxSession::stop_for_media_switch() {
  if (impl_->finished || !impl_->t30) return;
  log::info("fax.media_switch", {{"call", impl_->options.call_id}, {"phase", phase_name(impl_->progress.phase)}});
  impl_->switching = true;
  t30_terminate(impl_->t30);
}

void FaxSession::hangup() {
  if (impl_->finished || !impl_->t30) return;
  log::info("fax.hangup", {{"call", impl_->options.call_id}});
  t30_terminate(impl_->t30);
}

bool FaxSession::finished() const { return impl_->finished; }
Progress FaxSession::progress() const { return impl_->progress; }
const FaxResult& FaxSession::result() const { return impl_->result; }
const SessionOptions& FaxSession::options() const { return impl_->options; }

}  // namespace faxbridge::fax
