#pragma once
// DESIGN: login throttling as a token bucket per key ("account:alice",
// "address:192.0.2.7"): `burst` attempts at once, then one more every `refill_every`.
// Time comes from an injected Clock, so tests move it instead of sleeping. The table
// is bounded (max_keys): when full, buckets that have refilled completely are dropped
// (they hold no information), then the least recently used one. A caller checks both
// the account and the address key, so flooding accounts from one address is still
// held back by the address bucket.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "faxbridge/core/clock.hpp"

namespace faxbridge::api {

struct ThrottleRule {
  int burst = 5;                              // attempts allowed back to back
  std::chrono::seconds refill_every{60};      // one attempt back per interval
};

class Throttle final {
 public:
  Throttle(const Clock& clock, ThrottleRule rule, std::size_t max_keys = 100'000);

  struct Decision {
    bool allowed = true;
    std::chrono::seconds retry_after{0};  // when refused: until one attempt is back (>= 1 s)
  };
  // Takes one attempt from the key's bucket, or says how long to wait. Thread-safe.
  Decision attempt(std::string_view key);
  // Forgets the key (a successful sign-in clears its failures).
  void reset(std::string_view key);
  std::size_t tracked_keys() const;

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint updated;
  };
  void refill(Bucket& bucket, TimePoint now) const;
  void make_room(TimePoint now);

  const Clock& clock_;
  ThrottleRule rule_;
  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace faxbridge::api
