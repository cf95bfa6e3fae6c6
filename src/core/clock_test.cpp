#include "core/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "core/json_util.hpp"

namespace baton {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

TEST(ManualClock, DefaultStartIs2026) {
  ManualClock clock;
  EXPECT_EQ(ToUnixMillis(clock.Now()), 1'767'225'600'000);
  EXPECT_EQ(FormatTimestamp(clock.Now()), "2026-01-01T00:00:00.000Z");
}

TEST(ManualClock, StandsStillUntilAdvanced) {
  ManualClock clock(FromUnixMillis(1000));
  EXPECT_EQ(clock.Now(), clock.Now());
  EXPECT_EQ(ToUnixMillis(clock.Now()), 1000);
}

TEST(ManualClock, AdvanceAddsDuration) {
  ManualClock clock(FromUnixMillis(1000));
  clock.Advance(Millis(250));
  EXPECT_EQ(ToUnixMillis(clock.Now()), 1250);
  clock.Advance(seconds(2));
  EXPECT_EQ(ToUnixMillis(clock.Now()), 3250);
  clock.Advance(Millis(0));
  EXPECT_EQ(ToUnixMillis(clock.Now()), 3250);
  clock.Advance(Millis(-3250));
  EXPECT_EQ(ToUnixMillis(clock.Now()), 0);
}

TEST(ManualClock, SetJumpsBothWays) {
  ManualClock clock;
  const Timestamp later = FromUnixMillis(2'000'000'000'000);
  clock.Set(later);
  EXPECT_EQ(clock.Now(), later);
  const Timestamp earlier = FromUnixMillis(5);
  clock.Set(earlier);
  EXPECT_EQ(clock.Now(), earlier);
  clock.Advance(Millis(1));
  EXPECT_EQ(ToUnixMillis(clock.Now()), 6);
}

TEST(ManualClock, IsUsableThroughClockInterface) {
  ManualClock manual(FromUnixMillis(42));
  const Clock& clock = manual;
  manual.Advance(Millis(8));
  EXPECT_EQ(ToUnixMillis(clock.Now()), 50);
}

TEST(ManualClock, ConcurrentAdvancesAreNotLost) {
  ManualClock clock(FromUnixMillis(0));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 10'000; ++i) clock.Advance(Millis(1));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ToUnixMillis(clock.Now()), 40'000);
}

TEST(SystemClock, IsCloseToSystemTimeAndMonotonicEnough) {
  const auto before = std::chrono::system_clock::now();
  const Timestamp now = SystemClock::Instance().Now();
  const auto after = std::chrono::system_clock::now();
  EXPECT_GE(now, std::chrono::floor<Millis>(before));
  EXPECT_LE(now, std::chrono::ceil<Millis>(after));
  EXPECT_EQ(&SystemClock::Instance(), &SystemClock::Instance());
}

TEST(UnixMillis, RoundTrips) {
  for (std::int64_t ms :
       {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{1'709'210'096'789}}) {
    EXPECT_EQ(ToUnixMillis(FromUnixMillis(ms)), ms);
    EXPECT_EQ(ManualClock::FromUnixMillis(ms), FromUnixMillis(ms));
  }
}

TEST(FormatTimestamp, Epoch) {
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(Timestamp{}), "1970-01-01T00:00:00.000Z");
}

TEST(FormatTimestamp, MillisecondPrecision) {
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(1)), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(10)), "1970-01-01T00:00:00.010Z");
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(999)), "1970-01-01T00:00:00.999Z");
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(1000)), "1970-01-01T00:00:01.000Z");
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(86'399'999)), "1970-01-01T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(86'400'000)), "1970-01-02T00:00:00.000Z");
}

TEST(FormatTimestamp, LeapDays) {
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(1'709'210'096'789)), "2024-02-29T12:34:56.789Z");
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(951'782'400'000)), "2000-02-29T00:00:00.000Z");
  // 2100 is not a leap year: the day after Feb 28 is Mar 1.
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(4'107'542'399'999)), "2100-02-28T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(4'107'542'400'000)), "2100-03-01T00:00:00.000Z");
}

TEST(FormatTimestamp, BeforeEpochFloorsToPreviousDay) {
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(-86'400'000)), "1969-12-31T00:00:00.000Z");
}

TEST(FormatTimestamp, LastMillisecondOfYear9999) {
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(253'402'300'799'999)), "9999-12-31T23:59:59.999Z");
}

TEST(FormatTimestamp, ManualClockAdvanceShowsInString) {
  ManualClock clock;
  clock.Advance(hours(24 * 31 + 13) + std::chrono::minutes(7) + seconds(9) + Millis(4));
  EXPECT_EQ(FormatTimestamp(clock.Now()), "2026-02-01T13:07:09.004Z");
}

TEST(UtcDay, IsDatePartInUtc) {
  EXPECT_EQ(UtcDay(FromUnixMillis(0)), "1970-01-01");
  EXPECT_EQ(UtcDay(FromUnixMillis(1'709'210'096'789)), "2024-02-29");
  EXPECT_EQ(UtcDay(FromUnixMillis(-1)), "1969-12-31");
}

TEST(UtcDay, ChangesExactlyAtMidnight) {
  const Timestamp midnight = FromUnixMillis(1'767'225'600'000);  // 2026-01-01
  EXPECT_EQ(UtcDay(midnight - Millis(1)), "2025-12-31");
  EXPECT_EQ(UtcDay(midnight), "2026-01-01");
  EXPECT_EQ(UtcDay(midnight + hours(24) - Millis(1)), "2026-01-01");
  EXPECT_EQ(UtcDay(midnight + hours(24)), "2026-01-02");
}

TEST(ParseTimestamp, InvertsFormatTimestamp) {
  for (std::int64_t ms : {
           std::int64_t{0},
           std::int64_t{1},
           std::int64_t{999},
           std::int64_t{-1},
           std::int64_t{86'399'999},
           std::int64_t{951'782'400'000},
           std::int64_t{1'709'210'096'789},
           std::int64_t{1'767'225'600'000},
           std::int64_t{4'107'542'400'000},
           std::int64_t{253'402'300'799'999},
       }) {
    const Timestamp t = FromUnixMillis(ms);
    const std::string text = FormatTimestamp(t);
    auto parsed = json::ParseTimestamp(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().message;
    EXPECT_EQ(*parsed, t) << text;
  }
}

TEST(ParseTimestamp, InvertsFormatTimestampOverManyInstants) {
  // A stride that is coprime with days, seconds and milliseconds, so every field varies.
  for (std::int64_t ms = -5'000'000'000'000; ms < 5'000'000'000'000; ms += 7'777'777'777) {
    const Timestamp t = FromUnixMillis(ms);
    auto parsed = json::ParseTimestamp(FormatTimestamp(t));
    ASSERT_TRUE(parsed.ok()) << FormatTimestamp(t);
    ASSERT_EQ(*parsed, t) << FormatTimestamp(t);
  }
}

TEST(ParseTimestamp, FormatsBackToSameString) {
  for (const char* text :
       {"2024-02-29T12:34:56.789Z", "1999-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z"}) {
    auto parsed = json::ParseTimestamp(text);
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(FormatTimestamp(*parsed), text);
  }
}

TEST(ParseTimestamp, RejectsMalformedStrings) {
  for (const char* text : {
           "",
           "not a timestamp",
           "2026-01-01",
           "2026-01-01T00:00:00Z",           // no milliseconds
           "2026-01-01T00:00:00.000",        // no zone
           "2026-01-01T00:00:00.00Z",        // two-digit milliseconds
           "2026-01-01T00:00:00.0000Z",      // four-digit milliseconds
           "2026-01-01 00:00:00.000Z",       // space instead of T
           "2026-01-01T00:00:00.000+00:00",  // offset instead of Z
           "2026-01-01T00:00:00,000Z",       // comma
           "2026/01/01T00:00:00.000Z",       // slashes
           "2026-01-01T00:00:00.000Z ",      // trailing space
           " 2026-01-01T00:00:00.000Z",      // leading space
           "2026-1-01T00:00:00.000ZZ",       // one-digit month, padded back to length
           "2026-01-1T00:00:00.000ZZ",       // one-digit day, padded back to length
           "2026-01-01T0:00:00.000ZZ",       // one-digit hour, padded back to length
           "2026-+1-01T00:00:00.000Z",       // sign inside a field
           "2026-01-01T00:00:00.-01Z",       // negative milliseconds
           "2026-01-01T00:00: 0.000Z",       // space inside a field
           "+026-01-01T00:00:00.000Z",       // sign in the year
           "-001-01-01T00:00:00.000Z",       // negative year
           "2026-13-01T00:00:00.000Z",       // month 13
           "2026-00-01T00:00:00.000Z",       // month 0
           "2026-01-00T00:00:00.000Z",       // day 0
           "2026-01-32T00:00:00.000Z",       // day 32
           "2026-02-29T00:00:00.000Z",       // not a leap year
           "2100-02-29T00:00:00.000Z",       // century, not a leap year
           "2026-04-31T00:00:00.000Z",       // April has 30 days
           "2026-01-01T24:00:00.000Z",       // hour 24
           "2026-01-01T00:60:00.000Z",       // minute 60
           "2026-01-01T00:00:60.000Z",       // second 60 (FormatTimestamp never writes it)
           "2026-01-01T99:99:99.000Z",
           "2026-01-01T00:00:00.000z",  // lower-case zone: FormatTimestamp writes 'Z'
       }) {
    auto parsed = json::ParseTimestamp(text);
    if (parsed.ok()) {
      ADD_FAILURE() << "accepted '" << text << "' as " << FormatTimestamp(*parsed);
      continue;
    }
    EXPECT_EQ(parsed.code(), ErrorCode::kInvalidInput) << text;
  }
}

TEST(ParseTimestamp, RejectsEmbeddedNul) {
  const std::string text("2026-01-01T00:00:00.000Z\0", 25);
  EXPECT_FALSE(json::ParseTimestamp(text).ok());
  const std::string inner = std::string("2026-01-01T00:00:00") + '\0' + "000Z";
  ASSERT_EQ(inner.size(), 24u);
  EXPECT_FALSE(json::ParseTimestamp(inner).ok());
}

}  // namespace
}  // namespace baton
