// The call state table and set_state, without a SIP stack.
#include "call.hpp"  // private to libs/sip: its src folder is on this test's include path

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <set>
#include <string>
#include <vector>

namespace faxbridge::sip::detail {
namespace {

using S = CallState;

std::vector<CallState> all_states() {
  std::vector<CallState> out;
  for (std::size_t i = 0; i < kCallStateCount; ++i) out.push_back(static_cast<CallState>(i));
  return out;
}

bool path_allowed(const std::vector<CallState>& path) {
  for (std::size_t i = 1; i < path.size(); ++i) {
    if (!allowed(path[i - 1], path[i])) {
      ADD_FAILURE() << call_state_name(path[i - 1]) << " -> " << call_state_name(path[i]) << " is not allowed";
      return false;
    }
  }
  return true;
}

TEST(CallState, EveryStateHasItsOwnName) {
  std::set<std::string_view> names;
  for (auto s : all_states()) {
    EXPECT_NE(call_state_name(s), "unknown");
    names.insert(call_state_name(s));
  }
  EXPECT_EQ(names.size(), kCallStateCount);
  EXPECT_EQ(call_state_name(S::kEnded), "ended");  // the last enumerator: kCallStateCount covers it
}

TEST(CallState, EachEdgeIsListedOnceWithWhenItHappens) {
  std::set<std::pair<CallState, CallState>> seen;
  for (const auto& e : call_edges()) {
    EXPECT_TRUE(seen.insert({e.from, e.to}).second) << call_state_name(e.from) << " -> " << call_state_name(e.to);
    EXPECT_FALSE(e.when.empty());
    EXPECT_NE(e.from, e.to) << "a change to the same state is none";
  }
}

TEST(CallState, AnOutboundCallIsCalledAnsweredReinvitedAndHungUp) {
  EXPECT_TRUE(path_allowed({S::kNew, S::kCalling, S::kEarly, S::kConfirmed, S::kReinviting, S::kConfirmed,
                            S::kEnding, S::kEnded}));
  EXPECT_TRUE(path_allowed({S::kNew, S::kCalling, S::kConfirmed, S::kEnded}));  // answered at once, far end's BYE
}

TEST(CallState, AnOutboundCallIsCancelledOrFailsBeforeTheAnswer) {
  EXPECT_TRUE(path_allowed({S::kNew, S::kCalling, S::kEarly, S::kCancelling, S::kEnding, S::kEnded}));
  EXPECT_TRUE(path_allowed({S::kNew, S::kCalling, S::kCancelling, S::kEnded}));  // never answered, forced
  EXPECT_TRUE(path_allowed({S::kNew, S::kCalling, S::kEnding, S::kEnded}));      // a 486, or a 200 we cannot use
}

TEST(CallState, AnInboundCallRingsIsAnsweredAcknowledgedAndEnded) {
  EXPECT_TRUE(path_allowed({S::kNew, S::kRinging, S::kAnswering, S::kConfirmed, S::kReinviting, S::kConfirmed,
                            S::kEnded}));
  EXPECT_TRUE(path_allowed({S::kNew, S::kRinging, S::kEnding, S::kEnded}));  // refused
  EXPECT_TRUE(path_allowed({S::kNew, S::kRinging, S::kEnded}));              // the caller's CANCEL
  EXPECT_TRUE(path_allowed({S::kNew, S::kRinging, S::kAnswering, S::kEnding, S::kEnded}));  // BYE before the ACK
}

TEST(CallState, TheDirectionsDoNotMix) {
  // Outbound states never lead to inbound ones, nor the other way round.
  for (auto out : {S::kCalling, S::kEarly, S::kCancelling}) {
    for (auto in : {S::kRinging, S::kAnswering}) {
      EXPECT_FALSE(allowed(out, in));
      EXPECT_FALSE(allowed(in, out));
    }
  }
}

TEST(CallState, AnAnsweredCallNeverGoesBackBeforeTheAnswer) {
  for (auto answered : all_states()) {
    if (!is_answered(answered)) continue;
    for (auto before : {S::kNew, S::kCalling, S::kEarly, S::kRinging, S::kCancelling}) {
      EXPECT_FALSE(allowed(answered, before)) << call_state_name(answered) << " -> " << call_state_name(before);
    }
  }
}

TEST(CallState, AnEndingCallOnlyEnds) {
  for (auto ending : {S::kEnding, S::kEnded}) {
    for (auto to : all_states()) {
      if (to == S::kEnded && ending != S::kEnded) continue;
      EXPECT_FALSE(allowed(ending, to)) << call_state_name(ending) << " -> " << call_state_name(to);
    }
  }
  EXPECT_TRUE(allowed(S::kEnding, S::kEnded));
  for (auto to : all_states()) {
    if (to != S::kEnding && to != S::kEnded) {
      EXPECT_FALSE(allowed(S::kCancelling, to)) << call_state_name(to);
    }
  }
}

TEST(CallState, EveryStateIsReachedFromNewAndEveryLiveOneCanEnd) {
  std::set<CallState> reached{S::kNew};
  std::deque<CallState> todo{S::kNew};
  while (!todo.empty()) {
    const auto s = todo.front();
    todo.pop_front();
    for (const auto& e : call_edges()) {
      if (e.from == s && reached.insert(e.to).second) todo.push_back(e.to);
    }
  }
  EXPECT_EQ(reached.size(), kCallStateCount);
  for (auto s : all_states()) {
    EXPECT_FALSE(allowed(s, S::kNew)) << call_state_name(s);
    if (s != S::kNew && s != S::kEnded) {
      EXPECT_TRUE(allowed(s, S::kEnded)) << call_state_name(s);
    }
  }
}

TEST(CallState, AnsweredAndEndingPhasesAreTheOnesTheAgentDecidesBy) {
  std::vector<CallState> answered, ending;
  for (auto s : all_states()) {
    if (is_answered(s)) answered.push_back(s);
    if (is_ending(s)) ending.push_back(s);
  }
  EXPECT_EQ(answered, (std::vector<CallState>{S::kAnswering, S::kConfirmed, S::kReinviting}));
  EXPECT_EQ(ending, (std::vector<CallState>{S::kCancelling, S::kEnding, S::kEnded}));
}

TEST(SetState, AnAllowedChangeIsMadeAndWrittenToTheTrace) {
  Call c;
  c.id = 7;
  c.trace.push_back("-> INVITE sip:+390297865403@127.0.0.1:5060");
  EXPECT_TRUE(set_state(c, S::kCalling, "our INVITE sent"));
  EXPECT_EQ(c.state, S::kCalling);
  ASSERT_EQ(c.trace.size(), 2u);
  EXPECT_EQ(c.trace[1], "state: new -> calling (our INVITE sent)");
  EXPECT_FALSE(c.answered);
}

TEST(SetState, AChangeTheTableLacksIsRefusedAndTheStateStays) {
  Call c;
  c.id = 8;
  ASSERT_TRUE(set_state(c, S::kRinging, "an INVITE received"));
  const auto trace = c.trace;
  EXPECT_FALSE(set_state(c, S::kCancelling, "a bug"));  // inbound calls are refused, never cancelled
  EXPECT_EQ(c.state, S::kRinging);
  EXPECT_EQ(c.trace, trace);
  EXPECT_FALSE(set_state(c, S::kRinging, "again"));
  EXPECT_EQ(c.trace, trace);
}

TEST(SetState, ConfirmedMarksTheCallAnsweredForGood) {
  Call c;
  ASSERT_TRUE(set_state(c, S::kCalling, "our INVITE sent"));
  ASSERT_TRUE(set_state(c, S::kConfirmed, "200 received"));
  EXPECT_TRUE(c.answered);
  ASSERT_TRUE(set_state(c, S::kEnding, "BYE sent"));
  ASSERT_TRUE(set_state(c, S::kEnded, "terminated"));
  EXPECT_TRUE(c.answered);  // CallEnded::was_answered reads it after the end
}

TEST(SetState, TheForcedEndTimerStartsWhenTheCallFirstStartsEnding) {
  Call c;
  ASSERT_TRUE(set_state(c, S::kCalling, "our INVITE sent"));
  EXPECT_EQ(c.ending_since, Call::Clock::time_point{});
  const auto before = Call::Clock::now();
  ASSERT_TRUE(set_state(c, S::kCancelling, "hung up"));
  const auto since = c.ending_since;
  EXPECT_GE(since, before);
  // The 487 moves it on, but the time it has been ending counts from the CANCEL.
  ASSERT_TRUE(set_state(c, S::kEnding, "487 received"));
  EXPECT_EQ(c.ending_since, since);
}

}  // namespace
}  // namespace faxbridge::sip::detail
