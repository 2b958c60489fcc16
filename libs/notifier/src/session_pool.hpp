#pragma once
// Internal: SMTP sessions kept open between mails. A worker takes an idle session made
// with the same settings (or a new one), sends, and gives it back; sessions made with
// settings that changed since are dropped on return, and sessions idle longer than
// kIdle are closed before the server closes them under us.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "faxbridge/mail/smtp.hpp"

namespace faxbridge::notifier {

class SessionPool final {
 public:
  static constexpr std::chrono::seconds kIdle{60};

  // key: what identifies the settings (they are compared as a whole).
  std::unique_ptr<mail::SmtpSession> take(const std::string& key, const mail::SmtpSettings& settings, bool& reused);
  void give_back(const std::string& key, std::unique_ptr<mail::SmtpSession> session);
  void close_all();

 private:
  struct Idle {
    std::string key;
    std::unique_ptr<mail::SmtpSession> session;
    std::chrono::steady_clock::time_point since;
  };
  std::mutex mutex_;
  std::vector<Idle> idle_;
};

}  // namespace faxbridge::notifier
