#pragma once
// Bus topics, one per message kind (proto/faxbridge/bus.proto). The topic is the first
// ZeroMQ frame and subscriptions match it by PREFIX: "job." receives job.submitted,
// job.state and job.cancel.*. Because of that, a consumer of an addressed topic
// (cancel_topic("gw1") also matches "job.cancel.gw10") must compare the topic exactly
// (or check CancelJob.gateway_instance) before acting.
#include <string>
#include <string_view>

namespace faxbridge::bus::topics {

inline constexpr std::string_view kJobSubmitted = "job.submitted";          // JobSubmitted
inline constexpr std::string_view kJobConverted = "job.converted";          // JobConverted
inline constexpr std::string_view kJobQueued = "job.queued";                // JobQueued
inline constexpr std::string_view kJobState = "job.state";                  // JobStateChanged
inline constexpr std::string_view kCallProgress = "call.progress";          // CallProgress
inline constexpr std::string_view kCallResult = "call.result";              // CallResult
inline constexpr std::string_view kJobCancelPrefix = "job.cancel.";         // CancelJob
inline constexpr std::string_view kFaxReceived = "fax.received";            // FaxReceived
inline constexpr std::string_view kInboxDelivered = "inbox.delivered";      // InboxDelivered
inline constexpr std::string_view kNotificationQueued = "notification.queued";  // NotificationQueued
inline constexpr std::string_view kSettingsChanged = "settings.changed";    // SettingsChanged
inline constexpr std::string_view kGatewayHealth = "gateway.health";        // GatewayHealth
inline constexpr std::string_view kWorkPrefix = "work.";                    // WorkAvailable

// "job.cancel." + the media-gateway instance id that holds the call.
std::string cancel_topic(std::string_view gateway_instance);
// "work." + table name, e.g. work_topic("fax_job") == "work.fax_job".
std::string work_topic(std::string_view table);

}  // namespace faxbridge::bus::topics

// The work stages announced on work_topic(stage): a row of that table entered the state
// its consumer claims from. Here, not in a service's library, because writers and
// consumers live in different services (the media gateway writes attempts.closed, the
// router consumes it).
namespace faxbridge::bus::stages {

inline constexpr const char* kReady = "fax_jobs.ready";              // converted, to be routed
inline constexpr const char* kQueued = "fax_jobs.queued";            // routed, for a gateway to claim
inline constexpr const char* kResults = "attempts.closed";           // a call's outcome, for the router
inline constexpr const char* kInbound = "received_faxes.received";   // a received fax, for the router

}  // namespace faxbridge::bus::stages
