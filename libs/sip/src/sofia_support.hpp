#pragma once
// Small pieces of sofia-sip handling shared by the agent's parts (calls, registration):
// the phrase of a status, and the answer to a digest challenge. Private to libs/sip;
// its includer switches -Wold-style-cast off first (sofia's tag macros are C casts).
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>

#include <string>

#include "faxbridge/sip/user_agent.hpp"

namespace faxbridge::sip::detail {

// A challenge is answered this many times per request: a second one in a row means the
// credentials are wrong, and answering again would only loop.
inline constexpr int kMaxAuthTries = 1;

// The received phrase, or the standard one when the far end sent none.
inline std::string phrase_of(int status, const char* phrase) {
  if (phrase != nullptr && *phrase != '\0') return phrase;
  const char* p = sip_status_phrase(status);
  return p == nullptr ? "" : p;
}

// A 401 (WWW-Authenticate) or 407 (Proxy-Authenticate) challenge answered with digest
// credentials (the stack resends the request with Authorization / Proxy-Authorization),
// at most kMaxAuthTries times per request: `tries` counts them. false: not answered.
inline bool answer_digest(nua_handle_t* nh, int status, const sip_t* sip, const Credentials& credentials,
                          int& tries) {
  if ((status != 401 && status != 407) || sip == nullptr || tries >= kMaxAuthTries) return false;
  const msg_auth_t* challenge = status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
  if (challenge == nullptr) return false;
  ++tries;
  // NUTAG_AUTH wants "scheme:\"realm\":user:password"; sofia keeps the realm quoted.
  const char* realm = msg_params_find(challenge->au_params, "realm=");
  const std::string auth = std::string(challenge->au_scheme) + ":" + (realm != nullptr ? realm : "\"\"") + ":" +
                           credentials.user + ":" + credentials.password;
  nua_authenticate(nh, NUTAG_AUTH(auth.c_str()), TAG_END());
  return true;
}

}  // namespace faxbridge::sip::detail
