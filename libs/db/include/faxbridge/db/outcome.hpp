#pragma once
// What one call attempt came to, as the gateway records it on the attempt (the CDR)
// and the router reads it back to decide the job's next state. One type for both
// sides, so neither parses the other's strings; the names are the values the
// attempts table's CHECK constraint allows.
#include <optional>
#include <string_view>

namespace faxbridge::db {

enum class Outcome { kSent, kPartiallySent, kBusy, kNoAnswer, kRejected, kFailed, kCancelled, kInterrupted };

std::string_view outcome_name(Outcome o);
// nullopt for a name no Outcome has.
std::optional<Outcome> parse_outcome(std::string_view name);

}  // namespace faxbridge::db
