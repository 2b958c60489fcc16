// DESIGN: one trunk account kept registered, whatever the registrar does.
// - An attempt is one nua handle and its REGISTER; nua answers nothing by itself but
//   refreshes the binding before it expires. A 401/407 is answered once (sofia_support's
//   answer_digest); a second challenge means the credentials are wrong.
// - Any final failure (no answer or ICMP unreachable: sofia's own 408/503; a 5xx; the
//   credentials refused; a refresh that failed, which ends the binding) ends the attempt:
//   the handle goes, and the next attempt goes out on a new one after RFC 5626 section
//   4.5's backoff (registration_retry_delay), checked from the agent's 200 ms tick. So a
//   registrar that is down or refuses us is neither hammered nor given up on.
// - Every attempt carries one Call-ID and a CSeq above the last one seen (RFC 3261
//   section 10.2, and 10.3 step 7, which discards a REGISTER whose CSeq does not grow):
//   a new handle would otherwise start both afresh.
// - Each result is reported (a success, refreshes included, and each failure with its
//   status, the failures in a row and the time of the next attempt) and each failure is
//   logged at warning.
#include "registration.hpp"

#include <algorithm>
#include <cmath>

#include "faxbridge/core/log.hpp"

// sofia's tag macros expand to C casts at every use site (as in user_agent.cpp).
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>

#include "sofia_support.hpp"

namespace faxbridge::sip {

std::chrono::milliseconds registration_retry_delay(const Registration& r, int failures, double random_factor) {
  const double base = static_cast<double>(std::max<std::int64_t>(1, r.retry_base.count()));
  const double cap = std::max(base, static_cast<double>(r.retry_max.count()));
  // Beyond 2^30 the cap has long taken over; the bound keeps the power finite.
  const double bound = std::min(cap, base * std::pow(2.0, std::clamp(failures, 1, 30)));
  const double factor = 0.5 + 0.5 * std::clamp(random_factor, 0.0, 1.0);
  return std::chrono::milliseconds(std::llround(bound * factor));
}

namespace detail {

bool RegistrationClient::start(nua_t* nua, const Registration& account) {
  stop();
  nua_ = nua;
  account_ = account;
  failures_ = 0;
  retry_at_.reset();
  static constexpr char kHex[] = "0123456789abcdef";
  call_id_.clear();
  for (int i = 0; i < 24; ++i) call_id_ += kHex[rng_() % 16];
  call_id_ += "@faxbridge";
  cseq_ = 0;
  return send();
}

void RegistrationClient::stop() {
  if (nh_ != nullptr) nua_handle_destroy(nh_);
  nh_ = nullptr;
  retry_at_.reset();
}

bool RegistrationClient::send() {
  const std::string aor = "sip:" + account_.user + "@" + account_.registrar;
  nh_ = nua_handle(nua_, nullptr, SIPTAG_TO_STR(aor.c_str()), SIPTAG_FROM_STR(aor.c_str()),
                   SIPTAG_CALL_ID_STR(call_id_.c_str()), TAG_END());
  if (nh_ == nullptr) return false;
  auth_tries_ = 0;
  retry_at_.reset();
  const std::string registrar = "sip:" + account_.registrar;
  const std::string expires = std::to_string(account_.expires.count());
  const std::string cseq = std::to_string(cseq_ + 1) + " REGISTER";
  nua_register(nh_, NUTAG_REGISTRAR(registrar.c_str()), SIPTAG_EXPIRES_STR(expires.c_str()),
               NUTAG_M_USERNAME(account_.user.c_str()), TAG_IF(cseq_ > 0, SIPTAG_CSEQ_STR(cseq.c_str())),
               TAG_END());
  log::info("sip.register", {{"registrar", account_.registrar}, {"attempt", failures_ + 1}});
  return true;
}

void RegistrationClient::on_response(int status, const char* phrase, nua_handle_t* nh, const sip_t* sip) {
  if (!owns(nh) || status < 200) return;
  if (sip != nullptr && sip->sip_cseq != nullptr) cseq_ = std::max<std::uint32_t>(cseq_, sip->sip_cseq->cs_seq);
  const Credentials credentials{account_.auth_user.empty() ? account_.user : account_.auth_user, account_.password};
  if (answer_digest(nh, status, sip, credentials, auth_tries_)) return;
  auth_tries_ = 0;
  RegistrationState st;
  st.registrar = account_.registrar;
  st.registered = status < 300;
  st.last_status = status;
  st.reason = phrase_of(status, phrase);
  st.at = std::chrono::system_clock::now();
  if (st.registered) {
    failures_ = 0;
    retry_at_.reset();
    log::info("sip.registration", {{"registrar", st.registrar}, {"status", status}, {"registered", true}});
  } else {
    ++failures_;
    const auto delay = registration_retry_delay(account_, failures_, jitter_(rng_));
    nua_handle_destroy(nh_);
    nh_ = nullptr;
    retry_at_ = Clock::now() + delay;
    st.failures = failures_;
    st.next_retry = st.at + delay;
    log::warn("sip.registration.failed", {{"registrar", st.registrar},
                                          {"status", status},
                                          {"reason", st.reason},
                                          {"failures", failures_},
                                          {"retry_in_ms", static_cast<std::int64_t>(delay.count())}});
  }
  report_(st);
}

void RegistrationClient::tick() {
  if (!retry_at_ || nh_ != nullptr || Clock::now() < *retry_at_) return;
  if (!send()) {
    // No handle (the stack is out of memory): the longest wait of this round, not a spin.
    retry_at_ = Clock::now() + registration_retry_delay(account_, failures_, 1.0);
  }
}

}  // namespace detail
}  // namespace faxbridge::sip
