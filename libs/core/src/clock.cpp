#include "faxbridge/core/clock.hpp"

#include <cstdio>
#include <ctime>
#include <string>

namespace faxbridge {

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

int utc_year(TimePoint t) {
  auto days = std::chrono::floor<std::chrono::days>(t);
  return static_cast<int>(std::chrono::year_month_day(days).year());
}

std::string iso8601_utc(TimePoint t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  std::time_t secs = static_cast<std::time_t>(std::chrono::floor<std::chrono::seconds>(ms).count());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(((ms.count() % 1000) + 1000) % 1000));
  return buf;
}

TimePoint utc_time(int year, int month, int day, int hour, int minute, int second) {
  using namespace std::chrono;
  sys_days d = std::chrono::year{year} / std::chrono::month{static_cast<unsigned>(month)} /
               std::chrono::day{static_cast<unsigned>(day)};
  return TimePoint(d) + hours(hour) + minutes(minute) + seconds(second);
}

}  // namespace faxbridge
