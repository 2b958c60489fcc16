// SMTP sessions kept open between mails (session_pool.hpp).
#include "session_pool.hpp"

namespace faxbridge::notifier {

std::unique_ptr<mail::SmtpSession> SessionPool::take(const std::string& key, const mail::SmtpSettings& settings,
                                                     bool& reused) {
  std::vector<Idle> stale;
  std::unique_ptr<mail::SmtpSession> found;
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (it->key != key || now - it->since > kIdle) {
        stale.push_back(std::move(*it));
        it = idle_.erase(it);
      } else if (!found) {
        found = std::move(it->session);
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& s : stale) s.session->close();  // QUIT outside the lock
  reused = found != nullptr && found->connected();
  if (found) return found;
  return std::make_unique<mail::SmtpSession>(settings);
}

void SessionPool::give_back(const std::string& key, std::unique_ptr<mail::SmtpSession> session) {
  if (!session || !session->connected()) return;
  std::lock_guard lock(mutex_);
  idle_.push_back({key, std::move(session), std::chrono::steady_clock::now()});
}

void SessionPool::close_all() {
  std::vector<Idle> all;
  {
    std::lock_guard lock(mutex_);
    all.swap(idle_);
  }
  for (auto& s : all) s.session->close();
}

}  // namespace faxbridge::notifier
