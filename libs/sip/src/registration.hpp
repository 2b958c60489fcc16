#pragma once
// The agent's registration with a trunk (RFC 3261 section 10): one account, its REGISTER
// handle, the digest answer and the retries. Private to libs/sip; runs on the agent's
// loop thread like everything that touches sofia. See registration.cpp.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>

#include "faxbridge/core/result.hpp"
#include "faxbridge/sip/user_agent.hpp"

struct nua_s;
struct nua_handle_s;
struct sip_s;

namespace faxbridge::sip::detail {

class RegistrationClient {
 public:
  using Clock = std::chrono::steady_clock;
  // Called with every result; the agent guards it (a callback must not throw into sofia).
  using Report = std::function<void(const RegistrationState&)>;

  explicit RegistrationClient(Report report) : report_(std::move(report)) {}
  RegistrationClient(const RegistrationClient&) = delete;
  RegistrationClient& operator=(const RegistrationClient&) = delete;

  // Registers `account` (replacing any earlier one); false when the stack gives no handle.
  bool start(nua_s* nua, const Registration& account);
  bool owns(const nua_handle_s* nh) const { return nh != nullptr && nh == nh_; }
  // nua_r_register for our handle.
  void on_response(int status, const char* phrase, nua_handle_s* nh, const sip_s* sip);
  // From the agent's tick: the next attempt, when one is due.
  void tick();
  // Drops the handle without an un-REGISTER: a registrar that is gone would hold the
  // agent's stop for a transaction timeout, and the binding lapses on its own.
  void stop();

 private:
  bool send();

  Report report_;
  nua_s* nua_ = nullptr;
  nua_handle_s* nh_ = nullptr;
  Registration account_;
  int auth_tries_ = 0;
  int failures_ = 0;  // failed attempts in a row
  std::optional<Clock::time_point> retry_at_;
  std::string call_id_;
  std::uint32_t cseq_ = 0;  // the highest CSeq of this account's REGISTERs so far
  std::mt19937 rng_{std::random_device{}()};
  std::uniform_real_distribution<double> jitter_{0.0, 1.0};
};

}  // namespace faxbridge::sip::detail
