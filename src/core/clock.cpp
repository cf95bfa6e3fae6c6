#include "core/clock.hpp"

#include <cstdio>

namespace baton {

Timestamp SystemClock::Now() const {
  return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

std::string FormatTimestamp(Timestamp t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd(days);
  const std::chrono::hh_mm_ss hms(t - days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()),
                int(hms.subseconds().count()));
  return buf;
}

std::string UtcDay(Timestamp t) {
  return FormatTimestamp(t).substr(0, 10);
}

}  // namespace baton
