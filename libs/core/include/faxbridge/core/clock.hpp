#pragma once
// Every decision that depends on the time asks a Clock, so tests can move time
// (retry intervals, leases, the year of a reference number) without sleeping.
#include <atomic>
#include <chrono>

namespace faxbridge {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  static SystemClock& instance();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void set(TimePoint t) { now_ = t.time_since_epoch().count(); }
  void advance(std::chrono::nanoseconds d) {
    now_ += std::chrono::duration_cast<TimePoint::duration>(d).count();
  }

 private:
  std::atomic<TimePoint::rep> now_;
};

// Calendar year in UTC, the year a reference number belongs to.
int utc_year(TimePoint t);
// "2026-11-25T06:30:00.123Z"
std::string iso8601_utc(TimePoint t);
// Builds a UTC time point from calendar fields (tests and fixtures).
TimePoint utc_time(int year, int month, int day, int hour = 0, int minute = 0, int second = 0);

}  // namespace faxbridge
