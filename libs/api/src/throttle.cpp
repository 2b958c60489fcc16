// DESIGN: see throttle.hpp. Tokens are fractional so a bucket refills smoothly; the
// wait we announce is rounded up to whole seconds (Retry-After has no fractions), so a
// client that waits exactly that long is let through (the epsilon absorbs the rounding
// of the fractional tokens, which would otherwise add a second).
#include "faxbridge/api/throttle.hpp"

#include <algorithm>
#include <cmath>

namespace faxbridge::api {

Throttle::Throttle(const Clock& clock, ThrottleRule rule, std::size_t max_keys)
    : clock_(clock), rule_(rule), max_keys_(std::max<std::size_t>(1, max_keys)) {
  rule_.burst = std::max(1, rule_.burst);
  if (rule_.refill_every.count() < 1) rule_.refill_every = std::chrono::seconds(1);
}

void Throttle::refill(Bucket& bucket, TimePoint now) const {
  if (now <= bucket.updated) return;  // a clock that steps back gives nothing back
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  const double per_token = std::chrono::duration<double>(rule_.refill_every).count();
  bucket.tokens = std::min<double>(rule_.burst, bucket.tokens + elapsed / per_token);
  bucket.updated = now;
}

void Throttle::make_room(TimePoint now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now);
    it = it->second.tokens >= rule_.burst ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() < max_keys_) return;
  auto oldest = std::min_element(buckets_.begin(), buckets_.end(),
                                 [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; });
  buckets_.erase(oldest);
}

Throttle::Decision Throttle::attempt(std::string_view key) {
  const TimePoint now = clock_.now();
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) make_room(now);
    it = buckets_.emplace(std::string(key), Bucket{static_cast<double>(rule_.burst), now}).first;
  }
  Bucket& bucket = it->second;
  refill(bucket, now);
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return {};
  }
  const double per_token = std::chrono::duration<double>(rule_.refill_every).count();
  const auto wait = static_cast<std::chrono::seconds::rep>(std::ceil((1.0 - bucket.tokens) * per_token - 1e-9));
  return {false, std::chrono::seconds(std::max<std::chrono::seconds::rep>(1, wait))};
}

void Throttle::reset(std::string_view key) {
  std::lock_guard lock(mutex_);
  buckets_.erase(std::string(key));
}

std::size_t Throttle::tracked_keys() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace faxbridge::api
