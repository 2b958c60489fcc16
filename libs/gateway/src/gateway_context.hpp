#pragma once
// What the gateway's parts share, handed to each by reference: the settings, the SIP
// agent, the media runtime and ports, the call store (every database transaction), the
// route health, the metrics and the counters behind Gateway::stats(). Private to
// libs/gateway. Everything here is used from the control thread only, except where a
// member says otherwise.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "faxbridge/fax/runtime.hpp"
#include "faxbridge/gateway/gateway.hpp"
#include "faxbridge/gateway/gateway_metrics.hpp"
#include "faxbridge/gateway/route_health.hpp"
#include "faxbridge/sip/user_agent.hpp"

#include "call_media.hpp"
#include "call_store.hpp"
#include "media_ports.hpp"

namespace faxbridge::gateway {

// Any thread.
struct GatewayCounters {
  std::atomic<int> outbound_active{0}, inbound_active{0};
  std::atomic<std::uint64_t> t38_reinvites{0}, t38_switches{0}, audio_redundancy_calls{0};
};

struct GatewayContext {
  const GatewaySettings& settings;
  sip::UserAgent& agent;
  fax::ChannelRuntime& runtime;
  MediaPorts& ports;
  CallStore& store;
  HealthMonitor& health;
  GatewayMetrics& metrics;
  ReinviteAnswers& reinvite_answers;  // also read by the SIP thread (it locks)
  GatewayCounters& counters;
  // Runs `fn` on the control thread (any thread may call it: the store's answers come
  // back this way).
  std::function<void(std::function<void()>)> post;
  // Channels not taken by calls of either direction.
  std::function<int()> free_channels;
  // A fax tone heard on call `id` (control thread): CallMedia may re-INVITE to T.38.
  std::function<void(sip::CallId)> on_tone;
};

// The channel's tone callback (worker thread): handled on the control thread by `on_tone`.
inline std::function<void(int)> tone_poster(GatewayContext& ctx, sip::CallId id) {
  return [&ctx, id](int) { ctx.post([&ctx, id] { ctx.on_tone(id); }); };
}

inline bool channel_alive(const CallMedia& m) { return m.channel() && !m.channel()->finished(); }

// The gateway.answered log field: "off", or RED's payload type and depth.
inline std::string red_label(const CallMedia& m, const sip::NegotiatedMedia& remote) {
  if (!m.redundant()) return "off";
  return std::to_string(remote.red_payload_type) + " x" + std::to_string(m.channel()->options().audio_redundancy);
}

}  // namespace faxbridge::gateway
