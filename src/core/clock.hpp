// Time for everything that compares times. Production uses SystemClock; tests
// inject a ManualClock and advance it instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace baton {

using Millis = std::chrono::milliseconds;
// Wall-clock instants at millisecond precision: what the database stores.
using Timestamp = std::chrono::time_point<std::chrono::system_clock, Millis>;

// Thread-safe: Now() may be called from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
  // A process-wide instance; lives for the whole program.
  static SystemClock& Instance();
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = FromUnixMillis(1'767'225'600'000))  // 2026-01-01
      : now_ms_(start.time_since_epoch().count()) {}
  Timestamp Now() const override { return Timestamp(Millis(now_ms_.load())); }
  void Advance(Millis d) { now_ms_ += d.count(); }
  void Set(Timestamp t) { now_ms_ = t.time_since_epoch().count(); }

  static Timestamp FromUnixMillis(std::int64_t ms) { return Timestamp(Millis(ms)); }

 private:
  std::atomic<std::int64_t> now_ms_;
};

inline std::int64_t ToUnixMillis(Timestamp t) {
  return t.time_since_epoch().count();
}
inline Timestamp FromUnixMillis(std::int64_t ms) {
  return Timestamp(Millis(ms));
}

// RFC 3339 in UTC with milliseconds: "2026-11-23T20:44:03.123Z".
std::string FormatTimestamp(Timestamp t);
// The UTC calendar day of t as "YYYY-MM-DD" (the unit of the daily turn quota).
std::string UtcDay(Timestamp t);

}  // namespace baton
