#pragma once
// The media gateway's side of the outbound queue: claiming calls within the limits,
// progress, and closing an attempt with its outcome for the router to apply.
//
// Limits (ARCHITECTURE.md section 3) are enforced in the claim itself: the global
// maximum of concurrent outgoing calls (so the other channels stay free for incoming)
// and at most one active call per destination number. Claims from every gateway
// instance are serialised by a transaction-scoped advisory lock, so the counts they
// read stay true until they commit, however many gateways run.
// An active call is a job in dialing/sending that a gateway holds (owner set); the
// attempt is opened in the claim's transaction and closed in the one that releases it.
// Leases and time are db::Queue's (the same clock parameter); the job moves and their
// events are db::transition's (states.hpp).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/db/records.hpp"

namespace faxbridge::db::outbound {

struct Call {
  std::int64_t job_id = 0;
  std::int64_t attempt_id = 0;
  int attempt_no = 0;
  std::string dial_number;
  std::string recipient;  // canonical
  std::optional<std::int64_t> route_id;
  std::optional<std::int64_t> pages_document_id;
  std::optional<int> page_count;
  std::optional<std::string> reference;
  // What the router decided (the gateway reads, never re-decides): the addresses to dial
  // in order, fallbacks and the default route included, and the route's T.38 policy.
  std::vector<std::string> gateway_addresses;
  std::string t38_policy = "auto";
};

// Claims up to `channels` queued jobs whose time has come, within `max_concurrent`
// active calls overall and one per destination, and opens an attempt for each.
// clock: when given, its time instead of the server's now() (tests drive the leases and
// not_before with it, as with db::Queue).
Result<std::vector<Call>> claim_calls(Tx& tx, const std::string& gateway, int channels, int max_concurrent,
                                      std::chrono::milliseconds lease, const Clock* clock = nullptr);
// Phase C reached: the pages are on the wire (dialing -> sending). false: lease lost.
Result<bool> mark_sending(Tx& tx, std::int64_t job_id, const std::string& gateway);
// Live progress of an open attempt (pages confirmed so far, T.30 phase reached), for
// status pages while the call runs. false: the attempt is already closed.
Result<bool> record_progress(Tx& tx, std::int64_t attempt_id, int pages_sent, const std::string& phase_reached);
Result<bool> renew(Tx& tx, std::int64_t job_id, const std::string& gateway, std::chrono::milliseconds lease,
                   const Clock* clock = nullptr);
// Closes the attempt with its outcome and releases the call; the job keeps its state
// until the router applies the result. false: the lease was lost.
Result<bool> close(Tx& tx, const Call& call, const std::string& gateway, const AttemptEnd& end);
// Jobs in dialing/sending held by a gateway right now.
Result<int> active_calls(Tx& tx);

}  // namespace faxbridge::db::outbound
