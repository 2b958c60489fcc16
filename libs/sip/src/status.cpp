#include "faxbridge/sip/status.hpp"

namespace faxbridge::sip {

FailureClass classify_final_status(int status, bool local) {
  if (local) return {Code::k_call_route_failed, true};
  switch (status) {
    case 486:  // Busy Here
    case 600:  // Busy Everywhere
      return {Code::k_call_busy, false};
    case 408:  // Request Timeout (from the far end: nobody picked up)
    case 480:  // Temporarily Unavailable
    case 487:  // Request Terminated (the ringing was cut)
      return {Code::k_call_no_answer, false};
    case 404:  // Not Found
    case 484:  // Address Incomplete
    case 604:  // Does Not Exist Anywhere
      return {Code::k_call_invalid_number, false};
    case 401:  // a challenge we could not answer (no credentials) or a second one
    case 407:  // (the credentials were wrong): refused just as a 403 is
    case 403:
      return {Code::k_call_not_authorised, false};
    case 488:  // Not Acceptable Here: no offered stream was acceptable
    case 606:  // Not Acceptable
    case 415:  // Unsupported Media Type
      return {Code::k_call_media_refused, false};
    default:
      break;
  }
  if (status >= 500 && status < 600) return {Code::k_call_route_failed, true};
  return {Code::k_call_rejected, false};
}

}  // namespace faxbridge::sip
