#include "faxbridge/db/outcome.hpp"

#include <array>
#include <utility>

namespace faxbridge::db {
namespace {

constexpr std::array<std::pair<Outcome, std::string_view>, 8> kOutcomes{{
    {Outcome::kSent, "sent"},
    {Outcome::kPartiallySent, "partially_sent"},
    {Outcome::kBusy, "busy"},
    {Outcome::kNoAnswer, "no_answer"},
    {Outcome::kRejected, "rejected"},
    {Outcome::kFailed, "failed"},
    {Outcome::kCancelled, "cancelled"},
    {Outcome::kInterrupted, "interrupted"},
}};

}  // namespace

std::string_view outcome_name(Outcome o) {
  for (const auto& [x, name] : kOutcomes) {
    if (x == o) return name;
  }
  return "failed";
}

std::optional<Outcome> parse_outcome(std::string_view name) {
  for (const auto& [o, n] : kOutcomes) {
    if (n == name) return o;
  }
  return std::nullopt;
}

}  // namespace faxbridge::db
