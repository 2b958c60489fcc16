#pragma once
// What a failed outbound call leaves on its attempt row for diagnosis (attempts.diagnostics):
// the first lines of every SIP message of each dialog the attempt placed (a
// failover places several), and the media events of the first seconds after the answer
// (T.30 phase and page changes, then the datagram counters at the end).
//
// Owned by the gateway's control thread, one per outbound call.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "faxbridge/fax/channel.hpp"

namespace faxbridge::gateway {

class CallDiagnostics final {
 public:
  // Media events later than this after the answer are not kept: the start of a call is
  // where negotiation fails, and a 300-page fax must not grow the row without bound.
  static constexpr std::chrono::seconds kMediaWindow{30};
  // A backstop on the kept events (a peer that flaps phases would fill the window).
  static constexpr std::size_t kMaxMediaEvents = 64;

  // One SIP dialog of the attempt, with the address it went to and its trace.
  void add_dialog(const std::string& target, std::vector<std::string> trace);
  // The call was answered: media time starts now.
  void media_started(const std::string& remote);
  // Polled progress; records a change of phase or page inside the window.
  void observe(const fax::Progress& p);
  // The channel ended: its counters (a silent far end shows as nothing received).
  void media_ended(const fax::ChannelStats& stats, const std::string& t30_text);

  bool empty() const { return dialogs_.empty() && media_.empty(); }
  // {"sip":[{"target":...,"messages":[...]}],"media":[{"ms":...,"event":...}]}
  std::string json() const;

 private:
  struct Dialog {
    std::string target;
    std::vector<std::string> messages;
  };
  struct MediaEvent {
    std::int64_t ms = 0;
    std::string event;
  };
  void media_event(std::string text);

  std::vector<Dialog> dialogs_;
  std::vector<MediaEvent> media_;
  std::chrono::steady_clock::time_point media_start_{};
  bool media_running_ = false;
  fax::Progress last_{};
};

}  // namespace faxbridge::gateway
