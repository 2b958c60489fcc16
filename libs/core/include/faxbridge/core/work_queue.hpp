#pragma once
// The contract between a claim-and-sweep consumer (libs/bus) and the table that holds
// its work (libs/db). Keeping it here lets neither of those libraries depend on the other.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faxbridge/core/result.hpp"

namespace faxbridge {

struct Claim {
  std::int64_t id = 0;
  int claims = 0;  // how many times this row has been claimed, this one included
};

class WorkSource {
 public:
  virtual ~WorkSource() = default;
  // Claims one row named by a bus message. Empty when somebody else has it, it is
  // not ready yet, or it is gone: the message is then simply dropped.
  virtual Result<std::optional<Claim>> claim(std::int64_t id) = 0;
  // Claims up to `limit` ready rows, and rows whose lease expired, oldest first.
  virtual Result<std::vector<Claim>> claim_next(int limit) = 0;
  // Extends the lease. false: the lease was lost (expired and taken over, or the row
  // left the working state); the holder must stop working on it.
  virtual Result<bool> renew(std::int64_t id) = 0;
  // Gives the row back to the ready state, not before `delay` from now (a failed
  // attempt with a retryable error, or a clean shutdown).
  virtual Result<bool> release(std::int64_t id, std::chrono::milliseconds delay,
                               const std::optional<Error>& error) = 0;
  // The owner name written into claimed rows (instance id).
  virtual const std::string& owner() const = 0;
};

}  // namespace faxbridge
