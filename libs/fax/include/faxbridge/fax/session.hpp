#pragma once
// One fax call's T.30 engine (spandsp underneath): sends a TIFF Class F file or receives
// into one, either over audio samples (8 kHz linear, for G.711) or over T.38 IFP packets.
// The session owns no socket and no thread: a transport feeds it received media and drives
// it every 20 ms (channel.hpp does that), which is why the same session runs in a unit test,
// in the fast loopback and on a real line. Not thread-safe: one owner thread per session.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "faxbridge/core/error.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/fax/t38_params.hpp"

namespace faxbridge::fax {

inline constexpr int kSampleRate = 8000;
inline constexpr int kSamplesPerTick = 160;  // 20 ms at 8 kHz
inline constexpr std::chrono::milliseconds kTickPeriod{20};

enum class Direction { kSend, kReceive };

struct Modems {
  bool v17 = true;     // 14400..7200 bit/s
  bool v29 = true;     // 9600, 7200 bit/s
  bool v27ter = true;  // 4800, 2400 bit/s
};

// How received pages are stored. T.6 (G4) is what the rest of the system keeps (fax -> PDF
// carries the G4 data as is), so it is the default. With a page sink (channels use one) the
// coding happens off the media thread; without, spandsp codes each page inside the tick
// where it ends (t30_set_rx_encoding).
enum class StoreCompression { kT4OneD, kT4TwoD, kT6 };

// A received page as spandsp decoded it, for storing off the media thread: rows of packed
// pixels, most significant bit first, 1 = black.
struct ReceivedPage {
  int width = 0;         // pixels
  int length = 0;        // rows
  int x_resolution = 0;  // pixels per metre
  int y_resolution = 0;
  int bad_rows = 0;      // rows spandsp could not decode (non-ECM), replaced by their neighbour
  std::string far_ident;  // the sender's TSID, as received before the page
  std::vector<std::uint8_t> bits;  // length * ((width + 7) / 8) bytes
};
using PageSink = std::function<void(ReceivedPage&& page)>;

struct SessionOptions {
  Direction direction = Direction::kSend;
  // Whether this end placed the call (T.30 calling terminal). Defaults to the sender.
  std::optional<bool> calling_party;
  std::string tiff_path;     // the file to send, or the file to receive into
  std::string local_ident;   // TSID when sending, CSID when receiving (T.30 5.3.6.2.4, 20 chars)
  std::string header_info;   // page header text the sender stamps on each page
  bool ecm = true;           // T.30 Annex A error correction mode
  Modems modems;
  // Receiver only: false answers with a DIS that is not ready to receive (T.30 Table 2
  // bit 10), so the sender ends the call with fax.rejected.
  bool accept_document = true;
  StoreCompression store_compression = StoreCompression::kT6;  // receiver only
  // Receiver only: when set, each page is handed here the moment it ends instead of spandsp
  // encoding it into tiff_path inside the tick (a fine A4 page costs ~4 ms of libtiff T.6
  // encoding there); tiff_path then gets only spandsp's empty TIFF shell. The sink runs on
  // the session's thread and must not block.
  PageSink page_sink;
  // Sender only: decode the document into an uncompressed copy in memory (a memfd) when the
  // session is created, so the page starts inside the media tick skip libtiff's G4 decode
  // (~3.5 of ~5 ms for a fine A4 page). Costs the raw pages' memory, ~0.5 MB per fine A4
  // page, for the length of the call.
  bool decode_ahead = false;
  std::string call_id;       // tag on log lines
  bool debug_log = false;    // route spandsp's flow log to our log at debug level
};

enum class Phase { kIdle, kNegotiating, kTransferring, kFinished };

struct Progress {
  Phase phase = Phase::kIdle;
  int page = 0;        // the page being transferred now (1-based), 0 before the first
  int pages_done = 0;  // pages confirmed so far
};

enum class Resolution { kUnknown, kStandard, kFine, kSuperfine, kOther };

struct FaxResult {
  bool success = false;
  int t30_code = -1;            // spandsp's T30_ERR_* completion code
  std::string t30_text;         // t30_completion_code_to_str()
  std::optional<Error> error;   // set when !success: stable fax.* code with t30 context
  bool retryable = false;       // the router may try the job again
  int pages = 0;                // pages sent (sender) or received (receiver)
  int bit_rate = 0;             // last image bit rate, bit/s
  bool ecm_used = false;
  std::string remote_ident;     // far end's CSID (we send) or TSID (we receive)
  Resolution resolution = Resolution::kUnknown;
  int x_resolution = 0;         // pixels per metre, last page
  int y_resolution = 0;         // pixels per metre, last page
  std::chrono::milliseconds duration{0};  // media time, from the first tick to phase E
  // The session was stopped so the call could move to other media (audio -> T.38); not a
  // failure of the call, which goes on in a new session.
  bool media_switched = false;
};

// Maps a T.30 completion code to our stable code. `sending` matters for codes whose
// meaning depends on the side (a missing confirmation after a sent page is in doubt).
Code code_for_t30_completion(int t30_code, bool sending);
// Whether the router may place the call again: the one policy, is_retryable_job (core/error.hpp).
bool is_retryable(Code code);
std::string_view resolution_name(Resolution r);
std::string_view phase_name(Phase p);

class FaxSession {
 public:
  // Called with each IFP packet the T.38 engine wants sent, and how many copies it asks for
  // (3 for indicators, 1 for image data: spandsp's redundancy control).
  using IfpSink = std::function<void(std::span<const std::uint8_t> ifp, int copies)>;

  static Result<std::unique_ptr<FaxSession>> create_audio(const SessionOptions& options);
  static Result<std::unique_ptr<FaxSession>> create_t38(const SessionOptions& options,
                                                        const T38Params& params, IfpSink sink);
  ~FaxSession();
  FaxSession(const FaxSession&) = delete;
  FaxSession& operator=(const FaxSession&) = delete;

  bool is_t38() const;

  // Audio: 8 kHz linear samples in and out. Feed one block per tick; for a lost packet call
  // rx_missing so T.30 timers keep running (spandsp advances them only on received audio).
  void rx_audio(std::span<const std::int16_t> samples);
  void rx_missing(int samples);
  // Fills `out` completely (silence once finished).
  void tx_audio(std::span<std::int16_t> out);

  // T.38: a received IFP packet with its UDPTL sequence number, in sequence order.
  void rx_ifp(std::span<const std::uint8_t> ifp, std::uint16_t seq);
  // T.38: drives the engine by `samples` of time (160 per 20 ms tick).
  void tick_t38(int samples);

  // Ends the call now (the other side hung up, or the job was cancelled). Phase E runs with
  // T30_ERR_CALLDROPPED unless the call had already finished.
  void hangup();
  // Ends this session because the call is switching media (a T.38 re-INVITE after CNG/CED):
  // the result has media_switched set. Meant for before phase B; a document already moving
  // is lost as with hangup().
  void stop_for_media_switch();

  bool finished() const;
  Progress progress() const;
  // The outcome; complete once finished() is true.
  const FaxResult& result() const;
  const SessionOptions& options() const;

  struct Impl;

 private:
  explicit FaxSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace faxbridge::fax
