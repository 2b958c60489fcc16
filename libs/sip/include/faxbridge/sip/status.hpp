#pragma once
// What a SIP final status means for a fax attempt (ARCHITECTURE.md section 3): the
// stable code the router acts on, and whether the next gateway address of the route
// should be tried before giving up on this attempt.
#include "faxbridge/core/error.hpp"

namespace faxbridge::sip {

struct FailureClass {
  Code code = Code::k_call_route_failed;
  bool try_next_address = false;  // route failure: the next address (then the default route)
};

// `local` is true when no response came from the network and the stack made the status
// up (a transaction timeout, an unreachable address): that is a route failure even
// when the number is 408 or 503.
FailureClass classify_final_status(int status, bool local);

}  // namespace faxbridge::sip
