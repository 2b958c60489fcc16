#include "faxbridge/gateway/call_diagnostics.hpp"

#include <nlohmann/json.hpp>

namespace faxbridge::gateway {

void CallDiagnostics::add_dialog(const std::string& target, std::vector<std::string> trace) {
  dialogs_.push_back({target, std::move(trace)});
}

void CallDiagnostics::media_started(const std::string& remote) {
  media_start_ = std::chrono::steady_clock::now();
  media_running_ = true;
  last_ = {};
  media_event("answered: " + remote);
}

void CallDiagnostics::media_event(std::string text) {
  if (media_.size() >= kMaxMediaEvents) return;
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - media_start_).count();
  media_.push_back({ms, std::move(text)});
}

void CallDiagnostics::observe(const fax::Progress& p) {
  if (!media_running_) return;
  if (std::chrono::steady_clock::now() - media_start_ > kMediaWindow) return;
  if (p.phase != last_.phase) media_event("phase " + std::string(fax::phase_name(p.phase)));
  if (p.page != last_.page) media_event("page " + std::to_string(p.page) + " started");
  if (p.pages_done != last_.pages_done) media_event("page " + std::to_string(p.pages_done) + " confirmed");
  last_ = p;
}

void CallDiagnostics::media_ended(const fax::ChannelStats& s, const std::string& t30_text) {
  if (!media_running_) return;
  media_running_ = false;
  // Past the window and the cap on purpose: the end is the other half of the story.
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - media_start_).count();
  media_.push_back({ms, "ended: " + t30_text + "; datagrams sent " + std::to_string(s.link.sent) + ", received " +
                            std::to_string(s.link.received) + ", UDPTL lost " + std::to_string(s.udptl.lost) +
                            ", malformed " + std::to_string(s.udptl.malformed)});
}

std::string CallDiagnostics::json() const {
  nlohmann::json j;
  j["sip"] = nlohmann::json::array();
  for (const auto& d : dialogs_) j["sip"].push_back({{"target", d.target}, {"messages", d.messages}});
  j["media"] = nlohmann::json::array();
  for (const auto& e : media_) j["media"].push_back({{"ms", e.ms}, {"event", e.event}});
  return j.dump();
}

}  // namespace faxbridge::gateway
